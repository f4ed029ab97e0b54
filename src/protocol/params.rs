//! Parameter texts → validated values. Whitespace around a value is ignored.

use super::verify::MAX_VERIFY_SECONDS;
use super::{Codec, EndpointKind, ProtocolError};
use crate::audio::{MAX_PCM_RATE, MIN_PCM_RATE, OPUS_RATES};
use crate::voice::{SPEAKER_MODEL, VoiceTemplate};

/// The longest duration any parameter may ask for: one hour.
const MAX_MILLIS: u64 = 3_600_000;

/// The longest parameter text read, in bytes: a template is under 2 kB, so
/// longer texts are refused before any parsing (a 15 MiB "parameter" costs
/// no more than a short one).
pub const MAX_PARAMETER_BYTES: usize = 64 * 1024;

/// One parameter an endpoint expects, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Minimum speech before an endpoint can be detected (ms).
    MinSpeechMs,
    /// Silence after the utterance that marks the endpoint (ms).
    SilenceMs,
    /// Client sample rate (Hz).
    SampleRate,
    /// Enrolled voice template (base64).
    Template,
    /// Verify window (s); re-read as the audio context when a window follows.
    WindowSeconds,
}

/// The parameters of one stream, complete and typed per endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamParams {
    /// `/speech_endpoint_detector`.
    Endpoint {
        /// Minimum speech before an endpoint can be detected (ms).
        min_speech_ms: u32,
        /// Silence after the utterance that marks the endpoint (ms).
        silence_ms: u32,
        /// Client sample rate (Hz).
        rate: u32,
    },
    /// `/speech_summary_stream`.
    Summary {
        /// Client sample rate (Hz).
        rate: u32,
    },
    /// `/voice_verify_stream`.
    Verify {
        /// The enrolled voice.
        template: Box<VoiceTemplate>,
        /// Client sample rate (Hz).
        rate: u32,
        /// Audio history kept (s); the window unless a 4th parameter came.
        context_seconds: f64,
        /// Window scored for each result (s).
        window_seconds: f64,
    },
}

impl StreamParams {
    /// The client's sample rate.
    pub fn rate(&self) -> u32 {
        match self {
            Self::Endpoint { rate, .. } | Self::Summary { rate } | Self::Verify { rate, .. } => {
                *rate
            }
        }
    }
}

/// Collects one endpoint's parameters in order, each validated on arrival.
#[derive(Debug, Clone)]
pub struct ParamBuilder {
    kind: EndpointKind,
    codec: Codec,
    accepted: usize,
    millis: [u32; 2],
    rate: u32,
    template: Option<Box<VoiceTemplate>>,
    seconds: Vec<f64>,
}

impl ParamBuilder {
    /// A builder for an endpoint that has received no parameter yet.
    pub fn new(kind: EndpointKind, codec: Codec) -> Self {
        Self {
            kind,
            codec,
            accepted: 0,
            millis: [0; 2],
            rate: 0,
            template: None,
            seconds: Vec::new(),
        }
    }

