//! Savitzky-Golay derivatives along time, as `librosa.feature.delta(data, width, order,
//! mode="interp")`, which is `scipy.signal.savgol_filter(data, width, polyorder=order,
//! deriv=order, mode="interp")`.
//!
//! Interior frames use the least-squares derivative of a degree-`order` polynomial fitted to
//! the `width` frames centred on them; the first and last `width / 2` frames use the polynomial
//! fitted to the first or last `width` frames (scipy's `_fit_edge`).

/// A planned Savitzky-Golay derivative filter.
#[derive(Debug, Clone)]
pub struct SavGol {
    width: usize,
    /// Weights for an interior frame, over offsets `-half..=half`.
    interior: Vec<f64>,
    /// `edge[j]`: weights over frames `0..width` giving the derivative at frame `j`
    /// of the edge window (`j < half` for the left edge, `j > half` for the right).
    edge: Vec<Vec<f64>>,
}

impl SavGol {
    /// Plans a filter of odd `width` for derivative `order` (polynomial degree = `order`).
    pub fn new(width: usize, order: usize) -> Self {
        let half = (width / 2) as f64;
        let centred: Vec<f64> = (0..width).map(|i| i as f64 - half).collect();
        let interior = derivative_weights(&centred, order, order, 0.0);
        let positions: Vec<f64> = (0..width).map(|i| i as f64).collect();
        let edge = (0..width)
            .map(|j| derivative_weights(&positions, order, order, j as f64))
            .collect();
        Self {
            width,
            interior,
            edge,
        }
    }

    /// The window width in frames; inputs need at least this many frames.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Filters one row of `x.len() >= width` frames into `out`.
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        let n = x.len();
        let w = self.width;
        let half = w / 2;
        debug_assert!(n >= w && out.len() == n);
        crate::simd::dispatch(Interior {
            weights: &self.interior,
            x,
            out: &mut out[half..n - half],
        });
        let dot = |frames: &[f32], weights: &[f64]| -> f32 {
            frames
                .iter()
                .zip(weights)
                .map(|(&v, c)| f64::from(v) * c)
                .sum::<f64>() as f32
        };
        for j in 0..half {
            out[j] = dot(&x[..w], &self.edge[j]);
            out[n - w + half + 1 + j] = dot(&x[n - w..], &self.edge[half + 1 + j]);
        }
    }
}

/// The interior frames: `out[i] = sum_j x[i + j] * weights[j]`, summed in f64 in the order of
/// `j` exactly as `Iterator::sum` would for each frame, but vectorised across frames (blocks of
/// frames accumulate tap by tap), so the result is the same bit for bit.
///
/// # Shapes
/// `x`: `n` frames; `weights`: `w` taps; `out`: `n - w + 1` frames.
struct Interior<'a> {
    weights: &'a [f64],
    x: &'a [f32],
    out: &'a mut [f32],
}

impl crate::simd::Kernel for Interior<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        const BLOCK: usize = 64;
        // The value `Iterator::sum` starts from (its sign of zero matters for an all-zero sum).
        let zero: f64 = std::iter::empty::<f64>().sum();
        for (b, out) in self.out.chunks_mut(BLOCK).enumerate() {
            let mut acc = [zero; BLOCK];
            let acc = &mut acc[..out.len()];
            for (j, &c) in self.weights.iter().enumerate() {
                let x = &self.x[b * BLOCK + j..][..acc.len()];
                for (a, &v) in acc.iter_mut().zip(x) {
                    *a += f64::from(v) * c;
                }
            }
            for (o, &a) in out.iter_mut().zip(acc.iter()) {
                *o = a as f32;
            }
        }
    }
}

