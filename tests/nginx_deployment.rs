//! The reference deployment: Debian's nginx with `deploy/nginx/voiceport.conf`
//! in front of three `voiceport-server` processes, all on loopback ports.
//! 60 mixed streams spread over the three; one server is stopped with
//! SIGTERM (it stops being ready at once, drains, closes its streams with
//! 1001 and exits) and another is killed; their clients reconnect through
//! nginx and carry on, and every message gets its reply or its connection's
//! close. Bounded: about 40 s.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::socket::{try_get, until_status};
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// A loopback port free now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A plain GET on a loopback port: status and body, or `None` if nothing answers.
async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    try_get(("127.0.0.1", port), path).await
}

/// Waits (up to 20 s) until `path` on `port` answers `status`.
async fn until_ready_status(port: u16, path: &str, status: u16) {
    until_status(("127.0.0.1", port), path, status, Duration::from_secs(20)).await;
}

fn start_server(port: u16) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_voiceport-server"))
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--www",
            "/nonexistent",
        ])
        .args(["--drain-secs", "3", "--inference-threads", "2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("voiceport-server starts");
    Process(child)
}

/// nginx with the deployment's configuration, rewritten to these ports.
fn start_nginx(dir: &Path, port: u16, servers: &[u16]) -> Process {
    let mut site = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx/voiceport.conf"
    ))
    .unwrap();
    for (i, server) in servers.iter().enumerate() {
        site = site.replace(
            &format!("127.0.0.1:808{}", i + 1),
            &format!("127.0.0.1:{server}"),
        );
    }
    site = site.replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    std::fs::write(dir.join("voiceport.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         include {d}/voiceport.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let nginx = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|path| Command::new(path).arg("-v").output().is_ok())
        .expect("nginx is installed (scripts/setup.sh installs Debian's nginx-light)");
    let child = Command::new(nginx)
        .args([
            "-p",
            &d.to_string(),
            "-c",
            &format!("{d}/nginx.conf"),
            "-e",
            &format!("{d}/error.log"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    Process(child)
}

/// What every client saw.
#[derive(Default)]
struct Tally {
    replies: AtomicUsize,
    /// Connections closed by the server with 1001 (drain).
    drained: AtomicUsize,
    /// Connections that dropped without a close frame (killed server).
    dropped: AtomicUsize,
    /// Messages that got neither a reply nor a close within 15 s.
    unanswered: AtomicUsize,
}

/// The parameters of stream `index`: a third each of summary, endpoint and verify.
fn stream_of(index: usize, template: &str) -> (&'static str, Vec<String>) {
    match index % 3 {
        0 => ("/speech_summary_stream?frames=new", vec!["16000".into()]),
        1 => (
            "/speech_endpoint_detector",
            vec!["300".into(), "600".into(), "16000".into()],
        ),
        _ => (
            "/voice_verify_stream",
            vec![template.to_string(), "16000".into(), "1".into()],
        ),
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(port: u16, path: &str, parameters: &[String]) -> Socket {
    let url = format!("ws://127.0.0.1:{port}{path}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("nginx connects every new stream to a server that takes it");
    for parameter in parameters {
        socket
            .send(Message::text(parameter.as_str()))
            .await
            .unwrap();
        match socket.next().await {
            Some(Ok(Message::Text(reply))) => assert_eq!(reply.as_str(), "200"),
            other => panic!("parameter {parameter:.10}: {other:?}"),
        }
    }
    socket
}

/// One client: 100 ms of speech every 100 ms until `stop`; reconnects
/// through nginx whenever its connection ends.
async fn client(
    port: u16,
    path: &'static str,
    parameters: Vec<String>,
    audio: Arc<Vec<u8>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let mut socket = connect(port, path, &parameters).await;
    let mut chunks = audio.chunks(3_200).cycle();
    while !stop.load(Ordering::SeqCst) {
        let chunk = chunks.next().unwrap().to_vec();
        let sent = socket.send(Message::binary(chunk)).await.is_ok();
        let outcome = if sent {
            tokio::time::timeout(Duration::from_secs(15), next_frame(&mut socket)).await
        } else {
            Ok(Ended::Dropped)
        };
        let ending = match outcome {
            Ok(Ended::Reply) => {
                tally.replies.fetch_add(1, Ordering::SeqCst);
                // The pause before the next chunk, reading meanwhile: a close
                // sent now is seen as such, not as a failed send later.
                match tokio::time::timeout(PAUSE, next_frame(&mut socket)).await {
                    Err(_) => continue,
                    Ok(Ended::Reply) => panic!("a reply to no message"),
                    Ok(ending) => ending,
                }
            }
            Ok(ending) => ending,
            Err(_) => Ended::Unanswered,
        };
        let counter = match ending {
            Ended::Closed(1001) => &tally.drained,
            Ended::Unanswered => &tally.unanswered,
            _ => &tally.dropped,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        socket = connect(port, path, &parameters).await;
    }
    let _ = socket.close(None).await;
}

/// A client's pause between two chunks of audio.
const PAUSE: Duration = Duration::from_millis(100);

enum Ended {
    Reply,
    Closed(u16),
    Dropped,
    /// Neither a reply nor a close within 15 s.
    Unanswered,
}

async fn next_frame(socket: &mut Socket) -> Ended {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(_))) => return Ended::Reply,
            Some(Ok(Message::Close(frame))) => {
                return Ended::Closed(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Ended::Dropped,
        }
    }
}

/// The sum over its label sets of a metric of a server's `/metrics`.
async fn metric(port: u16, name: &str) -> f64 {
    let (_, metrics) = get(port, "/metrics").await.expect("metrics");
    let prefix = format!("{name}{{");
    metrics
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

const REPLIES: &str = "voiceport_replies_total";
const OPEN: &str = "voiceport_sessions_open";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_behind_nginx_drain_and_fail_without_losing_a_message() {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("voiceport-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let mut servers: Vec<Option<Process>> = ports.iter().map(|&p| Some(start_server(p))).collect();
    for &port in &ports {
        until_ready_status(port, "/health/ready", 200).await;
    }
    let front = free_port();
    let _nginx = start_nginx(&dir, front, &ports);
    until_ready_status(front, "/health/ready", 200).await;

    // A template made through nginx for the verify streams.
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let audio = Arc::new(pcm16_bytes(&speech[..10 * 16_000]));
    let template = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", front))
            .await
            .unwrap();
        let path = "/voice_template_factory/create_voice_template_from_samples?sample_rate=16000";
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            audio.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&audio).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response:.200}");
        response.split_once("\r\n\r\n").unwrap().1.to_string()
    };

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..60)
        .map(|i| {
            let (path, parameters) = stream_of(i, &template);
            let (audio, stop, tally) = (audio.clone(), stop.clone(), tally.clone());
            tokio::spawn(client(front, path, parameters, audio, stop, tally))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Every server carries a share of the streams.
    for &port in &ports {
        assert!(
            metric(port, REPLIES).await > 0.0,
            "server {port} got no stream"
        );
    }

    // SIGTERM: not ready at once, open streams drain (1001), the process exits.
    let terminated = servers[0].as_ref().unwrap().0.id();
    Command::new("kill")
        .args(["-TERM", &terminated.to_string()])
        .status()
        .unwrap();
    until_ready_status(ports[0], "/health/ready", 503).await;
    // New streams go to the others while it drains.
    let opened_on_drained = metric(ports[0], OPEN).await;
    for i in 0..6 {
        let (path, parameters) = stream_of(i, &template);
        let mut socket = connect(front, path, &parameters).await;
        socket
            .send(Message::binary(audio[..3_200].to_vec()))
            .await
            .unwrap();
        assert!(matches!(next_frame(&mut socket).await, Ended::Reply));
        assert!(metric(ports[0], OPEN).await <= opened_on_drained);
        let _ = socket.close(None).await;
    }
    let mut draining = servers[0].take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while draining.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the drained server did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        tally.drained.load(Ordering::SeqCst) >= 1,
        "no stream was drained"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // SIGKILL another: exactly its clients see their connection drop and
    // reconnect to the last one; the streams there go on undisturbed.
    let before_kill = tally.replies.load(Ordering::SeqCst);
    let mut open = [0.0; 2];
    for _ in 0..100 {
        open = [metric(ports[1], OPEN).await, metric(ports[2], OPEN).await];
        if open[0] + open[1] == 60.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        open[0] + open[1],
        60.0,
        "every stream back on the two servers"
    );
    let on_killed = open[0];
    let dropped_before = tally.dropped.load(Ordering::SeqCst);
    drop(servers[1].take());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let dropped = tally.dropped.load(Ordering::SeqCst) - dropped_before;
    assert_eq!(dropped as f64, on_killed, "streams that saw the kill");
    assert_eq!(metric(ports[2], OPEN).await, 60.0);
    assert!(tally.replies.load(Ordering::SeqCst) > before_kill + 60 * 10);

    stop.store(true, Ordering::SeqCst);
    for client in clients {
        tokio::time::timeout(Duration::from_secs(20), client)
            .await
            .expect("every client ends")
            .unwrap();
    }
    assert_eq!(
        tally.unanswered.load(Ordering::SeqCst),
        0,
        "messages left unanswered"
    );
    assert!(started.elapsed() < Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(&dir);
}
