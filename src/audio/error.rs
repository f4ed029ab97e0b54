use thiserror::Error;

/// Why audio could not be accepted or decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AudioError {
    /// The client sample rate is outside what the input supports.
    #[error("unsupported sample rate {rate} Hz (supported: {supported})")]
    UnsupportedRate {
        /// The rejected rate.
        rate: u32,
        /// Human-readable description of the accepted rates.
        supported: String,
    },
    /// A whole audio file could not be read.
    #[error("invalid audio file: {0}")]
    InvalidFile(String),
    /// An Opus packet or Ogg Opus stream could not be decoded.
    #[error("invalid Opus input: {0}")]
    InvalidOpus(String),
    /// The resampler could not be built or failed on a chunk.
    #[error("resampler failure: {0}")]
    Resampler(String),
}
