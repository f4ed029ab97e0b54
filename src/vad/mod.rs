//! Voice activity detection: Silero VAD v6 probabilities, then 30 ms decisions.
//!
//! [`SileroModel`] is the immutable, shareable network (read once per process
//! or worker); [`VadStream`] is the small per-stream state that turns 16 kHz samples
//! into the API's 30 ms speech/non-speech frames.

mod error;
mod frames;
mod silero;
mod stream;

pub use error::VadError;
pub use frames::{
    API_FRAME_MS, API_FRAME_SAMPLES, FrameDecider, Hysteresis, SPEECH_TAIL_MS, ScoredFrame,
};
pub use silero::{MODEL_FRAME_SAMPLES, SileroModel, SileroStream};
pub use stream::{RecordingDecisions, VadStream, frame_decisions};
