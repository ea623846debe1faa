//! Inference with a trained run: class probabilities for feature matrices.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use ser_models::{EmotionModel, ModelConfig, SerModel};

use crate::TrainError;

/// A trained model ready for inference: inference mode (dropout off, batch-norm running
/// statistics), no autodiff.
#[derive(Debug)]
pub struct Predictor {
    config: ModelConfig,
    model: SerModel,
    device: Device,
    batch_size: usize,
}

impl Predictor {
    /// Default number of items per forward pass.
    pub const DEFAULT_BATCH_SIZE: usize = 32;

    /// Loads the best weights of a run folder (or any folder written by
    /// [`ser_models::save_model`]) onto the flex CPU device.
    pub fn load(run_dir: &Path) -> Result<Self, TrainError> {
        Self::load_on(run_dir, &Device::flex())
    }

    /// As [`Predictor::load`], on `device`.
    pub fn load_on(run_dir: &Path, device: &Device) -> Result<Self, TrainError> {
        let device = device.clone().without_autodiff();
        let (config, model) = ser_models::load_model(run_dir, &device)?;
        Ok(Self::from_model(config, model.valid(), device))
    }

    /// Wraps an already built model (put into inference mode here).
    pub fn from_model(config: ModelConfig, model: SerModel, device: Device) -> Self {
        Self {
            config,
            model: model.valid(),
            device,
            batch_size: Self::DEFAULT_BATCH_SIZE,
        }
    }

    /// Items per forward pass (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The model configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Feature rows the model expects.
    pub fn n_features(&self) -> usize {
        self.model.n_features()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.model.n_classes()
    }

    /// Smallest number of frames accepted.
    pub fn min_frames(&self) -> usize {
        self.model.min_frames()
    }

    /// Softmax class probabilities of each item.
    ///
    /// Every item is a row-major `[n_features x n_frames]` matrix; `n_frames` is its length
    /// divided by [`Predictor::n_features`] and may differ between items (items of equal length
    /// are batched together). The result is in input order, one `n_classes` vector per item.
    pub fn predict_proba<S: AsRef<[f32]>>(&self, items: &[S]) -> Result<Vec<Vec<f32>>, TrainError> {
        let n_features = self.n_features();
        let mut by_frames: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            let values = item.as_ref();
            let n_frames = values.len() / n_features.max(1);
            if n_frames == 0 || n_frames * n_features != values.len() {
                return Err(TrainError::ItemShape {
                    split: "input".to_owned(),
                    index,
                    got_values: values.len(),
                    n_features,
                    n_frames: n_frames.max(1),
                });
            }
            if n_frames < self.min_frames() {
                return Err(ser_models::ModelError::InputShape {
                    expected_features: n_features,
                    got_features: n_features,
                    min_frames: self.min_frames(),
                    got_frames: n_frames,
                }
                .into());
            }
            if let Some(position) = values.iter().position(|v| !v.is_finite()) {
                return Err(TrainError::NonFiniteFeature {
                    split: "input".to_owned(),
                    index,
                    position,
                    value: values[position],
                });
            }
            by_frames.entry(n_frames).or_default().push(index);
        }

        let n_classes = self.n_classes();
        let mut result = vec![Vec::new(); items.len()];
        for (n_frames, indices) in by_frames {
            for batch in indices.chunks(self.batch_size) {
                let mut values = Vec::with_capacity(batch.len() * n_features * n_frames);
                for &index in batch {
                    values.extend_from_slice(items[index].as_ref());
                }
                let x = Tensor::<3>::from_data(
                    TensorData::new(values, [batch.len(), n_features, n_frames]),
                    &self.device,
                );
                let probabilities = softmax(self.model.forward(x), 1)
                    .try_into_data()
                    .map_err(|err| TrainError::Readback {
                        what: "probabilities",
                        message: err.to_string(),
                    })?
                    .try_into_vec_as::<f32>()
                    .map_err(|err| TrainError::Readback {
                        what: "probabilities",
                        message: format!("{err:?}"),
                    })?;
                for (&index, row) in batch.iter().zip(probabilities.chunks_exact(n_classes)) {
                    result[index] = row.to_vec();
                }
            }
        }
        Ok(result)
    }

    /// The most probable class of each item (see [`Predictor::predict_proba`]).
    pub fn predict<S: AsRef<[f32]>>(&self, items: &[S]) -> Result<Vec<usize>, TrainError> {
        Ok(self
            .predict_proba(items)?
            .iter()
            .map(|probabilities| argmax(probabilities))
            .collect())
    }
}

/// Index of the largest value (the first on ties; 0 for an empty slice).
fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |(best, best_value), (index, &value)| {
                if value > best_value {
                    (index, value)
                } else {
                    (best, best_value)
                }
            },
        )
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ser_models::ModelPreset;

    fn predictor() -> Predictor {
        let device = Device::flex();
        device.seed(3);
        let config = ModelConfig::preset(ModelPreset::Cnn, 4, 3);
        let model = config.init(&device).unwrap();
        Predictor::from_model(config, model, device).with_batch_size(2)
    }

    #[test]
    fn probabilities_sum_to_one_in_input_order() {
        let predictor = predictor();
        let items: Vec<Vec<f32>> = (0..5)
            .map(|i| {
                (0..4 * (16 + 8 * (i % 2)))
                    .map(|v| (v * (i + 1)) as f32 * 0.01)
                    .collect()
            })
            .collect();
        let all = predictor.predict_proba(&items).unwrap();
        assert_eq!(all.len(), 5);
        for (item, probabilities) in items.iter().zip(&all) {
            assert_eq!(probabilities.len(), 3);
            assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            // Same answer alone as in a mixed-length batch.
            let alone = predictor.predict_proba(&[item]).unwrap();
            for (a, b) in alone[0].iter().zip(probabilities) {
                assert!((a - b).abs() < 1e-5);
            }
        }
        let classes = predictor.predict(&items).unwrap();
        for (class, probabilities) in classes.iter().zip(&all) {
            assert_eq!(*class, argmax(probabilities));
        }
    }

    #[test]
    fn malformed_items_are_errors() {
        let predictor = predictor();
        assert!(matches!(
            predictor.predict_proba(&[vec![0.0_f32; 4 * 16 + 1]]),
            Err(TrainError::ItemShape { index: 0, .. })
        ));
        assert!(predictor.predict_proba(&[vec![0.0_f32; 4]]).is_err()); // 1 frame < min
        let mut bad = vec![0.0_f32; 4 * 16];
        bad[5] = f32::INFINITY;
        assert!(matches!(
            predictor.predict_proba(&[bad]),
            Err(TrainError::NonFiniteFeature { position: 5, .. })
        ));
        assert!(predictor.predict_proba::<Vec<f32>>(&[]).unwrap().is_empty());
    }

    #[test]
    fn argmax_prefers_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
