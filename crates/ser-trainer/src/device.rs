//! Choosing where training and inference run.
//!
//! The CPU (burn's flex backend) is always there. CUDA needs the off-by-default `cuda` cargo
//! feature (`cargo build --release --features ser-cli/cuda`): burn-cuda's build script
//! downloads an LLVM bundle, so it does not build on machines without internet access, and CI
//! never builds it.

use burn::tensor::Device;

use crate::TrainError;

/// Parses a device name: `cpu`, or `cuda` / `cuda:N` in builds with the `cuda` feature.
///
/// # Errors
/// [`TrainError::InvalidConfig`] for unknown names and for `cuda` in a build without it.
pub fn parse_device(name: &str) -> Result<Device, TrainError> {
    if name == "cpu" {
        return Ok(Device::flex());
    }
    let index = match name.strip_prefix("cuda") {
        Some("") => 0,
        Some(rest) => rest
            .strip_prefix(':')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                TrainError::config(format!("device {name:?}: expected cuda or cuda:N"))
            })?,
        None => {
            return Err(TrainError::config(format!(
                "unknown device {name:?} (known: cpu, cuda, cuda:N)"
            )));
        }
    };
    cuda(index)
}

#[cfg(feature = "cuda")]
fn cuda(index: usize) -> Result<Device, TrainError> {
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(index: usize) -> Result<Device, TrainError> {
    Err(TrainError::config(format!(
        "device cuda:{index}: this build has no CUDA support; rebuild with \
         `cargo build --release --features ser-cli/cuda` (needs internet access at build time)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_or_explain() {
        assert!(parse_device("cpu").is_ok());
        for bad in ["gpu", "cuda:x", "cuda0", ""] {
            let e = parse_device(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        #[cfg(not(feature = "cuda"))]
        {
            let e = parse_device("cuda:1").unwrap_err().to_string();
            assert!(e.contains("no CUDA support"), "{e}");
        }
    }
}
