//! More verify streams than the engine can serve, on a simulated engine:
//! one worker taking messages in arrival order, each message costing
//! simulated time in proportion to the speaker-network work its session
//! did, several times more than real time allows. No wall clock: the
//! pace each message is given comes from the simulated queue.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::socket::shared_models;
use common::*;
use serde_json::Value;
use std::time::Duration;
use voiceport::protocol::{Pace, Session};
use voiceport::service::{AudioBuffer, create_template};

/// Streams served together.
const STREAMS: usize = 8;
/// Seconds of audio each stream sends, in 100 ms messages at real-time pace.
const SECONDS: usize = 12;
/// Simulated seconds of engine time per second of audio through the network.
/// Every result of 8 streams (3 s of network input per second of audio
/// each) would take 1.44 s of engine time per second: more than the engine
/// has. Thinned to a result every 1.5 s (about 1.7 s of input per second),
/// 0.8 s: what it can do.
const ENGINE_SECONDS_PER_NETWORK_SECOND: f64 = 0.06;
/// A message is late when it waited this long (the server's default).
const LATE_AFTER: Duration = Duration::from_millis(500);

/// What one stream received.
#[derive(Default)]
struct Received {
    replies: usize,
    /// End sample and score of every result, in the order received.
    results: Vec<(u64, f64)>,
}

#[test]
fn an_overloaded_engine_answers_every_message_in_order_and_thins_results_evenly() {
    let speech = flac_samples(UTTERANCE_103.flac);
    let enroll = pcm16_bytes(&speech);
    let audio = AudioBuffer::Pcm16 {
        bytes: &enroll,
        sample_rate: 16_000,
    };
    let template = create_template(&shared_models(), audio).unwrap();
    let mut sessions: Vec<Session> = (0..STREAMS)
        .map(|_| {
            let mut session = Session::for_path("/voice_verify_stream", shared_models()).unwrap();
            for param in [template.as_str(), "16000", "3"] {
                assert_eq!(session.on_text(param), "200");
            }
            session
        })
        .collect();
    // Each stream starts at a different point of the recording.
    let mut messages: Vec<_> = (0..STREAMS)
        .map(|s| {
            let offset = s * 16_000;
            let samples: Vec<f32> = (0..SECONDS * 16_000)
                .map(|i| speech[(offset + i) % speech.len()])
                .collect();
            let messages: Vec<Vec<u8>> = samples.chunks(1_600).map(pcm16_bytes).collect();
            messages.into_iter()
        })
        .collect();
    let mut received: Vec<Received> = (0..STREAMS).map(|_| Received::default()).collect();
    let mut engine_free_at = 0.0f64;
    let mut longest_wait = 0.0f64;
    let mut work_asked = 0.0;
    // Message k of every stream arrives at (k + 1) × 0.1 s, the streams in a
    // turning order; the worker takes them in arrival order.
    for k in 0..SECONDS * 10 {
        let arrival = (k + 1) as f64 * 0.1;
        for s in (0..STREAMS).map(|i| (i + k) % STREAMS) {
            let session = &mut sessions[s];
            let start = engine_free_at.max(arrival);
            let waited = start - arrival;
            longest_wait = longest_wait.max(waited);
            session.set_pace(Pace::of_delay(Duration::from_secs_f64(waited), LATE_AFTER));
            let before = session.speaker_seconds();
            let message = messages[s].next().expect("one message per 0.1 s");
            let reply: Value = serde_json::from_str(&session.on_binary(&message)).unwrap();
            let work = session.speaker_seconds() - before;
            work_asked += work;
            engine_free_at = start + work * ENGINE_SECONDS_PER_NETWORK_SECOND;
            let stream = &mut received[s];
            stream.replies += 1;
            for result in reply.as_array().expect("a JSON array") {
                let end = result["audio_interval"]["end_sample"].as_u64().unwrap();
                let score = result["verify_result"]["score"].as_f64().unwrap();
                stream.results.push((end, score));
            }
        }
    }
    // The engine was busy for most of the run, yet never fell behind by more
    // than a few messages' worth.
    let busy = work_asked * ENGINE_SECONDS_PER_NETWORK_SECOND / SECONDS as f64;
    assert!(busy > 0.5, "the engine was busy {busy:.2} of the time");
    assert!(longest_wait < 2.0, "a message waited {longest_wait:.2} s");
    let due = (SECONDS * 2 - 5) as f64;
    let mut counts = Vec::new();
    for (s, stream) in received.iter().enumerate() {
        assert_eq!(
            stream.replies,
            SECONDS * 10,
            "stream {s}: one reply per message"
        );
        let ends: Vec<u64> = stream.results.iter().map(|(end, _)| *end).collect();
        assert!(ends.windows(2).all(|w| w[0] < w[1]), "stream {s}: {ends:?}");
        // Thinned, but never starved: a fresh result every second of audio
        // at most (so within about 1.5 s of the last when messages are late).
        let mut last = 0;
        for &end in &ends {
            assert!(end - last <= 16_000 + 48_000 * u64::from(last == 0));
            last = end;
        }
        assert!(
            SECONDS as u64 * 16_000 - last <= 16_000,
            "stream {s} starved at the end"
        );
        counts.push(stream.results.len() as f64);
    }
    let (fewest, most) = counts
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    assert!(most < due, "results thinned: {counts:?} of {due}");
    assert!(fewest >= most / 2.0, "thinned evenly: {counts:?}");
}
