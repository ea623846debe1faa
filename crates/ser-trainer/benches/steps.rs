//! Training-step and inference timings of the original project's deep models on the flex CPU
//! backend, as `cargo xtask bench-train` compares them with PyTorch.
//!
//! ```text
//! cargo bench --workspace --bench steps -- [--steps N] [--model NAME]...
//! ```
//! Models (the original's inputs, 128 frames): `cnn-lstm-original` on the 174 rows; `lstm`,
//! `gru`, `rnn`, `cnn` on the 40 MFCC rows. For each: one training step at batch 32 (forward,
//! cross-entropy, backward, Adam), inference at batch 1 and 32 (no autodiff). Prints one JSON
//! object per model with the median milliseconds over N steps (default 8) after 2 warm-ups.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use ser_models::{EmotionModel, ModelConfig, ModelPreset};

const N_CLASSES: usize = 8;
const N_FRAMES: usize = 128;
const BATCH: usize = 32;
/// (model, input rows): the original's pairing.
const MODELS: [(&str, usize); 5] = [
    ("cnn-lstm-original", 174),
    ("lstm", 40),
    ("gru", 40),
    ("rnn", 40),
    ("cnn", 40),
];

fn median_ms(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    (seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN) * 1e4).round() / 10.0
}

fn time(steps: usize, mut f: impl FnMut()) -> f64 {
    f();
    f();
    median_ms(
        (0..steps)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn bench(
    name: &str,
    n_features: usize,
    steps: usize,
) -> Result<String, Box<dyn std::error::Error>> {
    let preset: ModelPreset = name.parse()?;
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = Some(ModelConfig::preset(preset, n_features, N_CLASSES).init(&device)?);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let x = Tensor::<3>::random(
        [BATCH, n_features, N_FRAMES],
        Distribution::Default,
        &device,
    );
    let labels: Vec<i64> = (0..BATCH as i64).map(|i| i % N_CLASSES as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [BATCH]), &device);
    let train_ms = time(steps, || {
        if let Some(m) = model.take() {
            let loss = loss_fn.forward(m.forward(x.clone()), y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            let m = optimizer.step(1e-3, m, grads);
            let _: f32 = loss.into_scalar();
            model = Some(m);
        }
    });
    let eval = model.ok_or("model lost")?.valid();
    let plain = Device::flex();
    let mut infer = Vec::new();
    for batch in [1, BATCH] {
        let x = Tensor::<3>::random([batch, n_features, N_FRAMES], Distribution::Default, &plain);
        infer.push(time(steps, || {
            let _ = eval.forward(x.clone()).into_data();
        }));
    }
    Ok(format!(
        "{{\"tool\": \"burn-flex\", \"model\": \"{name}\", \"n_features\": {n_features}, \"n_frames\": {N_FRAMES}, \"train_step_b32_ms\": {train_ms}, \"infer_b1_ms\": {}, \"infer_b32_ms\": {}}}",
        infer[0], infer[1]
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut steps = 8;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--steps" => steps = it.next().ok_or("--steps needs a value")?.parse()?,
            "--model" => only.push(it.next().ok_or("--model needs a value")?.clone()),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    for (name, n_features) in MODELS {
        if only.is_empty() || only.iter().any(|m| m == name) {
            println!("{}", bench(name, n_features, steps)?);
        }
    }
    Ok(())
}
