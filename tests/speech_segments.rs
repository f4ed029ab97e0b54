//! Speech segments of real speech: one segment per labelled utterance, with
//! its own audio, whatever the split of the stream.

mod common;

use common::{LIBRIVOX_GAPS_WAV, librivox_spans, silero, wav_samples};
use voiceport::audio::encode_pcm16;
use voiceport::service::segments::{SegmentConfig, SegmentStream};
use voiceport::speech::SegmentEvent;

/// Events of `pcm16` at 16 kHz pushed in pieces of `piece` bytes, frames left out.
fn segments(pcm16: &[u8], piece: usize, config: SegmentConfig) -> (Vec<SegmentEvent>, usize) {
    let mut stream = SegmentStream::new(&silero(), 16_000, config).unwrap();
    let mut events = Vec::new();
    for part in pcm16.chunks(piece) {
        events.extend(stream.push(part).unwrap());
    }
    events.extend(stream.finish().unwrap());
    let frames = events
        .iter()
        .filter(|event| matches!(event, SegmentEvent::Frame(_)))
        .count();
    events.retain(|event| !matches!(event, SegmentEvent::Frame(_)));
    (events, frames)
}

fn config() -> SegmentConfig {
    SegmentConfig {
        redemption_ms: 600,
        pre_speech_pad_ms: 300,
        min_speech_ms: 250,
        ..SegmentConfig::default()
    }
}

#[test]
fn one_segment_per_utterance_with_its_audio() {
    let (samples, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let pcm16 = encode_pcm16(&samples);
    let (events, frames) = segments(&pcm16, 3_200, config());
    assert_eq!(frames, samples.len() / 480, "one frame event per 30 ms");
    let (spans, _) = librivox_spans();
    let ends: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            SegmentEvent::SpeechEnd {
                audio,
                start_ms,
                end_ms,
            } => Some((audio, *start_ms, *end_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(ends.len(), spans.len(), "{events:?}");
    let starts = events
        .iter()
        .filter(|event| matches!(event, SegmentEvent::SpeechStart { .. }))
        .count();
    assert_eq!(starts, spans.len(), "no misfire: {events:?}");
    for ((audio, start_ms, end_ms), (label_start, label_end)) in ends.iter().zip(&spans) {
        let (start, end) = (*start_ms as f64 / 1000.0, *end_ms as f64 / 1000.0);
        // The pad reaches before the labelled start; the redemption past its end.
        assert!(
            start <= *label_start && start >= label_start - 0.5,
            "{start} vs {label_start}"
        );
        assert!(
            end >= *label_end && end <= label_end + 1.0,
            "{end} vs {label_end}"
        );
        // The audio is the stream's own, sample for sample (PCM16 precision).
        let expected = &samples[*start_ms as usize * 16..*end_ms as usize * 16];
        assert_eq!(audio.len(), expected.len());
        let worst = audio
            .iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1.0 / 32_768.0, "{worst}");
    }
}

#[test]
fn events_do_not_depend_on_the_split() {
    let (samples, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let pcm16 = encode_pcm16(&samples[..16_000 * 14]);
    let whole = segments(&pcm16, pcm16.len(), config());
    for piece in [1, 333, 4_097] {
        assert_eq!(
            segments(&pcm16, piece, config()),
            whole,
            "pieces of {piece} bytes"
        );
    }
}

#[test]
fn a_high_minimum_makes_utterances_misfires() {
    let (samples, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let pcm16 = encode_pcm16(&samples);
    let config = SegmentConfig {
        min_speech_ms: 60_000,
        ..config()
    };
    let (events, _) = segments(&pcm16, 32_000, config);
    let misfires = events
        .iter()
        .filter(|event| matches!(event, SegmentEvent::Misfire { .. }))
        .count();
    assert_eq!(misfires, librivox_spans().0.len());
    assert!(
        events
            .iter()
            .all(|event| !matches!(event, SegmentEvent::SpeechEnd { .. }))
    );
}

#[test]
fn bad_thresholds_and_rates_are_refused_with_a_reason() {
    for (positive, negative) in [(0.3, 0.5), (1.5, 0.2), (0.5, -0.1), (f32::NAN, 0.1)] {
        let config = SegmentConfig {
            positive_speech_threshold: positive,
            negative_speech_threshold: negative,
            ..SegmentConfig::default()
        };
        let error = SegmentStream::new(&silero(), 16_000, config).err().unwrap();
        assert!(
            error.to_string().contains("negativeSpeechThreshold"),
            "{error}"
        );
    }
    let error = SegmentStream::new(&silero(), 4_000, SegmentConfig::default())
        .err()
        .unwrap();
    assert!(error.to_string().contains("4000"), "{error}");
}
