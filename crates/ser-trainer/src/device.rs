//! Choosing where training and inference run.
//!
//! The CPU (burn's flex backend) is always there. Two GPU routes are off-by-default cargo
//! features, never built by CI:
//! - `cuda` (`cargo build --release --features ser-cli/cuda`): burn-cuda's build script
//!   downloads an LLVM bundle, so it does not build on machines without internet access;
//! - `wgpu` (`cargo build --release --features ser-cli/wgpu`): burn's wgpu backend (Vulkan,
//!   Metal, DirectX 12 or WebGPU, shaders compiled at run time), which builds from the crate
//!   registry alone. `wgpu:cpu` selects a software adapter (Mesa's lavapipe), which runs the
//!   GPU code path on a machine without a GPU.

use burn::tensor::Device;

use crate::TrainError;

/// Parses a device name: `cpu`; `cuda` / `cuda:N` in builds with the `cuda` feature; `wgpu`
/// (the adapter wgpu prefers), `wgpu:N` (discrete GPU N) or `wgpu:cpu` (a software adapter) in
/// builds with the `wgpu` feature.
///
/// # Errors
/// [`TrainError::InvalidConfig`] for unknown names, for a backend this build lacks, and for a
/// wgpu adapter that cannot be opened.
pub fn parse_device(name: &str) -> Result<Device, TrainError> {
    if name == "cpu" {
        return Ok(Device::flex());
    }
    if let Some(rest) = name.strip_prefix("wgpu") {
        return wgpu(name, rest);
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
                "unknown device {name:?} (known: cpu, cuda, cuda:N, wgpu, wgpu:N, wgpu:cpu)"
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

#[cfg(feature = "wgpu")]
fn wgpu(name: &str, rest: &str) -> Result<Device, TrainError> {
    use burn::tensor::{DeviceKind, Tensor};
    let kind = match rest {
        "" => DeviceKind::DefaultDevice,
        ":cpu" => DeviceKind::Cpu,
        _ => match rest.strip_prefix(':').and_then(|n| n.parse::<usize>().ok()) {
            Some(index) => DeviceKind::DiscreteGpu(index),
            None => {
                return Err(TrainError::config(format!(
                    "device {name:?}: expected wgpu, wgpu:N or wgpu:cpu"
                )));
            }
        },
    };
    let device = Device::wgpu(kind);
    // The runtime opens the adapter on first use and panics when there is none: open it here,
    // once, and turn that into an error.
    let probe = device.clone();
    // Quiet while probing: the runtime's panic message is replaced by the error below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened =
        std::panic::catch_unwind(move || Tensor::<1>::zeros([1], &probe).into_scalar::<f32>());
    std::panic::set_hook(hook);
    opened.map_err(|_| {
        TrainError::config(format!(
            "device {name:?}: no usable wgpu adapter (a GPU driver with Vulkan, Metal or \
                 DirectX 12; without a GPU, Mesa's lavapipe gives wgpu:cpu)"
        ))
    })?;
    Ok(device)
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(name: &str, _rest: &str) -> Result<Device, TrainError> {
    Err(TrainError::config(format!(
        "device {name:?}: this build has no wgpu support; rebuild with \
         `cargo build --release --features ser-cli/wgpu` (builds offline)"
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
        #[cfg(not(feature = "wgpu"))]
        {
            let e = parse_device("wgpu:cpu").unwrap_err().to_string();
            assert!(e.contains("no wgpu support"), "{e}");
        }
    }
}
