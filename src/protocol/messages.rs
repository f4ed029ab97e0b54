//! JSON replies, with the original server's field names and nesting.

use serde::Serialize;

use crate::speech::{SpeechCounts, SpeechRun};
use crate::vad::API_FRAME_MS;
use crate::voice::MatchResult;

/// A length or probability as the original server prints it: a
/// single-precision value widened to double (`0.03` prints as
/// `0.029999999329447746`).
pub fn single_precision(value: f64) -> f64 {
    f64::from(value as f32)
}

/// Where a stretch of audio lies, in the client's samples and whole
/// milliseconds. Fields in the original's (alphabetical) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct AudioInterval {
    /// One past the last sample.
    pub end_sample: u64,
    /// End in ms.
    pub end_time: u64,
    /// The client's sample rate.
    pub sample_rate: u32,
    /// First sample.
    pub start_sample: u64,
    /// Start in ms.
    pub start_time: u64,
}

impl AudioInterval {
    /// Client samples `start..end` at `sample_rate`.
    pub fn new(start: u64, end: u64, sample_rate: u32) -> Self {
        let ms = |sample: u64| {
            let rate = u64::from(sample_rate);
            (sample.saturating_mul(1000) + rate / 2) / rate
        };
        Self {
            end_sample: end,
            end_time: ms(end),
            sample_rate,
            start_sample: start,
            start_time: ms(start),
        }
    }

    /// API frames `start..end` (30 ms each) in a client's timeline at `sample_rate`.
    pub fn of_frames(start: u64, end: u64, sample_rate: u32) -> Self {
        let sample = |frame: u64| {
            let ms = frame * u64::from(API_FRAME_MS);
            (ms * u64::from(sample_rate) + 500) / 1000
        };
        Self::new(sample(start), sample(end), sample_rate)
    }
}

/// One element of a verify stream reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyStreamResult {
    /// The window scored.
    pub audio_interval: AudioInterval,
    /// How well it matches the template.
    pub verify_result: MatchResult,
}

/// One run of voice or non-voice frames, as version 3 servers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct SpeechEvent {
    /// Whether the run is speech.
    pub is_voice: bool,
    /// Where it lies.
    pub audio_interval: AudioInterval,
}

/// The speech events of frame runs, in a client's timeline at `sample_rate`.
pub fn speech_events(runs: &[SpeechRun], sample_rate: u32) -> Vec<SpeechEvent> {
    runs.iter()
        .map(|run| SpeechEvent {
            is_voice: run.is_speech,
            audio_interval: AudioInterval::of_frames(run.start, run.end, sample_rate),
        })
        .collect()
}

/// `vad_result` of a speech summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct VadResult {
    /// Always 30.0.
    pub frame_length_ms: f64,
    /// One decision per 30 ms frame.
    pub frames: Vec<bool>,
}

/// The original's `SpeechSummary`.
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

/// The REST summary body: the summary and its speech events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct SpeechSummaryBody {
    /// The summary's fields.
    #[serde(flatten)]
    pub summary: SpeechSummaryJson,
    /// Alternating runs of voice and non-voice frames.
    pub speech_events: Vec<SpeechEvent>,
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
    /// Runs of voice and non-voice frames (all, or those the new frames touched).
    pub speech_events: Vec<SpeechEvent>,
}

impl SpeechSummaryJson {
    /// Builds the summary from counts, the audio length and the frames to report.
    pub fn new(counts: SpeechCounts, total_length: f64, frames: Vec<bool>) -> Self {
        Self {
            background_length: single_precision(counts.background_seconds()),
            speech_signal_length: single_precision(counts.speech_seconds()),
            total_length: single_precision(total_length),
            vad_result: VadResult {
                frame_length_ms: f64::from(API_FRAME_MS),
                frames,
            },
        }
    }
}

impl SummaryStreamReply {
    /// Wraps a summary with the stream fields.
    pub fn new(counts: SpeechCounts, summary: SpeechSummaryJson, events: Vec<SpeechEvent>) -> Self {
        Self {
            current_background_length: single_precision(counts.trailing_background_seconds()),
            speech_length: single_precision(counts.speech_seconds()),
            current_speech_summary: summary,
            speech_events: events,
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

    /// The original document's speech summary example.
    const SUMMARY_EXAMPLE: &str = r#"{
      "current_background_length": 0.0,
      "speech_length": 0.029999999329447746,
      "current_speech_summary": {
        "background_length": 0.33000001311302185,
        "speech_signal_length": 0.029999999329447746,
        "total_length": 0.38331249356269836,
        "vad_result": {
          "frame_length_ms": 30.0,
          "frames": [false, false, false, false, false, false,
                     false, false, false, false, false, true]
        }
      }
    }"#;

    /// The original document's verify stream example.
    const VERIFY_EXAMPLE: &str = r#"[
      {
        "audio_interval": {
          "end_sample": 48000,
          "end_time": 3000,
          "sample_rate": 16000,
          "start_sample": 0,
          "start_time": 0
        },
        "verify_result": {
          "probability": 0.9999368786811829,
          "score": 0.6484680771827698
        }
      }
    ]"#;

    fn without_whitespace(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn the_summary_example_is_rebuilt_byte_for_byte() {
        let counts = SpeechCounts {
            speech_frames: 1,
            background_frames: 11,
            trailing_background_frames: 0,
        };
        let mut frames = vec![false; 11];
        frames.push(true);
        let mut runs = crate::speech::SpeechRuns::new();
        runs.push(&frames);
        let summary = SpeechSummaryJson::new(counts, 6133.0 / 16000.0, frames);
        let reply = SummaryStreamReply::new(counts, summary, speech_events(runs.all(), 16_000));
        let ours = to_json(&reply);
        // The seed's fields, in its order and its number format; then the
        // version 3 speech events.
        let example = without_whitespace(SUMMARY_EXAMPLE);
        let seed = &example[..example.len() - 1];
        assert!(ours.starts_with(seed), "{ours}");
        let events: Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(
            events["speech_events"],
            serde_json::json!([
                {"is_voice": false, "audio_interval": {"end_sample": 5280, "end_time": 330,
                    "sample_rate": 16000, "start_sample": 0, "start_time": 0}},
                {"is_voice": true, "audio_interval": {"end_sample": 5760, "end_time": 360,
                    "sample_rate": 16000, "start_sample": 5280, "start_time": 330}},
            ])
        );
    }

    #[test]
    fn the_verify_example_is_rebuilt_byte_for_byte() {
        let result = VerifyStreamResult {
            audio_interval: AudioInterval::new(0, 48_000, 16_000),
            verify_result: MatchResult {
                probability: single_precision(0.999_936_9),
                score: single_precision(0.648_468_1),
            },
        };
        assert_eq!(to_json(&[result]), without_whitespace(VERIFY_EXAMPLE));
    }

    #[test]
    fn frame_intervals_use_whole_milliseconds_at_any_rate() {
        let interval = AudioInterval::of_frames(1, 3, 11_025);
        assert_eq!(
            (interval.start_sample, interval.end_sample),
            (331, 992),
            "30 ms = 330.75 samples, rounded"
        );
        assert_eq!((interval.start_time, interval.end_time), (30, 90));
        let json = to_json(&AudioInterval::new(5_513, 16_538, 11_025));
        assert_eq!(
            json,
            r#"{"end_sample":16538,"end_time":1500,"sample_rate":11025,"start_sample":5513,"start_time":500}"#
        );
    }
}
