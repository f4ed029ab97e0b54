//! Per-endpoint stream processors: 16 kHz audio in, one reply text out.

use super::messages::{SpeechSummaryJson, SummaryStreamReply, to_json};
use super::{FramesMode, ProtocolError};
use crate::speech::{EndpointDetector, SpeechSummary};
use crate::vad::{SPEECH_TAIL_MS, SileroModel, VadStream};
use crate::voice::VerifyStream;

/// What an endpoint does with the decoded audio of each binary message.
pub trait StreamProcessor: Send {
    /// Processes the 16 kHz samples decoded from one message, which carried
    /// `client_samples` samples at the client rate; returns the reply text.
    fn on_audio(&mut self, audio: &[f32], client_samples: u64) -> Result<String, ProtocolError>;
}

/// The VAD of a stream plus a reusable buffer for its new decisions.
struct FrameSource {
    vad: VadStream,
    decisions: Vec<bool>,
}

impl FrameSource {
    fn new(model: &SileroModel) -> Self {
        Self {
            vad: VadStream::new(model),
            decisions: Vec::new(),
        }
    }

    /// The 30 ms decisions newly completed by `audio`.
    fn frames(&mut self, audio: &[f32]) -> &[bool] {
        self.decisions.clear();
        self.vad.push(audio, &mut self.decisions);
        &self.decisions
    }
}

/// `/speech_endpoint_detector`: replies `"true"` once the endpoint is reached.
pub struct EndpointStream {
    frames: FrameSource,
    detector: EndpointDetector,
}

impl EndpointStream {
    /// A detector stream with the client's thresholds.
    pub fn new(model: &SileroModel, min_speech_ms: u32, silence_ms: u32) -> Self {
        Self {
            frames: FrameSource::new(model),
            detector: EndpointDetector::new(min_speech_ms, silence_ms, SPEECH_TAIL_MS),
        }
    }
}

impl StreamProcessor for EndpointStream {
    fn on_audio(&mut self, audio: &[f32], _client_samples: u64) -> Result<String, ProtocolError> {
        let reached = self.detector.push(self.frames.frames(audio));
        Ok(reached.to_string())
    }
}

/// `/speech_summary_stream`: replies the cumulative speech summary.
pub struct SummaryStream {
    frames: FrameSource,
    summary: SpeechSummary,
    mode: FramesMode,
    client_rate: u32,
    client_samples: u64,
}

impl SummaryStream {
    /// A summary stream for a client at `client_rate` Hz.
    pub fn new(model: &SileroModel, client_rate: u32, mode: FramesMode) -> Self {
        Self {
            frames: FrameSource::new(model),
            summary: SpeechSummary::new(),
            mode,
            client_rate,
            client_samples: 0,
        }
    }
}

impl StreamProcessor for SummaryStream {
    fn on_audio(&mut self, audio: &[f32], client_samples: u64) -> Result<String, ProtocolError> {
        self.summary.push(self.frames.frames(audio));
        self.client_samples += client_samples;
        let counts = self.summary.counts();
        let frames = match self.mode {
            FramesMode::All => self.summary.all_frames().to_vec(),
            FramesMode::New => self.summary.take_new_frames(),
        };
        let total_length = self.client_samples as f64 / f64::from(self.client_rate);
        let summary = SpeechSummaryJson::new(counts, total_length, frames);
        Ok(to_json(&SummaryStreamReply::new(counts, summary)))
    }
}

/// `/voice_verify_stream`: replies a JSON array of results, possibly `[]`.
pub struct VerifyProcessor {
    stream: VerifyStream,
}

impl VerifyProcessor {
    /// Wraps a verify stream.
    pub fn new(stream: VerifyStream) -> Self {
        Self { stream }
    }
}

impl StreamProcessor for VerifyProcessor {
    fn on_audio(&mut self, audio: &[f32], client_samples: u64) -> Result<String, ProtocolError> {
        Ok(to_json(&self.stream.push(audio, client_samples)?))
    }
}
