//! Times one training step (forward + backward + Adam) and inference of a model preset on the
//! flex CPU backend, as the trainer runs them.
//!
//! `cargo run --release -p ser-trainer --example step_timing -- [preset] [batch] [n_features] [n_frames] [steps]`
//!
//! Defaults: `cnn-lstm-original 32 174 128 8`. Prints the minimum and median over `steps`
//! timed steps after two warm-up steps (the minimum is the least disturbed by other load).

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use ser_models::{EmotionModel, ModelConfig, ModelPreset};

fn summary(mut seconds: Vec<f64>) -> String {
    seconds.sort_by(f64::total_cmp);
    let min = seconds.first().copied().unwrap_or(f64::NAN);
    let median = seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN);
    format!("min {:.1} ms, median {:.1} ms", min * 1e3, median * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset: ModelPreset = args
        .first()
        .map_or("cnn-lstm-original", String::as_str)
        .parse()?;
    let batch: usize = args.get(1).map_or(Ok(32), |s| s.parse())?;
    let n_features: usize = args.get(2).map_or(Ok(174), |s| s.parse())?;
    let n_frames: usize = args.get(3).map_or(Ok(128), |s| s.parse())?;
    let steps: usize = args.get(4).map_or(Ok(8), |s| s.parse())?;
    let n_classes = 8;

    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = ModelConfig::preset(preset, n_features, n_classes).init(&device)?;
    println!(
        "{preset}: {} parameters, batch {batch} x {n_features} x {n_frames}",
        model.num_params()
    );
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let x = Tensor::<3>::random(
        [batch, n_features, n_frames],
        Distribution::Default,
        &device,
    );
    let labels: Vec<i64> = (0..batch as i64).map(|i| i % n_classes as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch]), &device);

    let (mut forward, mut backward, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for step in 0..steps + 2 {
        let start = Instant::now();
        let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
        let t_forward = start.elapsed().as_secs_f64();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t_backward = start.elapsed().as_secs_f64() - t_forward;
        model = optimizer.step(1e-3, model, grads);
        let _: f32 = loss.into_scalar();
        if step >= 2 {
            forward.push(t_forward);
            backward.push(t_backward);
            total.push(start.elapsed().as_secs_f64());
        }
    }
    println!("train step (forward + backward + Adam): {}", summary(total));
    println!("  forward:  {}", summary(forward));
    println!("  backward: {}", summary(backward));

    let eval = model.valid();
    let plain = Device::flex();
    for infer_batch in [1, batch] {
        let x = Tensor::<3>::random(
            [infer_batch, n_features, n_frames],
            Distribution::Default,
            &plain,
        );
        let _ = eval.forward(x.clone()).into_data();
        let times: Vec<f64> = (0..steps)
            .map(|_| {
                let start = Instant::now();
                let _ = eval.forward(x.clone()).into_data();
                start.elapsed().as_secs_f64()
            })
            .collect();
        println!("inference batch {infer_batch}: {}", summary(times));
    }
    Ok(())
}
