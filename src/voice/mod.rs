//! Voice engines: the fbank front-end, CAM++ embeddings, voice templates,
//! matching and the verify stream. Plain Rust, no I/O.

mod campplus;
mod engine;
mod error;
mod fbank;
mod matching;
mod quality;
mod template;
mod verify;

pub use campplus::{CamPlusModel, EMBEDDING_DIM};
pub use engine::{
    MIN_ENROLL_SPEECH_SECONDS, SPEAKER_MODEL_ID, VoiceEngine, WINDOW_FRAMES, embedding_windows,
    select_speech,
};
pub use error::VoiceError;
pub use fbank::{FBANK_BINS, FRAME_LENGTH, FRAME_SHIFT, Fbank, Features};
pub use matching::{
    CALIBRATION_OFFSET, CALIBRATION_SLOPE, MatchResult, match_templates, probability,
};
pub use quality::{MAX_SNR_DB, VoiceQuality};
pub use template::{TEMPLATE_VERSION, TemplateError, VoiceTemplate, dot, normalized};
pub use verify::{
    AudioInterval, MAX_VERIFY_SECONDS, MIN_VERIFY_SPEECH_SECONDS, VERIFY_HOP_SECONDS, VerifyStream,
    VerifyStreamResult,
};
