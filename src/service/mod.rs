//! Whole-buffer operations behind the REST endpoints and their JavaScript
//! counterparts: templates, merge, match, speech summary, enrollment quality,
//! build info.
//! Transport-agnostic, like [`crate::protocol`].

use serde::Serialize;
use thiserror::Error;

pub mod enrollment;
pub mod rest;
pub mod segments;

use crate::audio::{AudioError, AudioInput, PcmInput, Resampler16k, decode_wav};
use crate::models::{Models, SPEAKER_MODEL_FILE, VAD_MODEL_FILE, VAD_MODEL_ID};
use crate::protocol::messages::{SpeechSummaryBody, SpeechSummaryJson, speech_events};
use crate::speech::SpeechSummary;
use crate::vad::{API_FRAME_SAMPLES, RecordingDecisions};
use crate::voice::{
    Band, EmbeddingSum, Fbank, Features, MatchResult, SPEAKER_MODEL, SPEAKER_MODEL_ID,
    TEMPLATE_VERSION, VoiceEngine, VoiceError, VoiceQuality, VoiceTemplate, embedding_window,
    enrollment_seconds, match_templates, select_speech, window_count,
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

/// Seconds of a recording read in one step (about 30 ms of VAD work).
const STEP_SECONDS: usize = 10;

/// A whole recording read a slice at a time at the engine rate, so that
/// working through it holds the recording in its own format only.
struct RecordingSlices {
    source: SliceSource,
    offset: usize,
    rate: u32,
    client_samples: usize,
}

/// Where the slices come from.
enum SliceSource {
    /// PCM16 bytes, decoded and resampled a slice at a time.
    Pcm { bytes: Vec<u8>, input: PcmInput },
    /// A decoded file's samples at its own rate, resampled a slice at a time.
    Samples {
        samples: Vec<f32>,
        resampler: Resampler16k,
    },
}

impl RecordingSlices {
    fn new(audio: AudioBuffer) -> Result<Self, ServiceError> {
        Ok(match audio {
            AudioBuffer::Pcm16 { bytes, sample_rate } => Self {
                client_samples: bytes.len() / 2,
                source: SliceSource::Pcm {
                    input: PcmInput::new(sample_rate)?,
                    bytes: bytes.to_vec(),
                },
                offset: 0,
                rate: sample_rate,
            },
            AudioBuffer::Wav(bytes) => {
                let recording = decode_wav(bytes)?;
                Self {
                    client_samples: recording.samples.len(),
                    source: SliceSource::Samples {
                        resampler: Resampler16k::new(recording.sample_rate)?,
                        samples: recording.samples,
                    },
                    offset: 0,
                    rate: recording.sample_rate,
                }
            }
        })
    }

    /// The recording's length in seconds at its own rate.
    fn seconds(&self) -> f64 {
        self.client_samples as f64 / f64::from(self.rate)
    }

    /// Appends the next slice at the engine rate to `out`; true once the
    /// whole recording has been read (the resampler's tail included).
    fn read(&mut self, out: &mut Vec<f32>) -> Result<bool, ServiceError> {
        let step = STEP_SECONDS * self.rate as usize;
        let done = match &mut self.source {
            SliceSource::Pcm { bytes, input } => {
                let end = bytes.len().min(self.offset + 2 * step);
                input.push(&bytes[self.offset..end], out).into_result()?;
                self.offset = end;
                let done = end == bytes.len();
                if done {
                    input.finish(out)?;
                }
                done
            }
            SliceSource::Samples { samples, resampler } => {
                let end = samples.len().min(self.offset + step);
                resampler.push(&samples[self.offset..end], out)?;
                self.offset = end;
                let done = end == samples.len();
                if done {
                    resampler.finish(out)?;
                }
                done
            }
        };
        Ok(done)
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

/// Fbank frames computed in one step (60 s of speech).
const FBANK_STEP_FRAMES: usize = 6_000;

/// The VAD over a whole recording, a slice per step.
struct VadPass {
    audio: RecordingSlices,
    slice: Vec<f32>,
    decisions: Option<RecordingDecisions>,
}

impl VadPass {
    fn new(models: &Models, audio: RecordingSlices) -> Self {
        Self {
            audio,
            slice: Vec::new(),
            decisions: Some(RecordingDecisions::new(&models.vad)),
        }
    }

    /// Reads the next slice into [`Self::slice`]; every frame's decision
    /// once the whole recording has been read.
    fn step(&mut self) -> Result<Option<Vec<bool>>, ServiceError> {
        self.slice.clear();
        let done = self.audio.read(&mut self.slice)?;
        let decisions = self.decisions.as_mut().expect("a pass ends once");
        decisions.push(&self.slice);
        Ok(done.then(|| self.decisions.take().expect("checked").finish()))
    }

    /// The decisions made so far.
    fn decided(&self) -> &[bool] {
        self.decisions
            .as_ref()
            .map_or(&[], RecordingDecisions::decided)
    }
}

/// Keeps the speech of a recording read a slice at a time: the samples of
/// the frames decided as speech, holding only the undecided ones besides.
#[derive(Default)]
struct SpeechSelector {
    /// Samples from the first undecided frame on.
    pending: Vec<f32>,
    /// Frames decided and taken.
    taken: usize,
    speech: Vec<f32>,
}

impl SpeechSelector {
    /// Takes the next samples, and the decisions of the recording so far.
    fn push(&mut self, samples: &[f32], decided: &[bool]) {
        self.pending.extend_from_slice(samples);
        self.take(decided);
    }

    /// The speech, given every decision of the recording.
    fn finish(mut self, decisions: &[bool]) -> Vec<f32> {
        self.take(decisions);
        self.speech
    }

    fn take(&mut self, decided: &[bool]) {
        let frame = API_FRAME_SAMPLES as usize;
        let new = &decided[self.taken.min(decided.len())..];
        let whole = new.len().min(self.pending.len() / frame);
        self.speech
            .extend(select_speech(&self.pending[..whole * frame], &new[..whole]));
        self.pending.drain(..whole * frame);
        self.taken += whole;
    }
}

/// Making a template: the VAD, the speech's features, then one embedding
/// window per step.
pub struct TemplateJob {
    engine: VoiceEngine,
    band: Band,
    stage: TemplateStage,
}

enum TemplateStage {
    Vad(Box<VadPass>, SpeechSelector),
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
    /// Takes `audio` (a WAV file is decoded here); the rest is done by the steps.
    pub fn start(models: &Models, audio: AudioBuffer) -> Result<Self, ServiceError> {
        let engine = models.voice()?.clone();
        let slices = RecordingSlices::new(audio)?;
        let band = Band::of_rate(slices.rate);
        let pass = Box::new(VadPass::new(models, slices));
        Ok(Self {
            engine,
            band,
            stage: TemplateStage::Vad(pass, SpeechSelector::default()),
        })
    }

    fn advance(&mut self) -> Result<Option<String>, ServiceError> {
        match &mut self.stage {
            TemplateStage::Vad(pass, selector) => {
                let finished = pass.step()?;
                selector.push(&pass.slice, pass.decided());
                if let Some(decisions) = finished {
                    let speech = std::mem::take(selector).finish(&decisions);
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
                    let template =
                        VoiceTemplate::new(SPEAKER_MODEL_ID, *seconds, self.band, &sum.finish()?)?;
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
    rate: u32,
}

impl SummaryJob {
    /// Takes `audio` (a WAV file is decoded here); the VAD is done by the steps.
    pub fn start(models: &Models, audio: AudioBuffer) -> Result<Self, ServiceError> {
        let audio = RecordingSlices::new(audio)?;
        Ok(Self {
            seconds: audio.seconds(),
            rate: audio.rate,
            pass: VadPass::new(models, audio),
        })
    }
}

impl Stepwise for SummaryJob {
    type Output = Result<SpeechSummaryBody, ServiceError>;

    fn step(&mut self) -> Option<Self::Output> {
        let decisions = match self.pass.step() {
            Ok(decisions) => decisions?,
            Err(error) => return Some(Err(error)),
        };
        let mut summary = SpeechSummary::new();
        summary.push(&decisions);
        Some(Ok(SpeechSummaryBody {
            summary: SpeechSummaryJson::new(
                summary.counts(),
                self.seconds,
                summary.all_frames().to_vec(),
            ),
            speech_events: speech_events(summary.all_runs(), self.rate),
        }))
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
) -> Result<SpeechSummaryBody, ServiceError> {
    run_to_end(SummaryJob::start(models, audio)?)
}

/// The enrollment quality of a recording: speech length, SNR, level,
/// clipping and the problems they show.
pub fn voice_quality(models: &Models, audio: AudioBuffer) -> Result<VoiceQuality, ServiceError> {
    run_to_end(QualityJob::start(models, audio)?)
}

/// Enrollment quality: the VAD a slice per step, the measures at the end
/// (the 16 kHz recording is kept for them).
pub struct QualityJob {
    pass: VadPass,
    samples: Vec<f32>,
}

impl QualityJob {
    /// Takes `audio` (a WAV file is decoded here); the VAD is done by the steps.
    pub fn start(models: &Models, audio: AudioBuffer) -> Result<Self, ServiceError> {
        Ok(Self {
            pass: VadPass::new(models, RecordingSlices::new(audio)?),
            samples: Vec::new(),
        })
    }
}

impl Stepwise for QualityJob {
    type Output = Result<VoiceQuality, ServiceError>;

    fn step(&mut self) -> Option<Self::Output> {
        let decided = self.pass.step();
        self.samples.extend_from_slice(&self.pass.slice);
        let decisions = match decided {
            Ok(decisions) => decisions?,
            Err(error) => return Some(Err(error)),
        };
        Some(Ok(VoiceQuality::measure(
            &self.samples,
            &decisions,
            API_FRAME_SAMPLES as usize,
        )))
    }
}

/// What `core/get_build_info` reports.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
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
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
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
