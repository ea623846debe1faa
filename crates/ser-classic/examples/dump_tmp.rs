//! Temporary: dumps utterance vectors for a scikit-learn cross-check.
use ser_classic::{FeatureSpec, Pooling};
use ser_data::{BuildOptions, Corpus, CorpusOptions, Dataset, Protocol};
use ser_features::{FeatureConfig, FeatureSet};
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let corpus = Corpus::load("/work/shared/data/ravdess-16k".as_ref(), &CorpusOptions::default())?;
    let protocol = Protocol::default_for(corpus.kind);
    for preset in ["seed", "speech16k"] {
        let extraction = FeatureConfig::preset(preset)?;
        let dataset = Dataset::build(corpus.clone(), &extraction, &BuildOptions::default())?;
        let splits = dataset.splits(&protocol)?;
        let mut fold = vec![usize::MAX; dataset.len()];
        for s in &splits { for &i in &s.test { fold[i] = s.fold; } }
        let labels: Vec<usize> = (0..dataset.len()).map(|i| dataset.emotion(i).map(|e| e.index())).collect::<Result<_, _>>()?;
        for (name, set, pooling) in [("mfcc-mean", FeatureSet::Mfcc, Pooling::Mean), ("full-meanstd", FeatureSet::Full, Pooling::MeanStd)] {
            let spec = FeatureSpec::new(extraction.clone(), set, pooling);
            let vectors: Vec<Vec<f32>> = (0..dataset.len()).map(|i| spec.pool_slice(dataset.features(i).unwrap(), None).unwrap()).collect();
            let trimmed: Vec<usize> = (0..dataset.len()).map(|i| ser_classic::trailing_zero_frames(dataset.features(i).unwrap(), dataset.n_rows(), dataset.n_frames()).unwrap()).collect();
            let out = serde_json::json!({"x": vectors, "y": labels, "fold": fold, "padding": trimmed});
            std::fs::write(format!("/tmp/vec-{preset}-{name}.json"), out.to_string())?;
        }
    }
    Ok(())
}
