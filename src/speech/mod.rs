//! Speech endpoint detection, speech summary and speech segments: pure state machines over the
//! VAD's 30 ms frame decisions (no model, no I/O).

mod endpoint;
mod runs;
mod segments;
mod summary;

pub use endpoint::EndpointDetector;
pub use runs::{SpeechRun, SpeechRuns};
pub use segments::{SegmentEvent, SegmentOptions, SpeechSegmenter};
pub use summary::{SpeechCounts, SpeechSummary};

/// Seconds per API frame.
pub const FRAME_SECONDS: f64 = 0.03;
