//! Temporary: where does the SVM time go?
use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa::prelude::Transformer;
use linfa_svm::Svm;
use ndarray::{Array1, Array2};
use std::time::Instant;
fn main() {
    let d: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("/tmp/vec-seed-full-meanstd.json").unwrap()).unwrap();
    let x: Vec<Vec<f32>> = serde_json::from_value(d["x"].clone()).unwrap();
    let y: Vec<usize> = serde_json::from_value(d["y"].clone()).unwrap();
    let fold: Vec<usize> = serde_json::from_value(d["fold"].clone()).unwrap();
    let train: Vec<usize> = (0..x.len()).filter(|&i| fold[i] != 0).collect();
    let xs: Vec<Vec<f32>> = train.iter().map(|&i| x[i].clone()).collect();
    let ys: Vec<usize> = train.iter().map(|&i| y[i]).collect();
    let s = ser_classic::Standardizer::fit(&xs).unwrap();
    let z = s.transform(&xs).unwrap();
    let n = z.len(); let dim = z[0].len();
    let rec = Array2::from_shape_fn((n, dim), |(i, j)| f64::from(z[i][j]));
    let gamma = 1.0 / dim as f64;
    let t = Instant::now();
    let sq: Vec<f64> = rec.outer_iter().map(|r| r.dot(&r)).collect();
    let g = rec.dot(&rec.t());
    let k = Array2::from_shape_fn((n, n), |(i, j)| (-gamma * (sq[i] + sq[j] - 2.0 * g[(i, j)]).max(0.0)).exp());
    println!("gram kernel {:.3} s {}", t.elapsed().as_secs_f64(), k[(0,1)]);
    let t = Instant::now();
    let kp = linfa_kernel::Kernel::params().method(linfa_kernel::KernelMethod::Gaussian(1.0/gamma)).transform(&rec.view());
    println!("linfa kernel {:.3} s", t.elapsed().as_secs_f64()); drop(kp);
    for class in [0, 4] {
        for tol in [1e-3, 1e-7] {
            let targets: Array1<bool> = ys.iter().map(|&l| l == class).collect();
            let t = Instant::now();
            let svm: Svm<f64, bool> = Svm::<f64, bool>::params().pos_neg_weights(1.0, 1.0).gaussian_kernel(1.0 / gamma).eps(tol)
                .fit(&DatasetBase::new(rec.view(), targets.view())).unwrap();
            println!("class {class} tol {tol}: fit {:.3} s, {svm}", t.elapsed().as_secs_f64());
        }
    }
}
