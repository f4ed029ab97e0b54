//! The one place protocol rules live.

use super::endpoint::Codec;
use super::params::{ParamBuilder, StreamParams};
use super::streams::{EndpointStream, Pace, StreamProcessor, SummaryStream, VerifyProcessor};
use super::verify::VerifyStream;
use super::{ACCEPTED, Endpoint, ProtocolError, REJECTED};
use crate::audio::{AudioInput, OpusInput, PcmInput};
use crate::models::Models;

/// One connection's protocol state.
///
/// Every text message gets exactly one reply (`"200"`/`"500"` while parameters
/// are collected), and so does every binary message (the endpoint's result, or
/// `"500"`). A rejected message leaves the session as it was, so the client may
/// retry; the reason is logged and kept in [`Self::last_error`].
pub struct Session {
    endpoint: Endpoint,
    models: Option<Models>,
    params: ParamBuilder,
    running: Option<Running>,
    last_error: Option<String>,
    /// How late the message under way was reported ([`Self::set_pace`]).
    pace: Pace,
    /// Seconds of audio per embedded result at most ([`Self::thin_results`]).
    thinning: f64,
}

/// Bytes of a binary message decoded and processed at a time: a message of
/// any size is worked through in slices, so the memory it takes is that of
/// a slice, and a scheduler may interleave other work between slices
/// ([`Session::step_binary`]).
pub const MESSAGE_SLICE_BYTES: usize = 32 * 1024;

/// Engine samples a session's audio buffer keeps between messages (2 s).
const RETAINED_SAMPLES: usize = 32_000;

/// The audio side, built when the first binary message arrives.
struct Running {
    input: Box<dyn AudioInput>,
    processor: Box<dyn StreamProcessor>,
    audio: Vec<f32>,
    /// The binary message being worked through, if one is under way.
    message: Option<MessageProgress>,
}

/// How far a binary message has been processed.
#[derive(Default)]
struct MessageProgress {
    /// Bytes of the message processed so far.
    offset: usize,
    /// The first part of it that could not be decoded.
    error: Option<crate::audio::AudioError>,
}

impl Session {
    /// A session for `endpoint` using the shared `models`.
    pub fn new(endpoint: Endpoint, models: Models) -> Self {
        let mut session = Self::awaiting_models(endpoint);
        session.attach_models(models);
        session
    }

