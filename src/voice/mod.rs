//! Voice engines: the fbank front-end, CAM++ embeddings, voice templates
//! and matching. Plain Rust, no I/O (the verify stream's cadence is the
//! protocol's: `crate::protocol::VerifyStream`).

mod band;
mod bytes;
mod campplus;
mod cohort;
mod engine;
mod error;
mod fbank;
mod matching;
mod quality;
mod template;

pub use band::Band;
pub use campplus::{CamPlusModel, EMBEDDING_DIM, FrameStatistics, FrontEndColumns};
pub use cohort::{COHORT_TOP_SHARE, Cohort, CohortStatistics};
pub use engine::{
    EmbeddingSum, MIN_ENROLL_SPEECH_SECONDS, SPEAKER_MODEL, SPEAKER_MODEL_ID, SpeechPart,
    VoiceEngine, WINDOW_FRAMES, embedding_window, embedding_windows, enrollment_seconds,
    select_speech, window_count,
};
pub use error::VoiceError;
pub use fbank::{FBANK_BINS, FRAME_LENGTH, FRAME_SHIFT, Fbank, Features};
pub use matching::{
    CROSS_BAND_CALIBRATION, Calibration, MatchResult, NARROW_BAND_CALIBRATION,
    WIDE_BAND_CALIBRATION, match_templates,
};
pub use quality::{
    MAX_CLIPPED_FRACTION, MAX_SNR_DB, MIN_SNR_DB, MIN_SPEECH_LEVEL_DBFS, QualityProblem,
    VoiceQuality,
};
pub use template::{
    MAX_TEMPLATE_SPEECH_SECONDS, TEMPLATE_VERSION, TemplateError, TemplateModel, VoiceTemplate,
    dot, normalized,
};
