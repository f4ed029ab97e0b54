use thiserror::Error;

use super::TemplateError;

/// Why a voice operation failed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum VoiceError {
    /// The speaker model bytes could not be read.
    #[error("speaker model rejected: {0}")]
    InvalidModel(String),
    /// The speaker model failed while running.
    #[error("speaker model inference failed: {0}")]
    Inference(String),
    /// Too little speech to make a template.
    #[error("not enough speech: {found:.2} s found, at least {needed:.2} s needed")]
    NotEnoughSpeech {
        /// Seconds of speech found.
        found: f32,
        /// Seconds of speech needed.
        needed: f32,
    },
    /// A template could not be read, or templates do not fit together.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The VAD failed.
    #[error(transparent)]
    Vad(#[from] crate::vad::VadError),
}

impl From<crate::nn::onnx::InvalidModel> for VoiceError {
    fn from(error: crate::nn::onnx::InvalidModel) -> Self {
        Self::InvalidModel(error.0)
    }
}
