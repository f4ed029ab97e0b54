//! Parameter texts → validated values. Whitespace around a value is ignored.

use super::{Codec, ProtocolError};
use crate::audio::{MAX_PCM_RATE, MIN_PCM_RATE};

/// The longest duration any parameter may ask for: one hour.
const MAX_MILLIS: u64 = 3_600_000;

/// One parameter an endpoint expects, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Minimum speech before an endpoint can be detected (ms).
    MinSpeechMs,
    /// Silence after the utterance that marks the endpoint (ms).
    SilenceMs,
    /// Client sample rate (Hz).
    SampleRate,
}

/// A validated parameter value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    /// Milliseconds.
    Millis(u32),
    /// Hertz.
    Rate(u32),
}

impl ParamKind {
    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::MinSpeechMs => "minimum speech length (ms)",
            Self::SilenceMs => "silence after utterance (ms)",
            Self::SampleRate => "sample rate (Hz)",
        }
    }

    /// Validates `text` as this parameter for an endpoint using `codec`.
    pub fn parse(self, text: &str, codec: Codec) -> Result<ParamValue, ProtocolError> {
        let invalid = |reason: String| ProtocolError::InvalidParameter {
            name: self.name(),
            reason,
        };
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
                let supported = match codec {
                    Codec::Pcm16 => {
                        (u64::from(MIN_PCM_RATE)..=u64::from(MAX_PCM_RATE)).contains(&rate)
                    }
                };
                if !supported {
                    return Err(invalid(format!(
                        "{rate} Hz is outside {MIN_PCM_RATE}–{MAX_PCM_RATE} Hz"
                    )));
                }
                Ok(ParamValue::Rate(rate as u32))
            }
        }
    }
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

/// At most 40 characters of a client's text, for error messages.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
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
    fn shortens_long_texts_on_char_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 41);
        assert_eq!(shorten("short"), "short");
    }
}
