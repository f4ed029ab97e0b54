//! voiceport: an offline re-implementation of a voice server's streaming API.
//!
//! Layers, top to bottom (arrows only point down):
//! - faces: `server` (native WebSocket + REST) and `wasm` (browser worker);
//! - [`protocol`]: the transport-agnostic [`protocol::Session`];
//! - engines: [`audio`] (input → 16 kHz), [`vad`] (Silero), [`speech`]
//!   (endpoint, summary); [`models`] builds the shared plans.

pub mod audio;
pub mod models;
pub mod protocol;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
pub mod service;
pub mod speech;
pub mod vad;
pub mod voice;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
