use thiserror::Error;

/// Why the VAD could not be built or run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VadError {
    /// The model bytes could not be read or planned (wrong file, corrupt, wrong shapes).
    #[error("VAD model rejected: {0}")]
    InvalidModel(String),
    /// The model failed while running a frame.
    #[error("VAD inference failed: {0}")]
    Inference(String),
}