    /// The parameters the endpoint requires, in order.
    fn required(&self) -> &'static [ParamKind] {
        match self.kind {
            EndpointKind::SpeechEndpoint => &[
                ParamKind::MinSpeechMs,
                ParamKind::SilenceMs,
                ParamKind::SampleRate,
            ],
            EndpointKind::SpeechSummary => &[ParamKind::SampleRate],
            EndpointKind::VoiceVerify => &[
                ParamKind::Template,
                ParamKind::SampleRate,
                ParamKind::WindowSeconds,
            ],
        }
    }

    /// The first required parameter not yet accepted.
    pub fn missing(&self) -> Option<ParamKind> {
        self.required().get(self.accepted).copied()
    }

    /// Whether every required parameter has been accepted.
    pub fn is_complete(&self) -> bool {
        self.missing().is_none()
    }

    /// The next parameter expected: the required ones in order, then for
    /// the verify stream an optional window length (newer 4-parameter form)
    /// while `optional_allowed` (no audio yet).
    fn next(&self, optional_allowed: bool) -> Option<ParamKind> {
        self.missing().or_else(|| {
            let optional_window = self.kind == EndpointKind::VoiceVerify
                && self.seconds.len() == 1
                && optional_allowed;
            optional_window.then_some(ParamKind::WindowSeconds)
        })
    }

    /// Validates `text` as the next parameter and keeps it; a rejected
    /// text leaves the builder as it was.
    pub fn accept(&mut self, text: &str, optional_allowed: bool) -> Result<(), ProtocolError> {
        let kind = self
            .next(optional_allowed)
            .ok_or(ProtocolError::TextAfterParameters)?;
        let text = kind.checked_text(text)?;
        match kind {
            ParamKind::MinSpeechMs => self.millis[0] = kind.millis(text)?,
            ParamKind::SilenceMs => self.millis[1] = kind.millis(text)?,
            ParamKind::SampleRate => self.rate = kind.rate(text, self.codec)?,
            ParamKind::Template => self.template = Some(Box::new(kind.template(text)?)),
            ParamKind::WindowSeconds => {
                let seconds = kind.seconds(text)?;
                if let Some(&context) = self.seconds.first()
                    && seconds > context
                {
                    return Err(kind.invalid(format!(
                        "window {seconds} s is longer than the audio context {context} s"
                    )));
                }
                self.seconds.push(seconds);
            }
        }
        self.accepted += 1;
        Ok(())
    }

    /// The complete parameters, or which one is still missing.
    pub fn build(&self) -> Result<StreamParams, ProtocolError> {
        if let Some(missing) = self.missing() {
            return Err(ProtocolError::AudioBeforeParameters(missing.name()));
        }
        let [min_speech_ms, silence_ms] = self.millis;
        let rate = self.rate;
        Ok(match (self.kind, &self.template, self.seconds.as_slice()) {
            (EndpointKind::SpeechEndpoint, ..) => StreamParams::Endpoint {
                min_speech_ms,
                silence_ms,
                rate,
            },
            (EndpointKind::SpeechSummary, ..) => StreamParams::Summary { rate },
            (EndpointKind::VoiceVerify, Some(template), seconds) => {
                let context_seconds = seconds.first().copied().unwrap_or_default();
                StreamParams::Verify {
                    template: template.clone(),
                    rate,
                    context_seconds,
                    window_seconds: seconds.last().copied().unwrap_or(context_seconds),
                }
            }
            (EndpointKind::VoiceVerify, None, _) => {
                return Err(ProtocolError::AudioBeforeParameters(
                    ParamKind::Template.name(),
                ));
            }
        })
    }
}

