//! Voices heard through the telephone band (an 8 kHz client): templates
//! record their band, and `probability` keeps its meaning across bands
//! because scores are normalised against a cohort heard in the same band.
#![cfg(not(target_arch = "wasm32"))]

mod common;

#[allow(dead_code)] // only the telephone band and the audio input are used here
#[path = "../examples/support/speech_files.rs"]
mod speech_files;

use common::{UTTERANCE_103, UTTERANCE_1034, voice_engine};
use speech_files::{telephone, through_pcm_input};
use voiceport::models::Models;
use voiceport::protocol::VerifyStream;
use voiceport::service::{AudioBuffer, create_template, match_voice_templates};
use voiceport::voice::{
    Band, MatchResult, SPEAKER_MODEL, VoiceEngine, VoiceTemplate, match_templates,
};

const UTTERANCE_1069: &[u8] = include_bytes!("data/librispeech/1069-133699-0000.flac");

/// A template written by a build before templates recorded their band.
const TEMPLATE_VERSION_1: &str = include_str!("data/expected/template_version_1.txt");
/// The replies recorded from the same audio, with today's (version 2) template.
const RECORDED_REPLIES: &str = include_str!("data/expected/session_replies.json");

/// A speaker's recording as a 16 kHz and as an 8 kHz client sends it, each
/// cut in two halves, as the engine hears them.
struct Speaker {
    wide: [Vec<f32>; 2],
    narrow: [Vec<f32>; 2],
}

fn speaker(flac: &[u8]) -> Speaker {
    let recording = common::flac_pcm16(flac);
    let halves = |samples: Vec<f32>| {
        let (a, b) = samples.split_at(samples.len() / 2);
        [a.to_vec(), b.to_vec()]
    };
    Speaker {
        wide: halves(through_pcm_input(&recording, 16_000)),
        narrow: halves(through_pcm_input(&telephone(&recording), 8_000)),
    }
}

fn speakers() -> Vec<Speaker> {
    [UTTERANCE_1034.flac, UTTERANCE_103.flac, UTTERANCE_1069]
        .into_iter()
        .map(speaker)
        .collect()
}

fn template(engine: &VoiceEngine, samples: &[f32], band: Band) -> VoiceTemplate {
    engine.template(samples, band).expect("template")
}

#[test]
fn a_template_made_from_8_khz_audio_records_the_narrow_band() {
    let recording = common::flac_pcm16(UTTERANCE_1034.flac);
    let models = Models::bundled().unwrap();
    for (rate, samples, band) in [
        (8_000, telephone(&recording), Band::Narrow),
        (16_000, recording, Band::Wide),
    ] {
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let audio = AudioBuffer::Pcm16 {
            bytes: &bytes,
            sample_rate: rate,
        };
        let made = create_template(&models, audio).unwrap();
        let made = VoiceTemplate::from_base64(&made, SPEAKER_MODEL).unwrap();
        assert_eq!(made.band, band, "{rate} Hz");
    }
}

#[test]
fn same_and_different_speakers_are_told_apart_in_and_across_bands() {
    let engine = voice_engine();
    let speakers = speakers();
    for (enrolled_band, probe_band) in [
        (Band::Wide, Band::Wide),
        (Band::Narrow, Band::Narrow),
        (Band::Wide, Band::Narrow),
    ] {
        let heard = |s: &Speaker, band: Band, half: usize| match band {
            Band::Wide => s.wide[half].clone(),
            Band::Narrow => s.narrow[half].clone(),
        };
        for (i, a) in speakers.iter().enumerate() {
            let enrolled = template(&engine, &heard(a, enrolled_band, 0), enrolled_band);
            for (j, b) in speakers.iter().enumerate() {
                let probe = template(&engine, &heard(b, probe_band, 1), probe_band);
                let result = match_templates(&enrolled, &probe).unwrap();
                assert_eq!(
                    result.probability > 0.5,
                    i == j,
                    "speakers {i} and {j}, {enrolled_band:?} template, {probe_band:?} probe: {result:?}"
                );
            }
        }
    }
}

#[test]
fn an_8_khz_verify_stream_scores_its_windows_as_narrow_band_audio() {
    let engine = voice_engine();
    let speaker = speaker(UTTERANCE_103.flac);
    let enrolled = template(&engine, &speaker.wide[0], Band::Wide);
    let mut stream = VerifyStream::new(engine, enrolled.clone(), 8_000, 3.0, 3.0);
    let mut unbounded = f64::INFINITY;
    let (mut scored, mut accepted) = (0, 0);
    // 100 ms messages of the 8 kHz client (800 samples, 1 600 at 16 kHz).
    for message in speaker.narrow[1].chunks(1_600) {
        let results = stream
            .push(message, message.len() as u64 / 2, &mut unbounded)
            .unwrap()
            .results;
        let (Some(result), Some(embedding)) = (results.last(), stream.newest_embedding()) else {
            continue;
        };
        let expected =
            MatchResult::between((&enrolled.embedding, Band::Wide), (embedding, Band::Narrow));
        assert_eq!(result.verify_result, expected);
        scored += 1;
        accepted += usize::from(expected.probability > 0.5);
    }
    assert!(scored >= 5, "{scored} windows scored");
    // The enrolled speaker, heard through the telephone band: most windows
    // accepted (the first, with the least speech, is the weakest).
    assert!(
        accepted * 5 >= scored * 4,
        "{accepted} of {scored} windows accepted"
    );
}

#[test]
fn a_template_made_before_bands_were_recorded_still_matches_as_wide_band() {
    let old = VoiceTemplate::from_base64(TEMPLATE_VERSION_1, SPEAKER_MODEL).unwrap();
    assert_eq!(old.band, Band::Wide);
    let replies: serde_json::Value = serde_json::from_str(RECORDED_REPLIES).unwrap();
    let new = replies["template"].as_str().unwrap();
    let result = match_voice_templates(TEMPLATE_VERSION_1, new).unwrap();
    assert!(result.score > 0.999, "{result:?}");
    assert!(result.probability > 0.99, "{result:?}");
}
