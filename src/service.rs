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
use crate::vad::{API_FRAME_SAMPLES, RecordingDecisions, frame_decisions};
use crate::voice::{
    EmbeddingSum, Fbank, Features, MatchResult, SPEAKER_MODEL, SPEAKER_MODEL_ID, TEMPLATE_VERSION,
    VoiceEngine, VoiceError, VoiceQuality, VoiceTemplate, embedding_window, enrollment_seconds,
    match_templates, select_speech, window_count,
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
    run_to_end(TemplateJob::start(models, audio)?)
}

/// Whole-buffer work done a bounded step at a time, so that a scheduler can
/// run other work between the steps and drop work nobody waits for.
pub trait Stepwise {
    /// What the work produces.
    type Output;

    /// Does the next step; the output once the work is done.
    fn step(&mut self) -> Option<Self::Output>;
}

/// Runs stepwise work to its end.
pub fn run_to_end<W: Stepwise>(mut work: W) -> W::Output {
    loop {
        if let Some(output) = work.step() {
            return output;
        }
    }
}

/// Engine samples the VAD reads in one step (10 s: about 30 ms of work).
const VAD_STEP_SAMPLES: usize = 160_000;
/// Fbank frames computed in one step (60 s of speech).
const FBANK_STEP_FRAMES: usize = 6_000;

/// The VAD over a whole recording at the engine rate, a slice per step.
struct VadPass {
    samples: Vec<f32>,
    fed: usize,
    decisions: Option<RecordingDecisions>,
}

impl VadPass {
    fn new(models: &Models, samples: Vec<f32>) -> Self {
        Self {
            decisions: Some(RecordingDecisions::new(&models.vad)),
            samples,
            fed: 0,
        }
    }

    /// Reads the next slice; every frame's decision once all are read.
    fn step(&mut self) -> Option<Vec<bool>> {
        let decisions = self.decisions.as_mut().expect("a pass ends once");
        let end = self.samples.len().min(self.fed + VAD_STEP_SAMPLES);
        decisions.push(&self.samples[self.fed..end]);
        self.fed = end;
        (end == self.samples.len()).then(|| self.decisions.take().expect("checked").finish())
    }
}

/// Making a template: the VAD, the speech's features, then one embedding
/// window per step.
pub struct TemplateJob {
    engine: VoiceEngine,
    stage: TemplateStage,
}

enum TemplateStage {
    Vad(VadPass),
    Features {
        seconds: f32,
        speech: Vec<f32>,
        features: Features,
    },
    Embed {
        seconds: f32,
        features: Features,
        next: usize,
        sum: EmbeddingSum,
    },
}

impl TemplateJob {
    /// Decodes `audio`; the rest is done by the steps.
    pub fn start(models: &Models, audio: AudioBuffer) -> Result<Self, ServiceError> {
        let engine = models.voice()?.clone();
        let (samples, _) = audio.to_engine_rate()?;
        Ok(Self {
            engine,
            stage: TemplateStage::Vad(VadPass::new(models, samples)),
        })
    }

    fn advance(&mut self) -> Result<Option<String>, ServiceError> {
        match &mut self.stage {
            TemplateStage::Vad(pass) => {
                if let Some(decisions) = pass.step() {
                    let speech = select_speech(&pass.samples, &decisions);
                    self.stage = TemplateStage::Features {
                        seconds: enrollment_seconds(&speech)?,
                        speech,
                        features: Features::default(),
                    };
                }
            }
            TemplateStage::Features {
                seconds,
                speech,
                features,
            } => {
                self.engine
                    .fbank()
                    .extend(speech, FBANK_STEP_FRAMES, features);
                if features.frames() == Fbank::frame_count(speech.len()) {
                    let seconds = *seconds;
                    let features = std::mem::take(features);
                    let features = self.engine.normalized_features(features, speech.len())?;
                    self.stage = TemplateStage::Embed {
                        seconds,
                        features,
                        next: 0,
                        sum: EmbeddingSum::default(),
                    };
                }
            }
            TemplateStage::Embed {
                seconds,
                features,
                next,
                sum,
            } => {
                let window = embedding_window(features, *next);
                sum.add(&self.engine.embed_window(&window)?);
                *next += 1;
                if *next == window_count(features) {
                    let template = VoiceTemplate::new(SPEAKER_MODEL_ID, *seconds, &sum.finish()?)?;
                    return Ok(Some(template.to_base64()));
                }
            }
        }
        Ok(None)
    }
}

impl Stepwise for TemplateJob {
    type Output = Result<String, ServiceError>;

    fn step(&mut self) -> Option<Self::Output> {
        self.advance().transpose()
    }
}

/// A speech summary: the VAD a slice per step.
pub struct SummaryJob {
    pass: VadPass,
    seconds: f64,
}

impl SummaryJob {
    /// Decodes `audio`; the VAD is done by the steps.
    pub fn start(models: &Models, audio: AudioBuffer) -> Result<Self, ServiceError> {
        let (samples, seconds) = audio.to_engine_rate()?;
        Ok(Self {
            pass: VadPass::new(models, samples),
            seconds,
        })
    }
}

impl Stepwise for SummaryJob {
    type Output = Result<SpeechSummaryJson, ServiceError>;

    fn step(&mut self) -> Option<Self::Output> {
        let decisions = self.pass.step()?;
        let mut summary = SpeechSummary::new();
        summary.push(&decisions);
        Some(Ok(SpeechSummaryJson::new(
            summary.counts(),
            self.seconds,
            summary.all_frames().to_vec(),
        )))
    }
}

/// Merges base64 templates of one speaker into one.
pub fn merge_templates(templates: &[String]) -> Result<String, ServiceError> {
    let parsed = templates
        .iter()
        .map(|t| VoiceTemplate::from_base64(t, SPEAKER_MODEL))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VoiceTemplate::merge(&parsed)?.to_base64())
}

/// Compares two base64 templates.
pub fn match_voice_templates(first: &str, second: &str) -> Result<MatchResult, ServiceError> {
    let a = VoiceTemplate::from_base64(first, SPEAKER_MODEL)?;
    let b = VoiceTemplate::from_base64(second, SPEAKER_MODEL)?;
    Ok(match_templates(&a, &b)?)
}

/// The speech summary of a whole recording.
pub fn speech_summary(
    models: &Models,
    audio: AudioBuffer,
) -> Result<SpeechSummaryJson, ServiceError> {
    run_to_end(SummaryJob::start(models, audio)?)
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