impl ParamKind {
    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::MinSpeechMs => "minimum speech length (ms)",
            Self::SilenceMs => "silence after utterance (ms)",
            Self::SampleRate => "sample rate (Hz)",
            Self::Template => "voice template",
            Self::WindowSeconds => "window length (s)",
        }
    }

    fn invalid(self, reason: String) -> ProtocolError {
        ProtocolError::InvalidParameter {
            name: self.name(),
            reason,
        }
    }

    /// The text without surrounding whitespace, if it is not oversized.
    fn checked_text(self, text: &str) -> Result<&str, ProtocolError> {
        if text.len() > MAX_PARAMETER_BYTES {
            return Err(self.invalid(format!(
                "{} bytes; parameters are at most {MAX_PARAMETER_BYTES} bytes",
                text.len()
            )));
        }
        Ok(text.trim())
    }

    fn millis(self, text: &str) -> Result<u32, ProtocolError> {
        let ms = parse_integer(text).map_err(|r| self.invalid(r))?;
        if ms > MAX_MILLIS {
            return Err(self.invalid(format!("{ms} ms is longer than one hour")));
        }
        Ok(ms as u32)
    }

    fn rate(self, text: &str, codec: Codec) -> Result<u32, ProtocolError> {
        let rate = parse_integer(text).map_err(|r| self.invalid(r))?;
        match codec {
            Codec::Pcm16
                if !(u64::from(MIN_PCM_RATE)..=u64::from(MAX_PCM_RATE)).contains(&rate) =>
            {
                Err(self.invalid(format!(
                    "{rate} Hz is outside {MIN_PCM_RATE}–{MAX_PCM_RATE} Hz"
                )))
            }
            Codec::Opus if !OPUS_RATES.iter().any(|&r| u64::from(r) == rate) => Err(self.invalid(
                format!("{rate} Hz is not an Opus rate (8000, 12000, 16000, 24000, 48000)"),
            )),
            _ => Ok(rate as u32),
        }
    }

    fn template(self, text: &str) -> Result<VoiceTemplate, ProtocolError> {
        VoiceTemplate::from_base64(text, SPEAKER_MODEL).map_err(|e| self.invalid(e.to_string()))
    }

    fn seconds(self, text: &str) -> Result<f64, ProtocolError> {
        let seconds = parse_decimal(text).map_err(|r| self.invalid(r))?;
        if seconds <= 0.0 || seconds > MAX_VERIFY_SECONDS {
            return Err(self.invalid(format!(
                "{seconds} s is outside (0, {MAX_VERIFY_SECONDS}] s"
            )));
        }
        Ok(seconds)
    }
}

/// A non-negative decimal number such as `3` or `2.5` (no sign or exponent).
fn parse_decimal(text: &str) -> Result<f64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(format!("`{}` is not a non-negative number", shorten(text)));
    }
    text.parse::<f64>()
        .map_err(|_| format!("`{}` is not a number", shorten(text)))
}