/// Weights `c` such that `sum_i c[i] * y[i]` is the `deriv`-th derivative at `at` of the
/// least-squares polynomial of degree `degree` through the points `(positions[i], y[i])`.
///
/// Solves the normal equations `(V^T V) h = g` with `g_j = d^deriv/dt^deriv t^j` at `at`,
/// then `c = V h` (the same maths as `numpy.polyfit` followed by `polyder` and `polyval`).
fn derivative_weights(positions: &[f64], degree: usize, deriv: usize, at: f64) -> Vec<f64> {
    let p = degree + 1;
    let vander = |t: f64, j: usize| t.powi(j as i32);
    let mut a = vec![vec![0.0; p]; p];
    for (r, row) in a.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = positions.iter().map(|&t| vander(t, r) * vander(t, c)).sum();
        }
    }
    let g: Vec<f64> = (0..p)
        .map(|j| {
            if j < deriv {
                0.0
            } else {
                let falling: f64 = (j - deriv + 1..=j).map(|k| k as f64).product();
                falling * at.powi((j - deriv) as i32)
            }
        })
        .collect();
    let h = solve(a, g);
    positions
        .iter()
        .map(|&t| (0..p).map(|j| vander(t, j) * h[j]).sum())
        .collect()
}

/// Gaussian elimination with partial pivoting for the small symmetric positive-definite
/// systems above (at most 3 x 3 here).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorised_interior_is_the_per_frame_sum_bit_for_bit() {
        // Lengths around the block size; values with exact zeros of both signs.
        for n in [9, 10, 63, 72, 73, 136, 200] {
            let x: Vec<f32> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    3 => -0.0,
                    _ => ((i * 7919 % 1013) as f32 - 500.0) * 0.37,
                })
                .collect();
            for order in [1, 2] {
                let f = SavGol::new(9, order);
                let mut out = vec![f32::NAN; n];
                f.apply(&x, &mut out);
                for i in 4..n - 4 {
                    let expect = x[i - 4..=i + 4]
                        .iter()
                        .zip(&f.interior)
                        .map(|(&v, c)| f64::from(v) * c)
                        .sum::<f64>() as f32;
                    assert_eq!(
                        out[i].to_bits(),
                        expect.to_bits(),
                        "n {n}, order {order}, frame {i}"
                    );
                }
            }
        }
        // An all-zero window keeps the sign `Iterator::sum` gives it.
        let f = SavGol::new(9, 1);
        let x = vec![-0.0_f32; 9];
        let mut out = vec![f32::NAN; 9];
        f.apply(&x, &mut out);
        let expect = x
            .iter()
            .zip(&f.interior)
            .map(|(&v, c)| f64::from(v) * c)
            .sum::<f64>() as f32;
        assert_eq!(out[4].to_bits(), expect.to_bits());
    }

    #[test]
    fn first_order_interior_weights_are_k_over_60() {
        let f = SavGol::new(9, 1);
        for (k, c) in (-4..=4).zip(&f.interior) {
            assert!((c - f64::from(k) / 60.0).abs() < 1e-12);
        }
    }

    #[test]
    fn derivatives_of_polynomials_are_exact() {
        // A line has slope 0.5 everywhere; a parabola t^2 has second derivative 2 everywhere.
        let line: Vec<f32> = (0..20).map(|t| 0.5 * t as f32 + 3.0).collect();
        let parabola: Vec<f32> = (0..20).map(|t| (t * t) as f32 * 0.01).collect();
        let mut out = vec![0.0; 20];
        SavGol::new(9, 1).apply(&line, &mut out);
        assert!(out.iter().all(|v| (v - 0.5).abs() < 1e-5), "{out:?}");
        SavGol::new(9, 2).apply(&parabola, &mut out);
        assert!(out.iter().all(|v| (v - 0.02).abs() < 1e-5), "{out:?}");
    }

    #[test]
    fn minimum_length_input_is_all_edges() {
        let x: Vec<f32> = (0..9).map(|t| (t as f32).sin()).collect();
        let mut out = vec![f32::NAN; 9];
        SavGol::new(9, 1).apply(&x, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
