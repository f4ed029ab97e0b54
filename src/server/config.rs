//! Server settings: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the native server (`voiceport-server --help` lists them).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "voiceport-server",
    version,
    about = "voiceport native server",
    args_override_self = true
)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "VOICEPORT_ADDR", default_value = "0.0.0.0:8080")]
    pub addr: SocketAddr,
    /// Largest accepted WebSocket message or REST body, in bytes.
    #[arg(long, env = "VOICEPORT_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most WebSocket connections served at once; more are refused with HTTP 503.
    #[arg(long, env = "VOICEPORT_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most plain HTTP connections (not yet upgraded to WebSocket) open at
    /// once; more are closed as they arrive, and logged.
    #[arg(long, env = "VOICEPORT_MAX_HTTP_CONNECTIONS", default_value_t = 1024)]
    pub max_http_connections: usize,
    /// Seconds a client may take to send a request's headers (slow clients
    /// holding connections open are closed after it).
    #[arg(long, env = "VOICEPORT_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a REST request may take, body upload included; then HTTP 408.
    #[arg(long, env = "VOICEPORT_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,
    /// Model-work threads: every message and REST request runs on them a
    /// bounded step at a time, in turn, so the rest wait without holding a
    /// thread (nor its model scratch memory). Default: 4 per CPU core.
    #[arg(long, env = "VOICEPORT_INFERENCE_THREADS", default_value_t = default_inference_threads())]
    pub inference_threads: usize,
    /// Seconds a reply may wait for a client that does not read (its socket
    /// buffers full) before the server closes the connection.
    #[arg(long, env = "VOICEPORT_SEND_TIMEOUT_SECS", default_value_t = 30)]
    pub send_timeout_secs: u64,
    /// Milliseconds a binary message step may wait for the model workers
    /// before it counts as late (one and a half times that: very late): a
    /// late verify message embeds only for a stream starved of results, a
    /// very late one not at all, and bursts of very late steps thin every
    /// verify stream's results alike, so streams stay at real time when the
    /// server is past capacity.
    #[arg(long, env = "VOICEPORT_LATE_AFTER_MS", default_value_t = 50)]
    pub late_after_ms: u64,
    /// Compute verify streams in `f32` throughout, as the browser does,
    /// instead of with bfloat16 products where the CPU has them (x86-64
    /// with AVX-512 BF16): the same scores as the browser to float rounding,
    /// at about 1.3× a verify stream's CPU time on such CPUs.
    #[arg(long, env = "VOICEPORT_EXACT_VERIFY_STREAMS")]
    pub exact_verify_streams: bool,
    /// Seconds open streams may go on after SIGTERM (the server is then not
    /// ready and refuses new work); streams still open after it are closed
    /// with 1001. Sized for one verification.
    #[arg(long, env = "VOICEPORT_DRAIN_SECS", default_value_t = 30)]
    pub drain_secs: u64,
    /// Seconds a WebSocket may stay silent before the server closes it.
    #[arg(long, env = "VOICEPORT_IDLE_TIMEOUT_SECS", default_value_t = 300)]
    pub idle_timeout_secs: u64,
    /// Directory served at `/` (demo page and npm package, made by `scripts/build-web.sh`); nothing is served if it does not exist.
    #[arg(long, env = "VOICEPORT_WWW", default_value = "dist")]
    pub www: PathBuf,
    /// API key required on every API route (header `Authorization: Bearer`,
    /// header `X-API-Key`, or query `api_key`); no key is required if unset.
    #[arg(long, env = "VOICEPORT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Comma-separated browser origins allowed on the API routes (e.g.
    /// `https://app.example`); requests from other origins get 403. Any origin if unset.
    #[arg(long, env = "VOICEPORT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// One model-work thread per core: every core busy, and work beyond the
/// cores waits in the queue, where lateness is seen (`--late-after-ms`),
/// instead of sharing a core and running slow unseen (measured in
/// BENCHMARKS.md: verify p99 5.9 s at 40 streams with four per core,
/// 0.31 s with one; summary streams the same either way).
fn default_inference_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl ServerConfig {
    /// The send timeout as a duration.
    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }

    /// How long a binary message may wait before it counts as late.
    pub fn late_after(&self) -> Duration {
        Duration::from_millis(self.late_after_ms)
    }

    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// The drain period as a duration.
    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.drain_secs)
    }

    /// Defaults for an ephemeral local server (tests, benches): loopback,
    /// port 0, no drain period (streams close as soon as it stops).
    pub fn loopback() -> Self {
        Self::loopback_with(&[])
    }

    /// An ephemeral local server with extra command-line `flags`, e.g. `["--api-key", "k"]`.
    pub fn loopback_with(flags: &[&str]) -> Self {
        use clap::Parser;
        let base = [
            "voiceport-server",
            "--addr",
            "127.0.0.1:0",
            "--drain-secs",
            "0",
        ];
        Self::parse_from(base.iter().chain(flags))
    }
}
