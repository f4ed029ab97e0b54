//! The server under misbehaving clients: slow headers (slowloris), slow
//! bodies, idle connections past the cap, abrupt disconnects and over-size
//! messages by the hundred — each limit holds and well-behaved clients are
//! still served.

use std::time::{Duration, Instant};

use crate::common::socket::{Received, TestServer};
use crate::common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SUMMARY: &str = "/speech_summary_stream";

/// Whether the server has closed `stream` (reads end) within `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buffer = [0u8; 256];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A well-behaved client's `/health` check.
async fn healthy(server: &TestServer) -> bool {
    server.get("/health").await.0 == 200
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_others_are_served() {
    let server = TestServer::with_flags(&["--header-timeout-secs", "1"]).await;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHo")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Keep trickling a byte now and then, as a slowloris client does.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        for stream in &mut slow {
            let _ = stream.write_all(b"s").await;
        }
        assert!(healthy(&server).await, "served while slow clients hang on");
    }
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(3)).await,
            "slow client {i} still open"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_the_cap_frees_up() {
    let flags = ["--max-http-connections", "20", "--header-timeout-secs", "1"];
    let server = TestServer::with_flags(&flags).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_millis(500)).await,
        "the 21st connection is closed at once"
    );
    // The silent ones never send headers: the header deadline frees their slots.
    for stream in &mut silent {
        assert!(closed_within(stream, Duration::from_secs(3)).await);
    }
    assert!(healthy(&server).await);
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_body_gets_408() {
    let server = TestServer::with_flags(&["--request-timeout-secs", "1"]).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /speech_summary_engine/get_speech_summary_from_samples?sample_rate=16000 \
                HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n\
                Content-Length: 100000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0; 10]).await.unwrap();
    let mut response = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut response)).await;
    assert!(read.is_ok(), "no answer to a stalled body");
    assert_eq!(&response, b"HTTP/1.1 408");
    assert!(healthy(&server).await);
    server.stop().await;
}

#[tokio::test]
async fn hundreds_of_abrupt_disconnects_free_every_slot() {
    let server = TestServer::default().await;
    let audio = pcm16_bytes(&flac_samples(UTTERANCE_1034.flac)[..16_000]);
    for _ in 0..4 {
        let mut clients = Vec::new();
        for _ in 0..50 {
            let mut client = server.connect(SUMMARY).await;
            client.send_text("16000").await;
            client.send_binary(&audio).await;
            clients.push(client);
        }
        // No close frames: every TCP connection just ends.
        drop(clients);
    }
    assert!(
        server.wait_for_active_connections(0).await,
        "every slot freed"
    );
    let mut client = server.connect(SUMMARY).await;
    assert_eq!(client.ask("16000").await, "200");
    assert!(client.ask_binary(&audio).await.starts_with('{'));
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn oversize_messages_by_the_hundred_close_only_their_senders() {
    let server = TestServer::with_flags(&["--max-message-bytes", "65536"]).await;
    let mut good = server.connect(SUMMARY).await;
    assert_eq!(good.ask("16000").await, "200");
    let oversize = vec![0u8; 65_537];
    let mut offenders = Vec::new();
    for _ in 0..100 {
        let mut client = server.connect(SUMMARY).await;
        assert_eq!(client.ask("16000").await, "200");
        client.send_binary(&oversize).await;
        offenders.push(client);
    }
    for mut client in offenders {
        assert_eq!(client.receive().await, Received::Close(Some(1009)));
    }
    assert!(good.ask_binary(&[0; 65_536]).await.starts_with('{'));
    good.close().await;
    assert!(server.wait_for_active_connections(0).await);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_deadline() {
    let server = TestServer::with_flags(&["--header-timeout-secs", "1"]).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut response = [0u8; 12];
    stream.read_exact(&mut response).await.unwrap();
    assert_eq!(&response, b"HTTP/1.1 200");
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    server.stop().await;
}
