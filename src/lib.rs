//! voiceport: an offline re-implementation of a voice server's streaming API.
//!
//! Layers, top to bottom (arrows only point down):
//! - faces: `server` (native WebSocket + REST) and `wasm` (browser worker);
//! - [`protocol`]: the transport-agnostic [`protocol::Session`];
//! - engines: [`audio`] (input → 16 kHz), [`vad`] (Silero), [`speech`]
//!   (endpoint, summary), [`voice`]; [`models`] reads the shared networks,
//!   whose layers (`nn`) are written out from the ONNX exports.

pub mod audio;
pub mod models;
mod nn;
pub mod protocol;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
pub mod service;
pub mod speech;
pub mod vad;
pub mod voice;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
