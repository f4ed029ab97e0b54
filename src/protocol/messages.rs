//! JSON replies, with the original server's field names and nesting.

use serde::Serialize;

use crate::speech::SpeechCounts;

/// `vad_result` of a speech summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct VadResult {
    /// Always 30.0.
    pub frame_length_ms: f64,
    /// One decision per 30 ms frame.
    pub frames: Vec<bool>,
}

/// The original's `SpeechSummary` (also the REST summary body).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct SpeechSummaryJson {
    /// Total non-speech in seconds.
    pub background_length: f64,
    /// Total speech in seconds.
    pub speech_signal_length: f64,
    /// All audio received, in seconds, partial frame included.
    pub total_length: f64,
    /// Frame decisions.
    pub vad_result: VadResult,
}

/// One reply of `/speech_summary_stream`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryStreamReply {
    /// Non-speech since the last speech frame, in seconds.
    pub current_background_length: f64,
    /// Total speech in seconds.
    pub speech_length: f64,
    /// The cumulative summary.
    pub current_speech_summary: SpeechSummaryJson,
}

impl SpeechSummaryJson {
    /// Builds the summary from counts, the audio length and the frames to report.
    pub fn new(counts: SpeechCounts, total_length: f64, frames: Vec<bool>) -> Self {
        Self {
            background_length: counts.background_seconds(),
            speech_signal_length: counts.speech_seconds(),
            total_length,
            vad_result: VadResult {
                frame_length_ms: f64::from(crate::vad::API_FRAME_MS),
                frames,
            },
        }
    }
}

impl SummaryStreamReply {
    /// Wraps a summary with the stream fields.
    pub fn new(counts: SpeechCounts, summary: SpeechSummaryJson) -> Self {
        Self {
            current_background_length: counts.trailing_background_seconds(),
            speech_length: counts.speech_seconds(),
            current_speech_summary: summary,
        }
    }
}

/// Serializes a reply; our reply types cannot fail to serialize.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("reply types serialize infallibly")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn summary_has_the_original_shape() {
        let counts = SpeechCounts {
            speech_frames: 1,
            background_frames: 11,
            trailing_background_frames: 0,
        };
        let mut frames = vec![false; 11];
        frames.push(true);
        let reply = SummaryStreamReply::new(counts, SpeechSummaryJson::new(counts, 0.3833, frames));
        let json: Value = serde_json::from_str(&to_json(&reply)).unwrap();
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&json),
            [
                "current_background_length",
                "current_speech_summary",
                "speech_length"
            ]
        );
        let summary = &json["current_speech_summary"];
        assert_eq!(
            keys(summary),
            [
                "background_length",
                "speech_signal_length",
                "total_length",
                "vad_result"
            ]
        );
        assert_eq!(keys(&summary["vad_result"]), ["frame_length_ms", "frames"]);
        assert_eq!(summary["vad_result"]["frame_length_ms"], 30.0);
        assert_eq!(
            summary["vad_result"]["frames"].as_array().unwrap().len(),
            12
        );
        assert!((json["speech_length"].as_f64().unwrap() - 0.03).abs() < 1e-9);
        assert!((summary["background_length"].as_f64().unwrap() - 0.33).abs() < 1e-9);
    }
}
