use thiserror::Error;

use crate::audio::AudioError;

/// Why a message was answered `"500"` (or a connection refused).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ProtocolError {
    /// The path names no endpoint.
    #[error("unknown endpoint `{0}`")]
    UnknownEndpoint(String),
    /// A parameter value was rejected.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// Audio arrived before every parameter was accepted.
    #[error("binary message before all parameters were accepted (next expected: {0})")]
    AudioBeforeParameters(&'static str),
    /// A text message arrived once the parameters were complete.
    #[error("text message after the parameters were complete")]
    TextAfterParameters,
    /// The audio could not be decoded.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A voice engine failed.
    #[error(transparent)]
    Voice(#[from] crate::voice::VoiceError),
    /// The endpoint needs a model this face has not loaded.
    #[error("the {0} model is not loaded")]
    ModelNotLoaded(&'static str),
}