    /// A session that answers parameters before the models exist (so a
    /// connection opens while they load); audio gets `"500"` until
    /// [`Self::attach_models`] is called.
    pub fn awaiting_models(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            models: None,
            params: ParamBuilder::new(endpoint.kind, endpoint.codec),
            running: None,
            last_error: None,
            pace: Pace::OnTime,
            thinning: 0.0,
        }
    }

    /// A session for a request path such as `/speech_summary_stream?frames=new`.
    pub fn for_path(path_and_query: &str, models: Models) -> Result<Self, ProtocolError> {
        Ok(Self::new(Endpoint::parse(path_and_query)?, models))
    }

    /// Gives the session the models its audio needs.
    pub fn attach_models(&mut self, models: Models) {
        self.models = Some(models);
    }

    /// The endpoint this session serves.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The reason of the latest `"500"`, if any.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Seconds of audio this session has run through the speaker network
    /// (a verify stream's model work; 0 for the other endpoints).
    pub fn speaker_seconds(&self) -> f64 {
        self.running
            .as_ref()
            .map_or(0.0, |running| running.processor.speaker_seconds())
    }

    /// Whether every required parameter has been accepted.
    pub fn is_ready(&self) -> bool {
        self.params.is_complete()
    }

    /// Handles a text message (a parameter); returns `"200"` or `"500"`.
    pub fn on_text(&mut self, text: &str) -> String {
        let result = self.accept_param(text);
        self.reply(result.map(|()| ACCEPTED.to_string()))
    }

    /// Handles a binary message (audio); returns the endpoint's reply or `"500"`.
    pub fn on_binary(&mut self, bytes: &[u8]) -> String {
        loop {
            if let Some(reply) = self.step_binary(bytes) {
                return reply;
            }
        }
    }

    /// Processes the next slice (at most [`MESSAGE_SLICE_BYTES`]) of the
    /// binary message `bytes`; returns the reply once all of it has been
    /// processed, `None` before. Pass the same message until the reply
    /// comes: [`Self::on_binary`] is this in a loop, and a server may run
    /// other clients' work between the calls, or stop calling when its
    /// client has gone.
    pub fn step_binary(&mut self, bytes: &[u8]) -> Option<String> {
        match self.process_slice(bytes) {
            Ok(None) => None,
            Ok(Some(reply)) => Some(reply),
            Err(error) => Some(self.reply(Err(error))),
        }
    }

    /// Tells the session how far behind real time the binary message under
    /// way (or the next one) is. A late message is answered with less
    /// optional model work (a verify stream skips the windows it would have
    /// embedded, unless it has had no result for a while, then scores only
    /// the newest), so a stream that fell behind catches up instead of
    /// falling further behind. Every message still gets its reply.
    pub fn set_pace(&mut self, pace: Pace) {
        self.pace = self.pace.max(pace);
    }

    /// Asks a verify stream for at most one result that embeds speech per
    /// `seconds` of audio, on average (a server past capacity thins every
    /// stream's results alike; at most the hop, 0.5 s, leaves them
    /// unthinned). The results kept are whole, in time order; results that
    /// cost nothing are never thinned.
    pub fn thin_results(&mut self, seconds: f64) {
        self.thinning = seconds;
    }

    fn reply(&mut self, result: Result<String, ProtocolError>) -> String {
        match result {
            Ok(reply) => reply,
            Err(error) => {
                let reason = error.to_string();
                tracing::warn!(endpoint = ?self.endpoint.kind, %reason, "rejected message");
                self.last_error = Some(reason);
                REJECTED.to_string()
            }
        }
    }

    fn accept_param(&mut self, text: &str) -> Result<(), ProtocolError> {
        let audio_started = self.running.is_some();
        self.params.accept(text, !audio_started)
    }

    fn process_slice(&mut self, bytes: &[u8]) -> Result<Option<String>, ProtocolError> {
        if self.running.is_none() {
            self.running = Some(self.start(self.params.build()?)?);
        }
        let running = self.running.as_mut().expect("started above");
        running.processor.set_pace(std::mem::take(&mut self.pace));
        running.processor.thin_results(self.thinning);
        let progress = running.message.get_or_insert_with(MessageProgress::default);
        let end = bytes.len().min(progress.offset + MESSAGE_SLICE_BYTES);
        running.audio.clear();
        let decoded = running
            .input
            .push_part(&bytes[progress.offset..end], &mut running.audio);
        progress.offset = end;
        progress.error = progress.error.take().or(decoded.error);
        if end == bytes.len() {
            running.processor.last_slice_next();
        }
        // What could be decoded is used even when part of the message failed.
        let fed = running
            .processor
            .feed(&running.audio, decoded.client_samples);
        if fed.is_ok() && end < bytes.len() {
            return Ok(None);
        }
        let progress = running.message.take().expect("under way");
        running.input.end_message();
        let reply = fed.map(|()| running.processor.reply());
        running.shrink_buffers();
        match (reply, progress.error) {
            (Err(error), _) => Err(error),
            (Ok(_), Some(error)) => Err(error.into()),
            (Ok(reply), None) => Ok(Some(reply)),
        }
    }

    fn start(&self, params: StreamParams) -> Result<Running, ProtocolError> {
        let models = self
            .models
            .as_ref()
            .ok_or(ProtocolError::ModelNotLoaded("VAD"))?;
        let vad = &models.vad;
        let rate = params.rate();
        let processor: Box<dyn StreamProcessor> = match params {
            StreamParams::Endpoint {
                min_speech_ms,
                silence_ms,
                ..
            } => Box::new(EndpointStream::new(vad, min_speech_ms, silence_ms)),
            StreamParams::Summary { rate } => {
                Box::new(SummaryStream::new(vad, rate, self.endpoint.frames))
            }
            StreamParams::Verify {
                template,
                rate,
                context_seconds,
                window_seconds,
            } => {
                let engine = models
                    .voice
                    .clone()
                    .ok_or(ProtocolError::ModelNotLoaded("speaker"))?;
                let stream =
                    VerifyStream::new(engine, *template, rate, window_seconds, context_seconds);
                Box::new(VerifyProcessor::new(stream, rate))
            }
        };
        Ok(Running {
            input: match self.endpoint.codec {
                Codec::Pcm16 => Box::new(PcmInput::new(rate)?),
                Codec::Opus => Box::new(OpusInput::new(rate)?),
            },
            processor,
            audio: Vec::new(),
            message: None,
        })
    }
}

impl Running {
    /// Gives back what grew for the last message beyond the stream's own state.
    fn shrink_buffers(&mut self) {
        self.audio.clear();
        self.audio.shrink_to(RETAINED_SAMPLES);
        self.input.shrink_buffers();
        self.processor.shrink_buffers();
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn vad_only() -> Models {
        Models::from_bytes(
            include_bytes!("../../models/silero_vad_openvino_16k.onnx"),
            None,
        )
        .expect("the bundled VAD model")
    }

    fn half_second_tone() -> Vec<u8> {
        let tone: Vec<f32> = (0..8000).map(|i| 0.25 * (i as f32 * 0.05).sin()).collect();
        crate::audio::encode_pcm16(&tone)
    }

    #[test]
    fn parameters_are_answered_before_the_models_arrive() {
        let endpoint = Endpoint::parse("/speech_summary_stream").unwrap();
        let mut waiting = Session::awaiting_models(endpoint);
        assert_eq!(waiting.on_text("16000"), ACCEPTED);
        assert!(waiting.is_ready());

        let audio = half_second_tone();
        assert_eq!(waiting.on_binary(&audio), REJECTED);
        assert_eq!(waiting.last_error(), Some("the VAD model is not loaded"));

        waiting.attach_models(vad_only());
        let mut loaded = Session::new(endpoint, vad_only());
        assert_eq!(loaded.on_text("16000"), ACCEPTED);
        for _ in 0..3 {
            assert_eq!(waiting.on_binary(&audio), loaded.on_binary(&audio));
        }
    }
}
