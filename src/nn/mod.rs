//! Building blocks of the two models, written out from their ONNX exports
//! instead of run by a general graph runtime: layers over plain `f32` buffers
//! and the reading of their parameters from the ONNX protobuf.

mod direct;
pub(crate) mod layers;
pub(crate) mod lstm;
pub(crate) mod onnx;
mod onnx_proto;
