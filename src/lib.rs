//! voiceport: an offline re-implementation of a voice server's streaming API.
//!
//! Layers, top to bottom (arrows only point down):
//! - faces: [`server`] (native WebSocket + REST) and `wasm` (browser worker);
//! - [`protocol`]: the transport-agnostic `Session`;
//! - engines: [`audio`] (input → 16 kHz), [`vad`] (Silero), [`speech`]
//!   (endpoint, summary).

pub mod audio;
pub mod vad;
