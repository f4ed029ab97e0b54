//! Graceful drain: on shutdown the server stops being ready and refuses new
//! work with 503 at once, open streams go on until they end or the drain
//! period is over, and then the rest are closed with 1001.

use std::time::Duration;

use crate::common::socket::{Received, TestServer, try_get, until_status};
use crate::common::*;

const SUMMARY: &str = "/speech_summary_stream";

/// The status of a plain GET, or `None` once the server no longer answers.
async fn status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    try_get(addr, path).await.map(|(status, _)| status)
}

#[tokio::test]
async fn a_draining_server_finishes_open_streams_and_refuses_new_ones() {
    let server = TestServer::with_flags(&["--drain-secs", "30"]).await;
    let addr = server.addr;
    assert_eq!(status(addr, "/health/ready").await, Some(200));
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    let stopping = tokio::spawn(server.stop());

    until_status(addr, "/health/ready", 503, Duration::from_secs(5)).await;
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
