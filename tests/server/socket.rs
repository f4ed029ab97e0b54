//! The native server over a real socket: protocol behaviour end to end.

use crate::common::socket::{Received, TestServer};
use crate::common::*;
use futures_util::SinkExt;
use rand::{Rng, SeedableRng, rngs::SmallRng};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use voiceport::server::ServerConfig;

const SUMMARY: &str = "/speech_summary_stream";
const ENDPOINT: &str = "/speech_endpoint_detector";

fn speech_16k() -> Vec<f32> {
    flac_samples(UTTERANCE_1034.flac)
}

/// Splits `bytes` at the given chunk sizes (the last chunk takes the rest).
fn chunks(bytes: &[u8], sizes: impl IntoIterator<Item = usize>) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for size in sizes {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Every reply of a client that waits for each reply before sending on.
async fn lockstep(
    server: &TestServer,
    path: &str,
    params: &[&str],
    audio: &[&[u8]],
) -> Vec<String> {
    let mut client = server.connect(path).await;
    let mut replies = Vec::new();
    for param in params {
        replies.push(client.ask(param).await);
    }
    for chunk in audio {
        replies.push(client.ask_binary(chunk).await);
    }
    client.close().await;
    replies
}

/// Every reply of a client that sends everything before reading anything.
async fn burst(server: &TestServer, path: &str, params: &[&str], audio: &[&[u8]]) -> Vec<String> {
    let mut client = server.connect(path).await;
    for param in params {
        client.send_text(param).await;
    }
    for chunk in audio {
        client.send_binary(chunk).await;
    }
    let mut replies = Vec::new();
    for _ in 0..params.len() + audio.len() {
        replies.push(client.text().await);
    }
    client.close().await;
    replies
}

/// The summary a stream ends with, for `samples` at `rate` sent in `audio` chunks.
async fn final_summary(server: &TestServer, rate: u32, audio: &[&[u8]]) -> Value {
    let replies = lockstep(server, SUMMARY, &[&rate.to_string()], audio).await;
    assert_eq!(replies[0], "200");
    serde_json::from_str(replies.last().unwrap()).expect("summary JSON")
}

fn frames_of(summary: &Value) -> Vec<bool> {
    summary["current_speech_summary"]["vad_result"]["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| f.as_bool().unwrap())
        .collect()
}

#[tokio::test]
async fn lockstep_and_burst_clients_get_the_same_replies() {
    let server = TestServer::default().await;
    let audio = pcm16_bytes(&speech_16k());
    let pieces = chunks(&audio, std::iter::repeat(16_000));
    for (path, params) in [
        (SUMMARY, vec!["16000"]),
        (ENDPOINT, vec!["300", "600", "16000"]),
    ] {
        let a = lockstep(&server, path, &params, &pieces).await;
        let b = burst(&server, path, &params, &pieces).await;
        assert_eq!(a.len(), params.len() + pieces.len());
        assert!(a[..params.len()].iter().all(|r| r == "200"), "{a:?}");
        assert_eq!(a, b, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn random_chunking_gives_the_same_result_as_one_chunk() {
    let server = TestServer::default().await;
    let audio = pcm16_bytes(&speech_16k());
    let whole = final_summary(&server, 16_000, &[&audio]).await;
    let whole_endpoint = lockstep(&server, ENDPOINT, &["300", "500", "16000"], &[&audio]).await;
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..3 {
        // Log-uniform sizes from 1 byte to 1 s (32 000 bytes), odd sizes included.
        let sizes: Vec<usize> = (0..10_000)
            .map(|_| 2f64.powf(rng.random_range(0.0..15.0)) as usize)
            .collect();
        let pieces = chunks(&audio, sizes);
        assert_eq!(final_summary(&server, 16_000, &pieces).await, whole);
        let endpoint = lockstep(&server, ENDPOINT, &["300", "500", "16000"], &pieces).await;
        assert_eq!(endpoint.last(), whole_endpoint.last());
    }
    let total = whole["current_speech_summary"]["total_length"]
        .as_f64()
        .unwrap();
    assert!((total - audio.len() as f64 / 32_000.0).abs() < 1e-9);
    server.stop().await;
}

#[tokio::test]
async fn any_client_rate_gives_near_identical_frames() {
    let server = TestServer::default().await;
    let speech = flac_samples(UTTERANCE_103.flac);
    let reference = frames_of(&final_summary(&server, 16_000, &[&pcm16_bytes(&speech)]).await);
    for rate in [8_000, 11_025, 44_100, 48_000] {
        let audio = pcm16_bytes(&resample_from_16k(&speech, rate));
        let pieces = chunks(&audio, std::iter::repeat(rate as usize / 5 * 2 + 1));
        let frames = frames_of(&final_summary(&server, rate, &pieces).await);
        let common = frames.len().min(reference.len());
        // Streams lag by at most one resampler block (≤ 80 ms, 3 frames).
        assert!(reference.len() - common <= 3, "{rate}: frame count");
        let agree = (0..common).filter(|&i| frames[i] == reference[i]).count();
        let agreement = agree as f64 / common as f64;
        assert!(agreement >= 0.97, "{rate} Hz: {agreement:.3} agreement");
    }
    server.stop().await;
}

/// Seconds into the stream at which the detector first answers `"true"`,
/// streaming `samples` (16 kHz) in 16 ms chunks.
async fn endpoint_time(
    server: &TestServer,
    samples: &[f32],
    min_speech: u32,
    silence: u32,
) -> Option<f64> {
    let mut client = server.connect(ENDPOINT).await;
    for param in [min_speech.to_string(), silence.to_string(), "16000".into()] {
        assert_eq!(client.ask(&param).await, "200");
    }
    let chunk = 256;
    for (i, piece) in samples.chunks(chunk).enumerate() {
        if client.ask_binary(&pcm16_bytes(piece)).await == "true" {
            return Some(((i + 1) * chunk) as f64 / 16_000.0);
        }
    }
    None
}

#[tokio::test]
async fn endpoint_follows_the_librivox_gaps() {
    let server = TestServer::default().await;
    let (samples, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    assert_eq!(rate, 16_000);
    let (spans, duration) = librivox_spans();
    let frame = 0.032;
    for silence_ms in [1_000, 1_800, 2_200, 2_800] {
        let silence = f64::from(silence_ms) / 1000.0;
        for first in 0..spans.len() {
            // Stream from the start of span `first`; the endpoint must come in
            // the first following gap longer than `silence`.
            let start = spans[first].0;
            let offset = (start * 16_000.0) as usize;
            let expected = (first..spans.len()).find_map(|j| {
                let gap_end = spans.get(j + 1).map_or(duration, |next| next.0);
                (gap_end - spans[j].1 > silence).then_some(spans[j].1)
            });
            let found = endpoint_time(&server, &samples[offset..], 250, silence_ms).await;
            let found = found.map(|t| t + start);
            match (expected, found) {
                (Some(end), Some(at)) => {
                    assert!(
                        at > end,
                        "{silence_ms} ms from span {first}: true at {at:.3}, before speech ended at {end:.3}"
                    );
                    assert!(
                        at <= end + silence + frame,
                        "{silence_ms} ms from span {first}: true at {at:.3}, speech ended {end:.3}"
                    );
                }
                (None, None) => {}
                other => panic!("{silence_ms} ms from span {first}: expected/found {other:?}"),
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_parameters_get_500_and_the_session_stays_usable() {
    let server = TestServer::default().await;
    let rates = [
        "abc",
        "-16000",
        "0",
        "7999",
        "192001",
        "16000.5",
        "1e4",
        "",
        "99999999999999999999",
    ];
    let mut client = server.connect(SUMMARY).await;
    for bad in rates {
        assert_eq!(client.ask(bad).await, "500", "sample rate {bad:?}");
    }
    assert_eq!(client.ask(" 16000 ").await, "200");
    assert_eq!(
        client.ask("16000").await,
        "500",
        "text after the parameters"
    );
    let reply: Value = serde_json::from_str(&client.ask_binary(&[0; 960]).await).unwrap();
    // Lengths are single-precision values, as the original prints them.
    assert_eq!(
        reply["current_speech_summary"]["total_length"],
        f64::from(0.03_f32)
    );
    client.close().await;

    let mut client = server.connect(ENDPOINT).await;
    for bad in ["x", "-1", "3600001", "1.5"] {
        assert_eq!(client.ask(bad).await, "500", "min speech {bad:?}");
    }
    assert_eq!(client.ask("0").await, "200");
    assert_eq!(client.ask("-5").await, "500");
    assert_eq!(client.ask("500").await, "200");
    assert_eq!(client.ask("8000").await, "200");
    assert_eq!(client.ask_binary(&[]).await, "false");
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn audio_before_parameters_is_rejected_and_not_used() {
    let server = TestServer::default().await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask_binary(&[1; 3200]).await, "500");
    assert_eq!(client.ask("16000").await, "200");
    let reply: Value = serde_json::from_str(&client.ask_binary(&[0; 3]).await).unwrap();
    // Only the 1.5 samples sent after the parameters count.
    assert_eq!(
        reply["current_speech_summary"]["total_length"],
        f64::from(1.0_f32 / 16_000.0)
    );
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn empty_and_odd_messages_lose_nothing() {
    let server = TestServer::default().await;
    let audio = pcm16_bytes(&speech_16k());
    let mut pieces: Vec<&[u8]> = vec![&[]];
    pieces.extend(chunks(&audio, [1, 0, 3, 4799, 1, 1]));
    pieces.push(&[]);
    let summary = final_summary(&server, 16_000, &pieces).await;
    assert_eq!(summary, final_summary(&server, 16_000, &[&audio]).await);
    server.stop().await;
}

#[tokio::test]
async fn oversized_message_closes_with_1009_and_others_are_served() {
    let mut config = ServerConfig::loopback();
    config.max_message_bytes = 64 * 1024;
    let server = TestServer::start(config).await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    client.send_binary(&vec![0; 64 * 1024 + 2]).await;
    assert_eq!(client.receive().await, Received::Close(Some(1009)));

    let mut other = server.connect(SUMMARY).await;
    assert_eq!(other.ask("16000").await, "200");
    assert!(other.ask_binary(&vec![0; 64 * 1024]).await.starts_with('{'));
    other.close().await;
    server.stop().await;
}

#[tokio::test]
async fn abrupt_disconnect_frees_the_connection() {
    let mut config = ServerConfig::loopback();
    config.max_connections = 1;
    let server = TestServer::start(config).await;
    let mut client = server.connect(ENDPOINT).await;
    for param in ["100", "100", "16000"] {
        client.send_text(param).await;
    }
    client.send_binary(&pcm16_bytes(&speech_16k())).await;
    drop(client); // no close frame: the TCP connection just ends

    // The single slot frees up once the server notices.
    assert!(server.wait_for_active_connections(0).await, "slot released");
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn connection_limit_refuses_with_503() {
    let mut config = ServerConfig::loopback();
    config.max_connections = 1;
    let server = TestServer::start(config).await;
    let first = server.connect(SUMMARY).await;
    let url = format!("ws://{}{SUMMARY}", server.addr);
    let refused = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(refused.to_string().contains("503"), "{refused}");
    first.close().await;
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_options_are_refused() {
    let server = TestServer::default().await;
    assert_eq!(server.get("/no_such_endpoint").await.0, 404);
    let url = format!("ws://{}{SUMMARY}?frames=maybe", server.addr);
    let refused = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(refused.to_string().contains("400"), "{refused}");
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let mut config = ServerConfig::loopback();
    config.idle_timeout_secs = 1;
    let server = TestServer::start(config).await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.receive().await, Received::Close(Some(1001)));
    server.stop().await;
}

#[tokio::test]
async fn opus_endpoints_are_served() {
    let server = TestServer::default().await;
    let ogg: &[u8] = include_bytes!("../data/opus/mono16k_8kbps_20ms.opus");
    let mut client = server.connect("/speech_summary_stream_opus").await;
    assert_eq!(client.ask("44100").await, "500");
    assert_eq!(client.ask("16000").await, "200");
    let summary: Value = serde_json::from_str(&client.ask_binary(ogg).await).unwrap();
    let total = summary["current_speech_summary"]["total_length"]
        .as_f64()
        .unwrap();
    // 2 s of speech, plus the last packet's padding (end trimming is not applied).
    assert!((2.0..2.021).contains(&total), "{summary}");
    assert_eq!(client.ask_binary(&[0xff; 40]).await, "500"); // not an Ogg page
    server.stop().await;
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close_frame() {
    let server = TestServer::default().await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    let normal = CloseFrame {
        code: 1000.into(),
        reason: "done".into(),
    };
    client
        .socket
        .send(Message::Close(Some(normal)))
        .await
        .unwrap();
    // The echo makes the close clean for the client (a browser reports 1000, not 1006).
    assert_eq!(client.receive().await, Received::Close(Some(1000)));
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_open_streams_with_1001() {
    let server = TestServer::default().await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    let stopping = tokio::spawn(server.stop());
    assert_eq!(client.receive().await, Received::Close(Some(1001)));
    drop(client);
    stopping.await.unwrap();
}

#[tokio::test]
async fn frames_new_reports_each_frame_once() {
    let server = TestServer::default().await;
    let audio = pcm16_bytes(&speech_16k());
    let pieces = chunks(&audio, std::iter::repeat(10_001));
    let all = final_summary(&server, 16_000, &pieces).await;
    let replies = lockstep(
        &server,
        "/speech_summary_stream?frames=new",
        &["16000"],
        &pieces,
    )
    .await;
    let mut joined = Vec::new();
    for reply in &replies[1..] {
        joined.extend(frames_of(&serde_json::from_str(reply).unwrap()));
    }
    assert_eq!(joined, frames_of(&all));
    let last: Value = serde_json::from_str(replies.last().unwrap()).unwrap();
    assert_eq!(last["speech_length"], all["speech_length"]);
    server.stop().await;
}

#[tokio::test]
async fn health_reports_ok_with_cors() {
    let server = TestServer::default().await;
    let (status, body) = server.get("/health").await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    server.stop().await;
}
