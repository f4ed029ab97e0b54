//! Speech endpoint detection and speech summary: pure state machines over the
//! VAD's 30 ms frame decisions (no model, no I/O).

mod endpoint;
mod runs;
mod summary;

pub use endpoint::EndpointDetector;
pub use runs::{SpeechRun, SpeechRuns};
pub use summary::{SpeechCounts, SpeechSummary};

/// Seconds per API frame.
pub const FRAME_SECONDS: f64 = 0.03;
