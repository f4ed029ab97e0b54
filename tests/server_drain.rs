//! Graceful drain: on shutdown the server stops being ready and refuses new
//! work with 503 at once, open streams go on until they end or the drain
//! period is over, and then the rest are closed with 1001.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::socket::{Received, TestServer};
use common::*;

const SUMMARY: &str = "/speech_summary_stream";

/// A plain GET on a server that may be stopping: its status, or `None` once
/// it no longer answers.
async fn status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    String::from_utf8_lossy(&response).get(9..12)?.parse().ok()
}

/// Waits (up to 5 s) until `path` answers `expected`.
async fn until_status(addr: std::net::SocketAddr, path: &str, expected: u16) {
    for _ in 0..100 {
        if status(addr, path).await == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never answered {expected}");
}

#[tokio::test]
async fn a_draining_server_finishes_open_streams_and_refuses_new_ones() {
    let server = TestServer::with_flags(&["--drain-secs", "30"]).await;
    let addr = server.addr;
    assert_eq!(status(addr, "/health/ready").await, Some(200));
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    let stopping = tokio::spawn(server.stop());

    until_status(addr, "/health/ready", 503).await;
    assert_eq!(status(addr, "/health/live").await, Some(200));
    assert_eq!(status(addr, "/core/get_build_info").await, Some(503));
    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}{SUMMARY}")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("a new stream was not refused: {other:?}"),
    }
    // The open stream is still served while the server drains.
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    for chunk in pcm16_bytes(&speech[..16_000]).chunks(3_200) {
        let reply = client.ask_binary(chunk).await;
        assert!(reply.contains("speech_length"), "{reply}");
    }
    // Once it ends, the server stops without waiting out the drain period.
    client.close().await;
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stopped once its last stream ended")
        .unwrap();
}

#[tokio::test]
async fn streams_still_open_after_the_drain_period_are_closed_with_1001() {
    let server = TestServer::with_flags(&["--drain-secs", "1"]).await;
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    let stopping = tokio::spawn(server.stop());
    let closed = tokio::time::timeout(Duration::from_secs(10), client.receive()).await;
    assert_eq!(closed.expect("closed in time"), Received::Close(Some(1001)));
    drop(client);
    stopping.await.unwrap();
}
