//! The native face: WebSocket endpoints, REST endpoints and the demo page,
//! on tokio + axum. Protocol rules live in [`crate::protocol`]; this module
//! only moves messages and enforces server limits.

mod access;
mod config;
mod errors;
mod listener;
mod metrics;
mod openapi;
mod rest;
mod thinning;
mod workers;
mod ws;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::ServerConfig;
pub use workers::{ModelWorkers, WorkCounts, WorkFailed};

use metrics::{Metrics, Refusal};
use thinning::ResultThinning;

use crate::models::Models;
use crate::protocol::Endpoint;
use crate::protocol::rest::RestReply;

/// How long the streams still open at the end get to send their close frames.
const STREAMS_CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// State shared by every request.
pub struct AppState {
    config: ServerConfig,
    models: Models,
    connections: Arc<Semaphore>,
    workers: ModelWorkers,
    /// How thin verify results run under load.
    thinning: ResultThinning,
    metrics: Metrics,
    connection_ids: AtomicU64,
    /// Set on SIGTERM: not ready, new work refused, open streams go on.
    draining: AtomicBool,
    /// Set when the open streams are to close (the drain period is over).
    shutdown: watch::Receiver<bool>,
}

impl AppState {
    fn new(
        config: ServerConfig,
        models: Models,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            connections: Arc::new(Semaphore::new(config.max_connections)),
            workers: ModelWorkers::new(config.inference_threads)?,
            thinning: ResultThinning::new(config.late_after()),
            metrics: Metrics::new(),
            connection_ids: AtomicU64::new(1),
            draining: AtomicBool::new(false),
            config,
            models,
            shutdown,
        })
    }

    fn next_connection_id(&self) -> u64 {
        self.connection_ids.fetch_add(1, Ordering::Relaxed)
    }

    fn active_connections(&self) -> usize {
        self.config.max_connections - self.connections.available_permits()
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Stops being ready; resolves when the open streams have ended or the
    /// drain period is over, whichever comes first.
    async fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        let period = self.config.drain();
        tracing::info!(
            streams = self.active_connections(),
            seconds = period.as_secs(),
            "draining: not ready, new work refused, open streams go on"
        );
        self.until_streams_end(period).await;
    }

    /// Resolves when no stream is open, or after `limit`.
    async fn until_streams_end(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.active_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The application: every route, with access control, CORS and request tracing.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (path, handler) in rest::routes() {
        router = router.route(path, handler);
    }
    router = router
        .route_layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(DefaultBodyLimit::max(state.config.max_message_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.request_timeout_secs),
        ));
    // A trailing slash names the same endpoint, as the protocol reads it.
    for path in Endpoint::PATHS {
        router = router
            .route(path, get(ws::upgrade))
            .route(&format!("{path}/"), get(ws::upgrade));
    }
    router = router
        .route_layer(middleware::from_fn_with_state(state.clone(), access::guard))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_while_draining,
        ))
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .route("/openapi.json", get(openapi::json))
        .route("/swagger-ui.html", get(openapi::page));
    if state.config.www.is_dir() {
        router = router.fallback_service(ServeDir::new(&state.config.www));
    }
    router
        .layer(access::cors(&state.config.allowed_origins))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of one HTTP request: method and path only (the query may carry
/// the API key).
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = request.uri().path())
}

/// Refuses new API work with 503 while draining, so that a load balancer
/// sends it to another server.
async fn refuse_while_draining(
    State(app): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if app.is_draining() {
        app.metrics.refused(Refusal::Draining);
        return RestReply::error(503, "server draining").into_response();
    }
    next.run(request).await
}

/// Counts REST requests by route and status.
async fn count_request(
    State(app): State<Arc<AppState>>,
    route: axum::extract::MatchedPath,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    app.metrics
        .http_request(route.as_str(), response.status().as_u16());
    response
}

/// `GET /metrics`: every metric in Prometheus text format.
async fn render_metrics(State(app): State<Arc<AppState>>) -> impl axum::response::IntoResponse {
    let text = app
        .metrics
        .render(app.workers.counts(), app.thinning.interval());
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// `GET /health/live`: the process answers (restart it if not).
async fn live() -> &'static str {
    "ok"
}

/// `GET /health/ready`: 200 while the server takes new work, 503 once it
/// drains.
async fn ready(State(app): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    if app.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else {
        (StatusCode::OK, "ready")
    }
}

/// `GET /health`: status plus connection and model-work counts.
async fn health(State(app): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": if app.is_draining() { "draining" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "active_connections": app.active_connections(),
        "max_connections": app.config.max_connections,
        "model_work": app.workers.counts(),
        "verify_result_interval": app.thinning.interval(),
    }))
}

/// Serves on `listener` until `shutdown` resolves, then drains: not ready,
/// new work refused with 503, open streams going on for `--drain-secs` (or
/// until they end); then closes every WebSocket still open with code 1001,
/// waits for in-flight requests and returns.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    models: Models,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let limits = listener::HttpLimits {
        max_connections: config.max_http_connections,
        header_timeout: Duration::from_secs(config.header_timeout_secs),
    };
    let models = if config.exact_verify_streams {
        models.with_exact_streams()
    } else {
        models
    };
    let bf16_streams = models
        .voice
        .as_ref()
        .is_some_and(|voice| voice.speaker().streams_in_bf16());
    let state = Arc::new(AppState::new(config, models, stopped)?);
    tracing::info!(
        addr = %listener.local_addr()?,
        convolutions = crate::nn::convolution_kernels(),
        verify_streams = if bf16_streams { "bfloat16 products" } else { "exact" },
        "voiceport server listening"
    );
    let draining = state.clone();
    let shutdown = async move {
        shutdown.await;
        draining.drain().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    };
    listener::serve_http(listener, router(state.clone()), limits, shutdown).await;
    // The streams still open are sending their close frames (1001).
    state.until_streams_end(STREAMS_CLOSE_TIMEOUT).await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
