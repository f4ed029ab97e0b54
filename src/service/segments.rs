//! Speech segments over a PCM16 stream: the VAD with the caller's
//! thresholds, then the [`SpeechSegmenter`]; the options and events as the
//! JavaScript API and the command line name them.

use serde::{Deserialize, Serialize};

use super::ServiceError;
use crate::audio::{AudioInput, PcmInput};
use crate::speech::{SegmentEvent, SegmentOptions, SpeechSegmenter};
use crate::vad::{
    API_FRAME_SAMPLES, Hysteresis, MODEL_FRAME_SAMPLES, ScoredFrame, SileroModel, VadStream,
};

/// The options of a segments stream, every one optional (camelCase names, as
/// `@ricky0123/vad-web` spells them; durations in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Probability at which speech starts (0.5).
    pub positive_speech_threshold: f32,
    /// Probability below which speech ends (0.35).
    pub negative_speech_threshold: f32,
    /// Silence that ends a segment (1400 ms).
    pub redemption_ms: u32,
    /// Audio kept before the speech (800 ms).
    pub pre_speech_pad_ms: u32,
    /// Speech below which a segment is a misfire (400 ms).
    pub min_speech_ms: u32,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        let thresholds = Hysteresis::default();
        let options = SegmentOptions::default();
        Self {
            positive_speech_threshold: thresholds.on,
            negative_speech_threshold: thresholds.off,
            redemption_ms: options.redemption_ms,
            pre_speech_pad_ms: options.pre_speech_pad_ms,
            min_speech_ms: options.min_speech_ms,
        }
    }
}

impl SegmentConfig {
    /// The VAD thresholds, checked: 0 ≤ negative ≤ positive ≤ 1.
    fn thresholds(&self) -> Result<Hysteresis, ServiceError> {
        let (on, off) = (
            self.positive_speech_threshold,
            self.negative_speech_threshold,
        );
        if !(0.0..=1.0).contains(&on) || !(0.0..=on).contains(&off) {
            return Err(ServiceError::InvalidRequest(format!(
                "thresholds must satisfy 0 ≤ negativeSpeechThreshold ≤ positiveSpeechThreshold ≤ 1 \
                 (got {off} and {on})"
            )));
        }
        Ok(Hysteresis { on, off })
    }
}

/// A segments event as the JavaScript API and the command line hand it out
/// (a `speech-end`'s audio travels beside it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum SegmentEventJson {
    /// A 30 ms frame was decided.
    Frame {
        /// The speech probability.
        probability: f32,
        /// The decision.
        is_speech: bool,
    },
    /// Speech began (`start`: where its audio will start, in ms).
    SpeechStart {
        /// Stream time in ms.
        start: u64,
    },
    /// A segment ended with enough speech.
    SpeechEnd {
        /// Stream time of the audio's first sample, in ms.
        start: u64,
        /// Stream time just after its last sample, in ms.
        end: u64,
    },
    /// A segment ended with too little speech.
    Misfire {
        /// Stream time in ms.
        start: u64,
        /// Stream time in ms.
        end: u64,
    },
}

impl SegmentEventJson {
    /// The event's description, and the audio of a `speech-end`.
    pub fn from_event(event: SegmentEvent) -> (Self, Option<Vec<f32>>) {
        match event {
            SegmentEvent::Frame(frame) => (
                Self::Frame {
                    probability: frame.probability,
                    is_speech: frame.speech,
                },
                None,
            ),
            SegmentEvent::SpeechStart { start_ms } => (Self::SpeechStart { start: start_ms }, None),
            SegmentEvent::SpeechEnd {
                audio,
                start_ms,
                end_ms,
            } => (
                Self::SpeechEnd {
                    start: start_ms,
                    end: end_ms,
                },
                Some(audio),
            ),
            SegmentEvent::Misfire { start_ms, end_ms } => (
                Self::Misfire {
                    start: start_ms,
                    end: end_ms,
                },
                None,
            ),
        }
    }
}

/// Speech segments of a PCM16 stream at any supported rate.
pub struct SegmentStream {
    input: PcmInput,
    vad: VadStream,
    segmenter: SpeechSegmenter,
    samples: Vec<f32>,
    frames: Vec<ScoredFrame>,
    /// 16 kHz samples received, to bound the frames decided at the end.
    received: u64,
    decided: u64,
}

impl SegmentStream {
    /// A stream of PCM16 at `sample_rate` with `config`; bad options or rates
    /// are refused with the reason.
    pub fn new(
        vad: &SileroModel,
        sample_rate: u32,
        config: SegmentConfig,
    ) -> Result<Self, ServiceError> {
        let thresholds = config.thresholds()?;
        Ok(Self {
            input: PcmInput::new(sample_rate)?,
            vad: VadStream::with_thresholds(vad, thresholds),
            segmenter: SpeechSegmenter::new(SegmentOptions {
                redemption_ms: config.redemption_ms,
                pre_speech_pad_ms: config.pre_speech_pad_ms,
                min_speech_ms: config.min_speech_ms,
            }),
            samples: Vec::new(),
            frames: Vec::new(),
            received: 0,
            decided: 0,
        })
    }

    /// Takes the next PCM16 bytes (split anywhere); returns the events they caused.
    pub fn push(&mut self, pcm16: &[u8]) -> Result<Vec<SegmentEvent>, ServiceError> {
        self.samples.clear();
        let decoded = self.input.push(pcm16, &mut self.samples);
        let mut events = Vec::new();
        self.take_samples(&mut events);
        decoded.into_result()?;
        Ok(events)
    }

    /// Ends the stream: its last frames are decided (the end padded with
    /// silence) and an open segment ends.
    pub fn finish(mut self) -> Result<Vec<SegmentEvent>, ServiceError> {
        self.samples.clear();
        self.input.finish(&mut self.samples)?;
        let mut events = Vec::new();
        self.take_samples(&mut events);
        let complete = self.received / API_FRAME_SAMPLES;
        let padding = [0.0; 2 * MODEL_FRAME_SAMPLES];
        self.frames.clear();
        self.vad.push_scored(&padding, &mut self.frames);
        self.frames.truncate((complete - self.decided) as usize);
        self.segmenter.push(&[], &self.frames, &mut events);
        self.segmenter.finish(&mut events);
        Ok(events)
    }

    fn take_samples(&mut self, events: &mut Vec<SegmentEvent>) {
        self.frames.clear();
        self.vad.push_scored(&self.samples, &mut self.frames);
        self.received += self.samples.len() as u64;
        self.decided += self.frames.len() as u64;
        self.segmenter.push(&self.samples, &self.frames, events);
    }
}
