//! Whole-buffer operations behind the REST endpoints and their JavaScript
//! counterparts: templates, merge, match, speech summary, enrollment quality,
//! build info.
//! Transport-agnostic, like [`crate::protocol`].

use serde::Serialize;
use thiserror::Error;

use crate::audio::{AudioError, AudioInput, PcmInput, Resampler16k, decode_wav};
use crate::models::{Models, SPEAKER_MODEL_FILE, VAD_MODEL_FILE, VAD_MODEL_ID};
use crate::protocol::messages::SpeechSummaryJson;
use crate::speech::SpeechSummary;
use crate::vad::{API_FRAME_SAMPLES, frame_decisions};
use crate::voice::{
    MatchResult, SPEAKER_MODEL_ID, TEMPLATE_VERSION, VoiceError, VoiceQuality, VoiceTemplate,
    match_templates,
};

/// Why a whole-buffer operation failed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ServiceError {
    /// The audio could not be read.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A voice operation failed.
    #[error(transparent)]
    Voice(#[from] VoiceError),
    /// The request itself is malformed.
    #[error("{0}")]
    InvalidRequest(String),
}

impl ServiceError {
    /// Whether the caller caused it (HTTP 400) rather than the server (500).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            Self::Voice(VoiceError::InvalidModel(_) | VoiceError::Inference(_))
        )
    }
}

impl From<crate::voice::TemplateError> for ServiceError {
    fn from(error: crate::voice::TemplateError) -> Self {
        Self::Voice(error.into())
    }
}

/// Audio to process: raw PCM16 at a rate, or a WAV file.
#[derive(Debug, Clone, Copy)]
pub enum AudioBuffer<'a> {
    /// Little-endian signed 16-bit mono samples.
    Pcm16 {
        /// The bytes (an odd trailing byte is ignored).
        bytes: &'a [u8],
        /// Their sample rate.
        sample_rate: u32,
    },
    /// A WAV file of any common PCM or float format; channels are averaged.
    Wav(&'a [u8]),
}

impl AudioBuffer<'_> {
    /// The audio at 16 kHz, and its length in seconds at its own rate.
    fn to_engine_rate(self) -> Result<(Vec<f32>, f64), ServiceError> {
        let mut out = Vec::new();
        let (client_samples, rate) = match self {
            Self::Pcm16 { bytes, sample_rate } => {
                let mut input = PcmInput::new(sample_rate)?;
                let samples = input.push(bytes, &mut out).into_result()?;
                input.finish(&mut out)?;
                (samples, sample_rate)
            }
            Self::Wav(bytes) => {
                let recording = decode_wav(bytes)?;
                let mut resampler = Resampler16k::new(recording.sample_rate)?;
                resampler.push(&recording.samples, &mut out)?;
                resampler.finish(&mut out)?;
                (recording.samples.len() as u64, recording.sample_rate)
            }
        };
        Ok((out, client_samples as f64 / f64::from(rate)))
    }
}

/// A base64 voice template of the speech in `audio`.
pub fn create_template(models: &Models, audio: AudioBuffer) -> Result<String, ServiceError> {
    let (samples, _) = audio.to_engine_rate()?;
    Ok(models.voice()?.template(&samples)?.to_base64())
}

/// Merges base64 templates of one speaker into one.
pub fn merge_templates(templates: &[String]) -> Result<String, ServiceError> {
    let parsed = templates
        .iter()
        .map(|t| VoiceTemplate::from_base64(t, SPEAKER_MODEL_ID))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VoiceTemplate::merge(&parsed)?.to_base64())
}

/// Compares two base64 templates.
pub fn match_voice_templates(first: &str, second: &str) -> Result<MatchResult, ServiceError> {
    let a = VoiceTemplate::from_base64(first, SPEAKER_MODEL_ID)?;
    let b = VoiceTemplate::from_base64(second, SPEAKER_MODEL_ID)?;
    Ok(match_templates(&a, &b)?)
}

/// The speech summary of a whole recording.
pub fn speech_summary(
    models: &Models,
    audio: AudioBuffer,
) -> Result<SpeechSummaryJson, ServiceError> {
    let (samples, seconds) = audio.to_engine_rate()?;
    let decisions = frame_decisions(&models.vad, &samples);
    let mut summary = SpeechSummary::new();
    summary.push(&decisions);
    Ok(SpeechSummaryJson::new(
        summary.counts(),
        seconds,
        summary.all_frames().to_vec(),
    ))
}

/// The enrollment quality of a recording: speech length and SNR.
pub fn voice_quality(models: &Models, audio: AudioBuffer) -> Result<VoiceQuality, ServiceError> {
    let (samples, _) = audio.to_engine_rate()?;
    let decisions = frame_decisions(&models.vad, &samples);
    Ok(VoiceQuality::measure(
        &samples,
        &decisions,
        API_FRAME_SAMPLES as usize,
    ))
}

/// What `core/get_build_info` reports.
#[derive(Debug, Clone, Serialize)]
pub struct BuildInfo {
    /// Crate name.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// Voice template format version.
    pub template_version: u16,
    /// Model identifiers and files.
    pub models: ModelInfo,
}

/// Identifiers of the models in use.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// VAD model id.
    pub vad: &'static str,
    /// VAD model file.
    pub vad_file: &'static str,
    /// Speaker model id (written into templates).
    pub speaker: &'static str,
    /// Speaker model file.
    pub speaker_file: &'static str,
}

/// The build and model identifiers.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        template_version: TEMPLATE_VERSION,
        models: ModelInfo {
            vad: VAD_MODEL_ID,
            vad_file: VAD_MODEL_FILE,
            speaker: SPEAKER_MODEL_ID,
            speaker_file: SPEAKER_MODEL_FILE,
        },
    }
}
