//! Summary stream replies as version 3 servers send them: `speech_events`
//! beside the seed's fields, consistent with the frames, in the client's
//! timeline; no frame reported before all its audio arrived.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use serde_json::Value;
use voiceport::models::Models;
use voiceport::protocol::Session;

fn models() -> Models {
    Models::from_bytes(SILERO_MODEL, None).expect("VAD model")
}

/// The replies of a summary stream at `rate` fed `audio` in `chunk`-byte messages.
fn replies(path: &str, rate: u32, audio: &[u8], chunk: usize) -> Vec<Value> {
    let mut session = Session::for_path(path, models()).unwrap();
    assert_eq!(session.on_text(&rate.to_string()), "200");
    audio
        .chunks(chunk)
        .map(|message| serde_json::from_str(&session.on_binary(message)).unwrap())
        .collect()
}

/// `(is_voice, start_sample, end_sample, start_time, end_time)` of each event.
fn events(reply: &Value, rate: u64) -> Vec<(bool, u64, u64, u64, u64)> {
    reply["speech_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let interval = &event["audio_interval"];
            assert_eq!(interval["sample_rate"].as_u64(), Some(rate));
            let field = |name: &str| interval[name].as_u64().expect(name);
            (
                event["is_voice"].as_bool().unwrap(),
                field("start_sample"),
                field("end_sample"),
                field("start_time"),
                field("end_time"),
            )
        })
        .collect()
}

fn frames(reply: &Value) -> Vec<bool> {
    reply["current_speech_summary"]["vad_result"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_bool().unwrap())
        .collect()
}

/// The events that describe `frames`, built independently of the server.
fn expected_events(frames: &[bool], rate: u64) -> Vec<(bool, u64, u64, u64, u64)> {
    let sample = |frame: usize| (frame as u64 * 30 * rate + 500) / 1000;
    let mut events = Vec::new();
    let mut start = 0;
    for end in 1..=frames.len() {
        if end == frames.len() || frames[end] != frames[start] {
            events.push((
                frames[start],
                sample(start),
                sample(end),
                start as u64 * 30,
                end as u64 * 30,
            ));
            start = end;
        }
    }
    events
}

fn speech_at(rate: u32) -> Vec<u8> {
    pcm16_bytes(&resample_from_16k(&flac_samples(UTTERANCE_1034.flac), rate))
}

#[test]
fn every_reply_carries_the_events_of_its_frames() {
    for rate in [16_000, 44_100, 11_025] {
        let audio = speech_at(rate);
        let replies = replies("/speech_summary_stream", rate, &audio, 7_001);
        let last = replies.last().unwrap();
        assert!(frames(last).contains(&true) && frames(last).contains(&false));
        for reply in &replies {
            assert_eq!(
                events(reply, rate.into()),
                expected_events(&frames(reply), rate.into()),
                "{rate} Hz"
            );
        }
    }
}

#[test]
fn no_frame_is_reported_before_its_audio_arrived() {
    // Messages of odd sizes end at every offset within a frame.
    for (rate, chunk) in [(16_000u32, 2 * 173), (16_000, 2 * 479), (44_100, 2 * 1_001)] {
        let audio = speech_at(rate);
        let mut sent = 0u64;
        for (reply, message) in replies("/speech_summary_stream", rate, &audio, chunk)
            .iter()
            .zip(audio.chunks(chunk))
        {
            sent += message.len() as u64 / 2;
            let frames = frames(reply).len() as u64;
            assert!(
                frames * 30 * u64::from(rate) <= sent * 1000,
                "{frames} frames after {sent} samples at {rate} Hz"
            );
            let total = reply["current_speech_summary"]["total_length"]
                .as_f64()
                .unwrap();
            assert!(
                total + 1e-6 >= frames as f64 * 0.03,
                "{total} s < {frames} frames"
            );
        }
    }
}

#[test]
fn new_frames_mode_sends_the_events_the_new_frames_touched() {
    let audio = speech_at(16_000);
    let all = replies("/speech_summary_stream", 16_000, &audio, 3_200);
    let new = replies("/speech_summary_stream?frames=new", 16_000, &audio, 3_200);
    let mut reported = 0;
    for (whole, partial) in all.iter().zip(&new) {
        let every = events(whole, 16_000);
        let touched = events(partial, 16_000);
        let fresh = frames(partial).len() as u64;
        // Exactly the events ending after the frames reported before.
        let expected: Vec<_> = every
            .iter()
            .copied()
            .filter(|event| fresh > 0 && event.4 > reported * 30)
            .collect();
        assert_eq!(touched, expected);
        reported += fresh;
    }
    assert_eq!(reported as usize, frames(all.last().unwrap()).len());
}

#[test]
fn numbers_print_as_the_original_prints_them() {
    let audio = speech_at(16_000);
    let mut session = Session::for_path("/speech_summary_stream", models()).unwrap();
    session.on_text("16000");
    let reply = session.on_binary(&audio[..2 * 6_133]);
    // 6133 samples: f32(6133 / 16000) widened, as in the original's example.
    assert!(
        reply.contains("\"total_length\":0.38331249356269836"),
        "{reply}"
    );
    let printed = reply.split("\"speech_length\":").nth(1).unwrap();
    let speech: f64 = printed[..printed.find(',').unwrap()].parse().unwrap();
    assert!(speech > 0.0);
    assert_eq!(speech, f64::from(speech as f32), "single precision");
    assert!(!reply.contains("_time\":0.0") && !reply.contains("0.0,\"start"));
}