/// A non-negative decimal integer without sign, fraction or exponent.
fn parse_integer(text: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Err("empty value".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{}` is not a non-negative integer", shorten(text)));
    }
    text.parse::<u64>()
        .map_err(|_| format!("`{}` is too large", shorten(text)))
}

/// Longest part of a client's text echoed in an error message (and so in the
/// logs): enough to recognise a typo, too short to carry a template or audio.
const ECHOED_CHARS: usize = 16;

/// At most [`ECHOED_CHARS`] characters of a client's text, for error messages.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(ECHOED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::Band;

    /// The parameters of a summary stream given `rate`.
    fn summary(rate: &str) -> Result<StreamParams, ProtocolError> {
        let mut builder = ParamBuilder::new(EndpointKind::SpeechSummary, Codec::Pcm16);
        builder.accept(rate, true)?;
        builder.build()
    }

    /// The parameters of an endpoint stream given its three texts.
    fn endpoint(texts: [&str; 3]) -> Result<StreamParams, ProtocolError> {
        let mut builder = ParamBuilder::new(EndpointKind::SpeechEndpoint, Codec::Pcm16);
        for text in texts {
            builder.accept(text, true)?;
        }
        builder.build()
    }

    fn template() -> String {
        VoiceTemplate::new(SPEAKER_MODEL.id, 2.0, Band::Wide, &[1.0; 192])
            .unwrap()
            .to_base64()
    }

    /// A verify builder given its template and rate.
    fn verify() -> ParamBuilder {
        let mut builder = ParamBuilder::new(EndpointKind::VoiceVerify, Codec::Pcm16);
        builder.accept(&template(), true).unwrap();
        builder.accept("16000", true).unwrap();
        builder
    }

    #[test]
    fn accepts_integers_with_surrounding_whitespace() {
        assert_eq!(
            endpoint(["0", " 300\n", "44100"]),
            Ok(StreamParams::Endpoint {
                min_speech_ms: 0,
                silence_ms: 300,
                rate: 44_100
            })
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        for text in [
            "",
            " ",
            "-1",
            "1.5",
            "abc",
            "1e3",
            "+5",
            "3600001",
            "99999999999999999999999",
        ] {
            assert!(endpoint(["0", text, "16000"]).is_err(), "{text:?}");
        }
        for text in ["7999", "192001", "0", "16000.0"] {
            assert!(summary(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn opus_streams_take_opus_rates_only() {
        let mut builder = ParamBuilder::new(EndpointKind::SpeechSummary, Codec::Opus);
        assert!(builder.accept("44100", true).is_err());
        assert!(builder.accept("48000", true).is_ok());
        assert_eq!(builder.build(), Ok(StreamParams::Summary { rate: 48_000 }));
    }

    #[test]
    fn seconds_accept_decimals_within_limits() {
        let window = |text: &str| -> Result<f64, ProtocolError> {
            let mut builder = verify();
            builder.accept(text, true)?;
            match builder.build()? {
                StreamParams::Verify { window_seconds, .. } => Ok(window_seconds),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(window("2.5"), Ok(2.5));
        assert_eq!(window(" 3 "), Ok(3.0));
        assert_eq!(window(".5"), Ok(0.5));
        for bad in [
            "0", "0.0", "-1", "1e1", "inf", "NaN", ".", "", "61", "1.2.3",
        ] {
            assert!(window(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_fourth_parameter_is_the_window_within_the_context() {
        let mut builder = verify();
        builder.accept("10", true).unwrap();
        assert!(builder.accept("12", true).is_err(), "window > context");
        builder.accept("3", true).unwrap();
        let built = builder.build().unwrap();
        assert!(matches!(
            built,
            StreamParams::Verify {
                context_seconds: 10.0,
                window_seconds: 3.0,
                ..
            }
        ));
        assert_eq!(
            builder.accept("2", true),
            Err(ProtocolError::TextAfterParameters)
        );
        let mut started = verify();
        started.accept("3", true).unwrap();
        assert_eq!(
            started.accept("2", false),
            Err(ProtocolError::TextAfterParameters),
            "no optional window once audio arrived"
        );
    }

    #[test]
    fn building_before_completion_names_the_missing_parameter() {
        let mut builder = ParamBuilder::new(EndpointKind::VoiceVerify, Codec::Pcm16);
        assert_eq!(
            builder.build(),
            Err(ProtocolError::AudioBeforeParameters("voice template"))
        );
        builder.accept(&template(), true).unwrap();
        assert_eq!(
            builder.build(),
            Err(ProtocolError::AudioBeforeParameters("sample rate (Hz)"))
        );
        assert!(!builder.is_complete());
    }

    #[test]
    fn templates_are_checked_on_arrival() {
        let accept = |text: &str| {
            ParamBuilder::new(EndpointKind::VoiceVerify, Codec::Pcm16).accept(text, true)
        };
        assert!(accept("not a template").is_err());
        let foreign = VoiceTemplate::new("other-model", 2.0, Band::Wide, &[1.0; 192]).unwrap();
        assert!(accept(&foreign.to_base64()).is_err());
        let short = VoiceTemplate::new(SPEAKER_MODEL.id, 2.0, Band::Wide, &[1.0; 191]).unwrap();
        assert!(accept(&short.to_base64()).is_err());
        assert!(accept(&format!("\"{}\"", template())).is_ok());
    }

    #[test]
    fn oversized_texts_are_refused_unread() {
        let huge = format!("{}16000", " ".repeat(MAX_PARAMETER_BYTES));
        let error = summary(&huge).unwrap_err().to_string();
        assert!(error.contains("at most 65536 bytes"), "{error}");
        let error = ParamBuilder::new(EndpointKind::VoiceVerify, Codec::Pcm16)
            .accept(&huge, true)
            .unwrap_err()
            .to_string();
        assert!(error.contains("at most 65536 bytes"), "{error}");
        assert!(summary(&huge[5..]).is_ok());
    }

    #[test]
    fn shortens_long_texts_on_char_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(shorten(&long).chars().count(), ECHOED_CHARS + 1);
        assert_eq!(shorten("short"), "short");
    }
}
