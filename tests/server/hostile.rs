//! The server under hostile clients: heavy work does not starve a small
//! real-time message, work whose client has gone is cancelled, a client that
//! stops reading loses its connection, and forged templates and lying WAV
//! headers get clear answers on every route. Counts and bytes are asserted,
//! never wall-clock time (time only bounds the waiting).

use std::time::Duration;

use crate::common::socket::{TestServer, multipart};
use crate::common::*;
use serde_json::Value;
use voiceport::voice::{Band, SPEAKER_MODEL, VoiceTemplate};

/// The model-work counts of `/health`.
async fn work(server: &TestServer) -> Value {
    let (status, body) = server.get("/health").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["model_work"].clone()
}

/// Waits (up to 20 s) until no model work is queued or running.
async fn until_idle(server: &TestServer) -> Value {
    for _ in 0..400 {
        let counts = work(server).await;
        if counts["queued"] == 0 && counts["running"] == 0 {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("model work still busy: {}", work(server).await);
}

/// Speech at 8 kHz as PCM16, repeated to `bytes` bytes.
fn speech_8k(bytes: usize) -> Vec<u8> {
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let at_8k: Vec<f32> = speech.iter().step_by(2).copied().collect();
    pcm16_bytes(&at_8k)
        .iter()
        .copied()
        .cycle()
        .take(bytes)
        .collect()
}

const HUGE: usize = 16 * 1024 * 1024 - 4096;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_requests_neither_starve_a_stream_nor_outlive_their_clients() {
    let server = TestServer::with_flags(&["--inference-threads", "2"]).await;
    let body = speech_8k(HUGE);
    // Four clients ask for templates of 1 000 s of audio each (hundreds of
    // steps of model work), then give up.
    let heavy: Vec<_> = (0..4)
        .map(|_| {
            let (addr, body) = (server.addr, body.clone());
            tokio::spawn(async move {
                let path =
                    "/voice_template_factory/create_voice_template_from_samples?sample_rate=8000";
                raw_post(addr, path, &body).await
            })
        })
        .collect();
    for _ in 0..400 {
        if work(&server).await["done"].as_u64().unwrap() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // A real-time client's second of audio waits for a step of each busy
    // job, not for their minutes of work.
    let mut client = server.connect("/speech_summary_stream").await;
    assert_eq!(client.ask("8000").await, "200");
    let before = work(&server).await["done"].as_u64().unwrap();
    let reply = client.ask_binary(&body[..16_000]).await;
    let after = work(&server).await["done"].as_u64().unwrap();
    assert!(reply.contains("speech_length"), "{reply}");
    assert!(
        after - before <= 16,
        "{} steps of other work ran before a 1 s message was answered",
        after - before
    );
    client.close().await;

    for request in &heavy {
        request.abort();
    }
    let counts = until_idle(&server).await;
    let done = counts["done"].as_u64().unwrap();
    // Each job needs > 200 steps (105 VAD slices and ~100 embedding windows).
    assert!(
        done < 4 * 200 / 2,
        "{done} steps run: abandoned work went on"
    );
    assert!(counts["cancelled"].as_u64().unwrap() >= 1, "{counts}");

    // Streams whose clients leave mid-message stop too: three clients send
    // 16 MiB (512 slices each) and leave once their work has begun.
    for _ in 0..3 {
        let mut client = server.connect("/speech_summary_stream").await;
        assert_eq!(client.ask("8000").await, "200");
        let started = work(&server).await["done"].as_u64().unwrap();
        client.send_binary(&body).await;
        while work(&server).await["done"].as_u64().unwrap() < started + 5 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(client);
    }
    let counts = until_idle(&server).await;
    let streamed = counts["done"].as_u64().unwrap() - done;
    assert!(
        streamed < 3 * 512 / 2,
        "{streamed} slices processed for departed clients"
    );
    server.stop().await;
}

/// Posts `body` on a raw connection and reads the response, if any.
async fn raw_post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    response
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed() {
    let server = TestServer::with_flags(&["--send-timeout-secs", "1"]).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/speech_summary_stream", server.addr);
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::text("16000")).await.unwrap();
    // Replies carry every frame so far: they grow until the socket buffers
    // are full, and the client never reads one.
    let second = pcm16_bytes(&vec![0.1f32; 16_000]);
    let mut sent = 0;
    for _ in 0..600 {
        let send = ws.send(Message::binary(second.clone()));
        match tokio::time::timeout(Duration::from_secs(5), send).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
    }
    assert!(sent > 10, "only {sent} messages sent");
    assert!(
        server.wait_for_active_connections(0).await,
        "a connection that does not read is still held"
    );
    assert_eq!(server.get("/health").await.0, 200);
    server.stop().await;
}

/// A base64 template of the model with `dimension` values and `seconds` of speech.
fn forged(dimension: usize, seconds: f32) -> String {
    let embedding: Vec<f32> = (0..dimension).map(|i| (i as f32).cos()).collect();
    let mut template = VoiceTemplate::new(SPEAKER_MODEL.id, 2.0, Band::Wide, &embedding).unwrap();
    template.speech_seconds = seconds;
    template.to_base64()
}

/// Posts `body` as JSON on `path`: status and reply.
async fn post_json(server: &TestServer, path: &str, body: Value) -> (u16, String) {
    let body = body.to_string();
    server.post(path, "application/json", body.as_bytes()).await
}

const MATCH: &str = "/voice_template_matcher/match_voice_templates";
const MERGE: &str = "/voice_template_factory/merge_voice_templates";

#[tokio::test]
async fn forged_templates_are_refused_on_every_route() {
    let server = TestServer::default().await;
    let wrong_dimension = forged(64, 2.0);
    let huge_length = forged(192, 3e38);
    let good = forged(192, 2.0);
    for bad in [&wrong_dimension, &huge_length] {
        let pair = serde_json::json!({ "template1": bad, "template2": bad });
        let (status, reply) = post_json(&server, MATCH, pair).await;
        assert_eq!(status, 400, "{reply}");
        let (status, reply) = post_json(&server, MERGE, serde_json::json!([good, bad])).await;
        assert_eq!(status, 400, "{reply}");
        for path in ["/voice_verify_stream", "/voice_verify_stream_opus"] {
            let mut client = server.connect(path).await;
            assert_eq!(client.ask(bad).await, "500");
            assert_eq!(client.ask(&good).await, "200");
            client.close().await;
        }
    }
    // Two valid templates whose lengths add up past the limit.
    let big = forged(192, 9e5);
    let (status, reply) = post_json(&server, MERGE, serde_json::json!([big, big])).await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply.contains("speech length"), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn wav_data_lengths_of_streaming_writers_keep_their_audio() {
    let server = TestServer::default().await;
    let (speech, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    let wav = wav_bytes(&speech[..3 * rate as usize], rate, 1);
    let at = wav.windows(4).position(|w| w == b"data").unwrap();
    for declared in [0u32, 0x7FFF_F000, u32::MAX] {
        let mut lying = wav.clone();
        lying[at + 4..at + 8].copy_from_slice(&declared.to_le_bytes());
        let (content_type, body) = multipart("wav_file", &lying);
        let (status, reply) = server
            .post(
                "/speech_summary_engine/get_speech_summary_from_file",
                &content_type,
                &body,
            )
            .await;
        assert_eq!(status, 200, "{reply}");
        let summary: Value = serde_json::from_str(&reply).unwrap();
        let total = summary["total_length"].as_f64().unwrap();
        assert!((total - 3.0).abs() < 0.01, "declared {declared}: {total} s");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_huge_text_parameter_is_refused_and_the_session_goes_on() {
    let server = TestServer::default().await;
    let mut client = server.connect("/voice_verify_stream").await;
    let huge = "A".repeat(15 * 1024 * 1024);
    assert_eq!(client.ask(&huge).await, "500");
    assert_eq!(client.ask(&forged(192, 2.0)).await, "200");
    assert_eq!(client.ask("16000").await, "200");
    client.close().await;
    server.stop().await;
}
