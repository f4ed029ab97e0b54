//! The Opus endpoints against the PCM endpoints on the same speech (12 s of
//! the LibriVox file, and its Opus encoding at 64 kb/s, 20 ms frames):
//! ≥ 97 % identical VAD frames, the same endpoint decision within one frame,
//! verify scores within 0.02; and bad packets get "500" without loss.

mod common;

use common::*;
use serde_json::Value;
use voiceport::audio::OggOpusDemuxer;
use voiceport::models::Models;
use voiceport::protocol::Session;
use voiceport::service::{AudioBuffer, create_template};

const OGG: &[u8] = include_bytes!("data/opus/librivox_64kbps_20ms.opus");

fn models() -> Models {
    Models::from_bytes(SILERO_MODEL, Some(CAMPPLUS_MODEL)).expect("models")
}

/// The first 12 s of the LibriVox file as PCM16, in 20 ms messages.
fn pcm_messages() -> Vec<Vec<u8>> {
    let (samples, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    assert_eq!(rate, 16_000);
    pcm16_bytes(&samples[..12 * 16_000])
        .chunks(640)
        .map(<[u8]>::to_vec)
        .collect()
}

/// The Opus packets of the Ogg file (20 ms each), one per message.
fn opus_packets() -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    OggOpusDemuxer::new().push(OGG, &mut packets).unwrap();
    packets
}

fn open(path: &str, params: &[&str], models: Models) -> Session {
    let mut session = Session::for_path(path, models).unwrap();
    for param in params {
        assert_eq!(session.on_text(param), "200", "{path} {param}");
    }
    session
}

/// The last summary's frames after streaming `messages`.
fn summary_frames(path: &str, messages: &[Vec<u8>]) -> Vec<bool> {
    let mut session = open(path, &["16000"], models());
    let last = messages
        .iter()
        .map(|m| session.on_binary(m))
        .last()
        .unwrap();
    let summary: Value = serde_json::from_str(&last).unwrap();
    summary["current_speech_summary"]["vad_result"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_bool().unwrap())
        .collect()
}

#[test]
fn opus_and_pcm_give_the_same_frames() {
    let pcm = summary_frames("/speech_summary_stream", &pcm_messages());
    let opus = summary_frames("/speech_summary_stream_opus", &opus_packets());
    let compared = pcm.len().min(opus.len());
    assert!(compared >= 390, "{compared} frames");
    let agree = (0..compared).filter(|&i| pcm[i] == opus[i]).count();
    assert!(
        agree * 100 >= compared * 97,
        "{agree} of {compared} frames agree"
    );
}

/// Seconds of audio sent when the endpoint first answered "true".
fn endpoint_time(path: &str, messages: &[Vec<u8>]) -> f64 {
    let mut session = open(path, &["300", "500", "16000"], models());
    let first = messages
        .iter()
        .position(|m| session.on_binary(m) == "true")
        .expect("an endpoint");
    (first + 1) as f64 * 0.02
}

#[test]
fn opus_and_pcm_end_the_utterance_within_one_frame() {
    let pcm = endpoint_time("/speech_endpoint_detector", &pcm_messages());
    let opus = endpoint_time("/speech_endpoint_detector_opus", &opus_packets());
    // One 30 ms frame of decision, seen at 20 ms message boundaries: ≤ 50 ms.
    assert!(
        (pcm - opus).abs() <= 0.05 + 1e-9,
        "PCM {pcm} s, Opus {opus} s"
    );
}

/// (start sample, score) of every verify result.
fn verify_scores(path: &str, template: &str, messages: &[Vec<u8>]) -> Vec<(u64, f64)> {
    let mut session = open(path, &[template, "16000", "3"], models());
    messages
        .iter()
        .flat_map(|m| {
            let reply: Value = serde_json::from_str(&session.on_binary(m)).unwrap();
            reply.as_array().unwrap().clone()
        })
        .map(|r| {
            let start = r["audio_interval"]["start_sample"].as_u64().unwrap();
            (start, r["verify_result"]["score"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn opus_and_pcm_verify_scores_agree() {
    let (samples, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    // Enrolled from later audio than the 12 s probed, so neither probe repeats it.
    let enroll = pcm16_bytes(&samples[14 * 16_000..]);
    let audio = AudioBuffer::Pcm16 {
        bytes: &enroll,
        sample_rate: 16_000,
    };
    let template = create_template(&models(), audio).unwrap();
    let pcm = verify_scores("/voice_verify_stream", &template, &pcm_messages());
    // As an Ogg stream: the pre-skip aligns the decoded audio with the PCM.
    let ogg: Vec<Vec<u8>> = OGG.chunks(2000).map(<[u8]>::to_vec).collect();
    let opus = verify_scores("/voice_verify_stream_opus", &template, &ogg);
    assert!(pcm.len() >= 18, "{} results", pcm.len());
    assert_eq!(pcm.len(), opus.len());
    for ((start_pcm, a), (start_opus, b)) in pcm.iter().zip(&opus) {
        assert_eq!(start_pcm, start_opus);
        assert!(
            (a - b).abs() <= 0.02,
            "at {start_pcm}: PCM {a:.4}, Opus {b:.4}"
        );
    }
}

#[test]
fn corrupt_packets_get_500_and_nothing_else_is_lost() {
    let packets = opus_packets();
    let mut clean = open("/speech_summary_stream_opus", &["48000"], models());
    let mut damaged = open("/speech_summary_stream_opus", &["48000"], models());
    let mut last = (String::new(), String::new());
    for (i, packet) in packets.iter().enumerate().take(100) {
        last.0 = clean.on_binary(packet);
        if i == 40 {
            // A truncated code-3 packet: the decoder rejects it.
            assert_eq!(damaged.on_binary(&[packet[0] | 3, 0xff]), "500");
            assert!(damaged.last_error().unwrap().contains("Opus"));
        }
        last.1 = damaged.on_binary(packet);
        assert_ne!(last.1, "500", "packet {i}");
    }
    let total = |reply: &str| -> f64 {
        let v: Value = serde_json::from_str(reply).unwrap();
        v["current_speech_summary"]["total_length"]
            .as_f64()
            .unwrap()
    };
    // The concealed packet keeps the timeline: one extra 20 ms.
    assert!(
        (total(&last.1) - total(&last.0) - 0.02).abs() < 1e-6,
        "{} vs {}",
        last.1,
        last.0
    );
}

#[test]
fn opus_rates_are_checked() {
    let mut session = Session::for_path("/speech_summary_stream_opus", models()).unwrap();
    assert_eq!(session.on_text("44100"), "500");
    assert!(session.last_error().unwrap().contains("Opus"));
    assert_eq!(session.on_text("8000"), "200");
}

#[test]
fn an_ogg_stream_split_anywhere_decodes() {
    let mut whole = open("/speech_summary_stream_opus", &["16000"], models());
    let reference = whole.on_binary(OGG);
    let mut split = open("/speech_summary_stream_opus", &["16000"], models());
    let mut last = String::new();
    for chunk in OGG.chunks(333) {
        last = split.on_binary(chunk);
    }
    let frames = |reply: &str| -> Value {
        serde_json::from_str::<Value>(reply).unwrap()["current_speech_summary"].clone()
    };
    assert_eq!(frames(&last), frames(&reference));
}
