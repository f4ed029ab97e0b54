//! Guided enrollment: a recording fed a chunk at a time, with progress (the
//! speech heard against the speech wanted) and live quality feedback on the
//! last seconds; at the end the template and the quality of the whole,
//! made exactly as [`super::create_template`] and [`super::voice_quality`]
//! make them from the same recording.

use std::collections::VecDeque;

use serde::Serialize;

use super::{AudioBuffer, ServiceError, create_template, voice_quality};
use crate::audio::{AudioInput, PcmInput};
use crate::models::Models;
use crate::vad::{API_FRAME_SAMPLES, VadStream};
use crate::voice::{MIN_ENROLL_SPEECH_SECONDS, VoiceQuality};

/// The stretch of recent audio live feedback is about, in 30 ms frames (3 s).
const RECENT_FRAMES: usize = 100;
/// Speech the recent stretch should hold for the speaker to count as
/// speaking, in seconds.
const RECENT_SPEECH_SECONDS: f64 = 0.5;
/// The longest enrollment recording kept, in seconds of audio.
pub const MAX_ENROLLMENT_SECONDS: u32 = 300;

/// How far an enrollment is, after each chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnrollmentProgress {
    /// Speech heard so far, as a percentage of the speech wanted (0–100).
    pub percent: f64,
    /// Seconds of speech heard so far.
    pub speech_seconds: f64,
    /// Seconds of speech wanted.
    pub needed_seconds: f64,
    /// Whether enough speech has been heard.
    pub done: bool,
    /// The quality of the last 3 s (its `problems` are the live advice).
    pub recent: VoiceQuality,
}

/// The outcome of an enrollment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrollment {
    /// The base64 voice template.
    pub template: String,
    /// The quality of the whole recording.
    pub quality: VoiceQuality,
}

/// An enrollment recording in progress.
pub struct EnrollmentStream {
    sample_rate: u32,
    needed_seconds: f64,
    /// The recording as sent (PCM16 at `sample_rate`), for the template.
    pcm16: Vec<u8>,
    input: PcmInput,
    vad: VadStream,
    samples: Vec<f32>,
    /// The 16 kHz samples of the recent frames (whole frames, oldest first).
    recent_samples: VecDeque<f32>,
    recent_speech: VecDeque<bool>,
    /// 16 kHz samples received but not yet in a frame taken.
    undecided: VecDeque<f32>,
    /// Decisions not yet taken: the VAD may decide a frame up to 17 ms
    /// before its last sample arrives.
    decisions: VecDeque<bool>,
    decided: Vec<bool>,
    speech_frames: u64,
}

impl EnrollmentStream {
    /// An enrollment wanting `needed_seconds` of speech (at least the 1 s a
    /// template needs) from PCM16 at `sample_rate`.
    pub fn new(
        models: &Models,
        sample_rate: u32,
        needed_seconds: f64,
    ) -> Result<Self, ServiceError> {
        let least = f64::from(MIN_ENROLL_SPEECH_SECONDS);
        if !(least..=f64::from(MAX_ENROLLMENT_SECONDS)).contains(&needed_seconds) {
            return Err(ServiceError::InvalidRequest(format!(
                "seconds of speech must be between {least} and {MAX_ENROLLMENT_SECONDS} (got {needed_seconds})"
            )));
        }
        Ok(Self {
            sample_rate,
            needed_seconds,
            pcm16: Vec::new(),
            input: PcmInput::new(sample_rate)?,
            vad: VadStream::new(&models.vad),
            samples: Vec::new(),
            recent_samples: VecDeque::new(),
            recent_speech: VecDeque::new(),
            undecided: VecDeque::new(),
            decisions: VecDeque::new(),
            decided: Vec::new(),
            speech_frames: 0,
        })
    }

    /// Takes the next PCM16 bytes; returns the progress. A recording longer
    /// than [`MAX_ENROLLMENT_SECONDS`] is refused.
    pub fn push(&mut self, pcm16: &[u8]) -> Result<EnrollmentProgress, ServiceError> {
        let limit = 2 * self.sample_rate as usize * MAX_ENROLLMENT_SECONDS as usize;
        if self.pcm16.len() + pcm16.len() > limit {
            return Err(ServiceError::InvalidRequest(format!(
                "enrollment recordings end after {MAX_ENROLLMENT_SECONDS} s of audio"
            )));
        }
        self.pcm16.extend_from_slice(pcm16);
        self.samples.clear();
        self.input.push(pcm16, &mut self.samples).into_result()?;
        self.decided.clear();
        self.vad.push(&self.samples, &mut self.decided);
        self.decisions.extend(&self.decided);
        self.undecided.extend(&self.samples);
        let frame = API_FRAME_SAMPLES as usize;
        while self.undecided.len() >= frame {
            let Some(speech) = self.decisions.pop_front() else {
                break;
            };
            self.speech_frames += u64::from(speech);
            self.recent_speech.push_back(speech);
            self.recent_samples.extend(self.undecided.drain(..frame));
        }
        while self.recent_speech.len() > RECENT_FRAMES {
            self.recent_speech.pop_front();
            self.recent_samples.drain(..API_FRAME_SAMPLES as usize);
        }
        Ok(self.progress())
    }

    fn progress(&mut self) -> EnrollmentProgress {
        let speech_seconds = self.speech_frames as f64 * API_FRAME_SAMPLES as f64 / 16_000.0;
        let recent = VoiceQuality::measure_for(
            self.recent_samples.make_contiguous(),
            self.recent_speech.make_contiguous(),
            API_FRAME_SAMPLES as usize,
            RECENT_SPEECH_SECONDS,
        );
        EnrollmentProgress {
            percent: (100.0 * speech_seconds / self.needed_seconds).min(100.0),
            speech_seconds,
            needed_seconds: self.needed_seconds,
            done: speech_seconds >= self.needed_seconds,
            recent,
        }
    }

    /// Ends the recording: the template and the quality of the whole (with
    /// the reason if it holds too little speech for a template).
    pub fn finish(self, models: &Models) -> Result<Enrollment, ServiceError> {
        let audio = AudioBuffer::Pcm16 {
            bytes: &self.pcm16,
            sample_rate: self.sample_rate,
        };
        Ok(Enrollment {
            template: create_template(models, audio)?,
            quality: voice_quality(models, audio)?,
        })
    }
}
