//! A voiceport server on an ephemeral loopback port, and a WebSocket client.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voiceport::models::Models;
use voiceport::server::{ServerConfig, serve};

/// The bundled models, built once per test binary and shared by its servers.
pub fn shared_models() -> Models {
    static MODELS: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| Models::bundled().expect("models"))
        .clone()
}

/// A running server; stops when [`TestServer::stop`] is called.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts a server with `config` on 127.0.0.1, port chosen by the OS.
    pub async fn start(config: ServerConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let models = shared_models();
        let task = tokio::spawn(serve(listener, config, models, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Starts a loopback server with extra command-line `flags`.
    pub async fn with_flags(flags: &[&str]) -> Self {
        Self::start(ServerConfig::loopback_with(flags)).await
    }

    /// Starts a server with the loopback defaults.
    pub async fn default() -> Self {
        Self::start(ServerConfig::loopback()).await
    }

    /// Opens a WebSocket on `path` (with query).
    pub async fn connect(&self, path: &str) -> Client {
        let url = format!("ws://{}{path}", self.addr);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        Client { socket }
    }

    /// `GET` on `path`: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.request("GET", path, &[], &[]).await;
        (response.status, response.body)
    }

    /// `POST` of `body` with `content_type` on `path`: status and body.
    pub async fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let response = self
            .request("POST", path, &[("content-type", content_type)], body)
            .await;
        (response.status, response.body)
    }

    /// One HTTP/1.1 request on a fresh connection.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (and close) before reading a refused body.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let response = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        HttpResponse {
            status: head[9..12].parse().expect("status code"),
            head: head.to_ascii_lowercase(),
            body: body.to_string(),
        }
    }

    /// Waits (up to 5 s) until `/health` reports `count` active WebSockets;
    /// whether it did.
    pub async fn wait_for_active_connections(&self, count: u64) -> bool {
        for _ in 0..100 {
            let (status, body) = self.get("/health").await;
            assert_eq!(status, 200, "{body}");
            let health: serde_json::Value = serde_json::from_str(&body).unwrap();
            if health["active_connections"] == count {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    /// Asks the server to shut down gracefully and waits for it.
    pub async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.task.await.unwrap().unwrap();
    }
}

/// An HTTP response (head lower-cased for header checks).
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Status line and headers, lower-cased.
    pub head: String,
    /// Body text.
    pub body: String,
}

/// A `multipart/form-data` body with one file part: content type and bytes.
pub fn multipart(field: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "voiceport-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A WebSocket client speaking the protocol's text/binary messages.
pub struct Client {
    /// The underlying socket, for tests that misbehave on purpose.
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server sent when a text reply was expected.
#[derive(Debug, PartialEq)]
pub enum Received {
    /// A text message.
    Text(String),
    /// A close frame with its code.
    Close(Option<u16>),
    /// The connection ended without a close frame.
    Ended,
}

impl Client {
    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap();
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.socket
            .send(Message::binary(bytes.to_vec()))
            .await
            .unwrap();
    }

    /// Receives the next message of interest (pings skipped).
    pub async fn receive(&mut self) -> Received {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => return Received::Text(text.to_string()),
                Some(Ok(Message::Close(frame))) => {
                    return Received::Close(frame.map(|f: CloseFrame| u16::from(f.code)));
                }
                Some(Ok(Message::Binary(_))) => panic!("the server never sends binary"),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Ended,
            }
        }
    }

    /// Receives a text reply, panicking on anything else.
    pub async fn text(&mut self) -> String {
        match self.receive().await {
            Received::Text(text) => text,
            other => panic!("expected a text reply, got {other:?}"),
        }
    }

    /// Sends a text message and returns its reply.
    pub async fn ask(&mut self, text: &str) -> String {
        self.send_text(text).await;
        self.text().await
    }

    /// Sends a binary message and returns its reply.
    pub async fn ask_binary(&mut self, bytes: &[u8]) -> String {
        self.send_binary(bytes).await;
        self.text().await
    }

    /// Closes the connection normally.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// A plain `GET` to a server that may be starting or stopping: status and
/// body, or `None` while nothing answers.
pub async fn try_get(addr: impl tokio::net::ToSocketAddrs, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let response = String::from_utf8_lossy(&response);
    let status = response.get(9..12)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Some((status, body.to_string()))
}

/// Waits up to `within` until `path` at `addr` answers `status`; panics otherwise.
pub async fn until_status(
    addr: impl tokio::net::ToSocketAddrs + Copy + std::fmt::Debug,
    path: &str,
    status: u16,
    within: std::time::Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if try_get(addr, path).await.is_some_and(|(s, _)| s == status) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{addr:?} {path} never answered {status}");
}
