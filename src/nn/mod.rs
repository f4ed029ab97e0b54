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
/// SIMD"`, `"SIMD128"`), or `"unfolded matrix products"` where they do not
/// apply (x86-64 without AVX-512, other CPUs).
pub(crate) fn convolution_kernels() -> &'static str {
    #[cfg(direct_kernels)]
    if direct::available() {
        return direct::KERNELS;
    }
    "unfolded matrix products"
}
