//! Building blocks of the two models, written out from their ONNX exports
//! instead of run by a general graph runtime: layers over plain `f32` buffers
//! and the reading of their parameters from the ONNX protobuf.

mod direct;
pub(crate) mod layers;
pub(crate) mod lstm;
pub(crate) mod onnx;
mod onnx_proto;

/// The instructions the speaker network's convolutions run on here (for
/// logs and diagnostics): the direct kernels' (`"AVX-512"`, `"relaxed
/// SIMD"`, `"SIMD128"`; `"AVX-512, BF16 at Precision::Bf16"` where the CPU
/// multiplies bfloat16 too), or `"unfolded matrix products"` where they do
/// not apply (x86-64 without AVX-512, other CPUs).
pub(crate) fn convolution_kernels() -> &'static str {
    #[cfg(direct_kernels)]
    if direct::available() {
        if Precision::Bf16.here() == Precision::Bf16 {
            return "AVX-512, BF16 at Precision::Bf16";
        }
        return direct::KERNELS;
    }
    "unfolded matrix products"
}

/// How the speaker network's convolutions multiply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Precision {
    /// In `f32`, matching onnxruntime up to the order of the sums.
    #[default]
    Exact,
    /// Inputs and weights rounded to bfloat16 (8 significant bits),
    /// products summed in `f32` — where the CPU multiplies bfloat16
    /// (x86-64 with AVX-512 BF16); exactly elsewhere. Its convolutions run
    /// in about half the time.
    Bf16,
}

impl Precision {
    /// The precision that runs on this CPU when `self` is asked for.
    pub(crate) fn here(self) -> Self {
        #[cfg(direct_kernels)]
        if self == Self::Bf16 && direct::bf16_available() {
            return self;
        }
        Self::Exact
    }
}
