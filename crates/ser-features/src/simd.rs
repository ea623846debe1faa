//! Runtime SIMD dispatch: numeric kernels compiled for the widest instruction set the CPU has
//! (AVX2 + FMA on x86-64-v3 CPUs), chosen once per call by `pulp`, with no unsafe code.
//!
//! A kernel is a struct implementing [`Kernel`] with an `#[inline(always)]` `run`, and every
//! function `run` calls on its hot path is `#[inline(always)]` too, so that the whole loop is
//! compiled inside pulp's `#[target_feature]` function. (A closure does not work: its body is
//! reached through a `FnOnce::call_once` shim that the compiler keeps out of line, compiled
//! for the baseline instruction set.)
//!
//! The kernels keep a fixed order of floating-point operations (eight independent partial
//! sums, element-wise arithmetic), so their results are the same bit for bit on every CPU.

/// A loop to run with the widest SIMD the CPU has; implement `run` with `#[inline(always)]`.
pub(crate) trait Kernel {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `kernel` on the best instruction set the CPU offers.
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    pulp::Arch::new().dispatch(Run(kernel))
}

struct Run<K>(K);

impl<K: Kernel> pulp::WithSimd for Run<K> {
    type Output = K::Output;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        self.0.run()
    }
}

/// Whether `f32::mul_add` is one instruction on this CPU (FMA on x86-64; always on aarch64).
/// Where it is not, `mul_add` is a call into libm's software `fmaf`, and kernels should use an
/// equivalent form without it.
pub(crate) fn has_fma() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}
