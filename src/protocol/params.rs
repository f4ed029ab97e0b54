//! Parameter texts → validated values. Whitespace around a value is ignored.

use super::{Codec, ProtocolError};
use crate::audio::{MAX_PCM_RATE, MIN_PCM_RATE, OPUS_RATES};
use crate::voice::{MAX_VERIFY_SECONDS, SPEAKER_MODEL, VoiceTemplate};

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

/// A validated parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Milliseconds.
    Millis(u32),
    /// Hertz.
    Rate(u32),
    /// A voice template.
    Template(Box<VoiceTemplate>),
    /// Seconds.
    Seconds(f64),
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

    /// Validates `text` as this parameter for an endpoint using `codec`.
    pub fn parse(self, text: &str, codec: Codec) -> Result<ParamValue, ProtocolError> {
        let invalid = |reason: String| ProtocolError::InvalidParameter {
            name: self.name(),
            reason,
        };
        if text.len() > MAX_PARAMETER_BYTES {
            return Err(invalid(format!(
                "{} bytes; parameters are at most {MAX_PARAMETER_BYTES} bytes",
                text.len()
            )));
        }
        let text = text.trim();
        match self {
            Self::MinSpeechMs | Self::SilenceMs => {
                let ms = parse_integer(text).map_err(invalid)?;
                if ms > MAX_MILLIS {
                    return Err(invalid(format!("{ms} ms is longer than one hour")));
                }
                Ok(ParamValue::Millis(ms as u32))
            }
            Self::SampleRate => {
                let rate = parse_integer(text).map_err(invalid)?;
                match codec {
                    Codec::Pcm16
                        if !(u64::from(MIN_PCM_RATE)..=u64::from(MAX_PCM_RATE)).contains(&rate) =>
                    {
                        return Err(invalid(format!(
                            "{rate} Hz is outside {MIN_PCM_RATE}–{MAX_PCM_RATE} Hz"
                        )));
                    }
                    Codec::Opus if !OPUS_RATES.iter().any(|&r| u64::from(r) == rate) => {
                        return Err(invalid(format!(
                            "{rate} Hz is not an Opus rate (8000, 12000, 16000, 24000, 48000)"
                        )));
                    }
                    _ => {}
                }
                Ok(ParamValue::Rate(rate as u32))
            }
            Self::Template => VoiceTemplate::from_base64(text, SPEAKER_MODEL)
                .map(|t| ParamValue::Template(Box::new(t)))
                .map_err(|e| invalid(e.to_string())),
            Self::WindowSeconds => {
                let seconds = parse_decimal(text).map_err(invalid)?;
                if seconds <= 0.0 || seconds > MAX_VERIFY_SECONDS {
                    return Err(invalid(format!(
                        "{seconds} s is outside (0, {MAX_VERIFY_SECONDS}] s"
                    )));
                }
                Ok(ParamValue::Seconds(seconds))
            }
        }
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

    #[test]
    fn accepts_integers_with_surrounding_whitespace() {
        assert_eq!(
            ParamKind::SilenceMs.parse(" 300\n", Codec::Pcm16),
            Ok(ParamValue::Millis(300))
        );
        assert_eq!(
            ParamKind::SampleRate.parse("44100", Codec::Pcm16),
            Ok(ParamValue::Rate(44_100))
        );
        assert_eq!(
            ParamKind::MinSpeechMs.parse("0", Codec::Pcm16),
            Ok(ParamValue::Millis(0))
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
            assert!(
                ParamKind::SilenceMs.parse(text, Codec::Pcm16).is_err(),
                "{text:?}"
            );
        }
        for text in ["7999", "192001", "0", "16000.0"] {
            assert!(
                ParamKind::SampleRate.parse(text, Codec::Pcm16).is_err(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn seconds_accept_decimals_within_limits() {
        let parse = |t| ParamKind::WindowSeconds.parse(t, Codec::Pcm16);
        assert_eq!(parse("2.5"), Ok(ParamValue::Seconds(2.5)));
        assert_eq!(parse(" 3 "), Ok(ParamValue::Seconds(3.0)));
        assert_eq!(parse(".5"), Ok(ParamValue::Seconds(0.5)));
        for bad in [
            "0", "0.0", "-1", "1e1", "inf", "NaN", ".", "", "61", "1.2.3",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn templates_are_checked_on_arrival() {
        let parse = |t: &str| ParamKind::Template.parse(t, Codec::Pcm16);
        assert!(parse("not a template").is_err());
        let foreign = VoiceTemplate::new("other-model", 2.0, &[1.0; 192]).unwrap();
        assert!(parse(&foreign.to_base64()).is_err());
        let short = VoiceTemplate::new(SPEAKER_MODEL.id, 2.0, &[1.0; 191]).unwrap();
        assert!(parse(&short.to_base64()).is_err());
        let ours = VoiceTemplate::new(SPEAKER_MODEL.id, 2.0, &[1.0; 192]).unwrap();
        let quoted = format!("\"{}\"", ours.to_base64());
        assert!(matches!(parse(&quoted), Ok(ParamValue::Template(_))));
    }

    #[test]
    fn oversized_texts_are_refused_unread() {
        let huge = format!("{}16000", " ".repeat(MAX_PARAMETER_BYTES));
        for kind in [ParamKind::SampleRate, ParamKind::Template] {
            let error = kind.parse(&huge, Codec::Pcm16).unwrap_err().to_string();
            assert!(error.contains("at most 65536 bytes"), "{error}");
        }
        assert!(
            ParamKind::SampleRate
                .parse(&huge[5..], Codec::Pcm16)
                .is_ok()
        );
    }

    #[test]
    fn shortens_long_texts_on_char_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(shorten(&long).chars().count(), ECHOED_CHARS + 1);
        assert_eq!(shorten("short"), "short");
    }
}
