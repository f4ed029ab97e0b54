use thiserror::Error;

/// Why the VAD could not be built or run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VadError {
    /// The model bytes could not be read (wrong file, corrupt, wrong shapes).
    #[error("VAD model rejected: {0}")]
    InvalidModel(String),
}

impl From<crate::nn::onnx::InvalidModel> for VadError {
    fn from(error: crate::nn::onnx::InvalidModel) -> Self {
        Self::InvalidModel(error.0)
    }
}
