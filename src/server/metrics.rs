//! Prometheus metrics, served as text at `/metrics`: sessions, messages,
//! replies and their latency by endpoint, refusals by reason, REST requests
//! by route and status, model work, and the process's memory and CPU.

use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use super::WorkCounts;

/// Reply latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Why the server refused or ended a client's connection or request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `--max-connections` reached (HTTP 503).
    TooManyConnections,
    /// The server is draining (HTTP 503).
    Draining,
    /// A message over `--max-message-bytes` (close 1009).
    MessageTooBig,
    /// A silent connection (`--idle-timeout-secs`, close 1001).
    IdleTimeout,
    /// A client that did not read its replies (`--send-timeout-secs`).
    SendTimeout,
    /// Model work panicked (close 1011).
    InternalError,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Self::TooManyConnections => "too_many_connections",
            Self::Draining => "draining",
            Self::MessageTooBig => "message_too_big",
            Self::IdleTimeout => "idle_timeout",
            Self::SendTimeout => "send_timeout",
            Self::InternalError => "internal_error",
        }
    }
}

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    sessions_open: IntGaugeVec,
    messages: IntCounterVec,
    replies: IntCounterVec,
    reply_seconds: HistogramVec,
    refusals: IntCounterVec,
    http_requests: IntCounterVec,
    work_queued: IntGauge,
    work_running: IntGauge,
    work_steps: IntCounterVec,
    verify_result_interval: Gauge,
}

impl Metrics {
    /// Every metric, registered (with the process collector where there is one).
    pub fn new() -> Self {
        let registry = Registry::new();
        let sessions_open = IntGaugeVec::new(
            opts("sessions_open", "WebSocket sessions open, by endpoint"),
            &["endpoint"],
        )
        .expect("valid metric");
        let messages = IntCounterVec::new(
            opts(
                "messages_total",
                "WebSocket messages received, by endpoint and kind",
            ),
            &["endpoint", "kind"],
        )
        .expect("valid metric");
        let replies = IntCounterVec::new(
            opts(
                "replies_total",
                "WebSocket replies sent, by endpoint and outcome (ok, or rejected: \"500\")",
            ),
            &["endpoint", "outcome"],
        )
        .expect("valid metric");
        let reply_seconds = HistogramVec::new(
            HistogramOpts::from(opts(
                "reply_seconds",
                "Time from a message's arrival to its reply, by endpoint and message kind",
            ))
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["endpoint", "kind"],
        )
        .expect("valid metric");
        let refusals = IntCounterVec::new(
            opts(
                "refusals_total",
                "Connections and requests refused or ended by the server, by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let http_requests = IntCounterVec::new(
            opts("http_requests_total", "REST requests, by route and status"),
            &["route", "status"],
        )
        .expect("valid metric");
        let work_queued = IntGauge::with_opts(opts(
            "model_work_queued",
            "Model-work steps waiting for a worker",
        ))
        .expect("valid metric");
        let work_running =
            IntGauge::with_opts(opts("model_work_running", "Model-work steps running"))
                .expect("valid metric");
        let work_steps = IntCounterVec::new(
            opts(
                "model_work_steps_total",
                "Model-work steps since start: done, or cancelled because their client had gone",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let verify_result_interval = Gauge::with_opts(opts(
            "verify_result_interval_seconds",
            "Seconds of audio per verify result at most: 0.5 below capacity, longer as results thin past it",
        ))
        .expect("valid metric");
        let metrics = Self {
            registry,
            sessions_open,
            messages,
            replies,
            reply_seconds,
            refusals,
            http_requests,
            work_queued,
            work_running,
            work_steps,
            verify_result_interval,
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 10] = [
            Box::new(self.sessions_open.clone()),
            Box::new(self.messages.clone()),
            Box::new(self.replies.clone()),
            Box::new(self.reply_seconds.clone()),
            Box::new(self.refusals.clone()),
            Box::new(self.http_requests.clone()),
            Box::new(self.work_queued.clone()),
            Box::new(self.work_running.clone()),
            Box::new(self.work_steps.clone()),
            Box::new(self.verify_result_interval.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector).expect("each metric once");
        }
        #[cfg(target_os = "linux")]
        self.registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("the process collector once");
    }

    /// A session opened on `endpoint`; it counts as open until the guard drops.
    pub fn session_opened(&self, endpoint: &'static str) -> SessionGauge {
        let gauge = self.sessions_open.with_label_values(&[endpoint]);
        gauge.inc();
        SessionGauge(gauge)
    }

    /// A message of `kind` (`text` or `binary`) answered after `elapsed`.
    pub fn replied(&self, endpoint: &str, kind: &str, rejected: bool, elapsed: Duration) {
        self.messages.with_label_values(&[endpoint, kind]).inc();
        let outcome = if rejected { "rejected" } else { "ok" };
        self.replies.with_label_values(&[endpoint, outcome]).inc();
        self.reply_seconds
            .with_label_values(&[endpoint, kind])
            .observe(elapsed.as_secs_f64());
    }

    /// The server refused or ended something for `reason`.
    pub fn refused(&self, reason: Refusal) {
        self.refusals.with_label_values(&[reason.label()]).inc();
    }

    /// A REST request on `route` answered with `status`.
    pub fn http_request(&self, route: &str, status: u16) {
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[route, status.as_str()])
            .inc();
    }

    /// The metrics in Prometheus text format, model work as `work` says now
    /// and verify results thinned to `verify_result_interval` seconds.
    pub fn render(&self, work: WorkCounts, verify_result_interval: f64) -> String {
        self.verify_result_interval.set(verify_result_interval);
        self.work_queued.set(gauge(work.queued as u64));
        self.work_running.set(gauge(work.running as u64));
        for (outcome, total) in [("done", work.done), ("cancelled", work.cancelled)] {
            let counter = self.work_steps.with_label_values(&[outcome]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("text encoding into memory");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Options of a metric named `voiceport_<name>`.
fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace("voiceport")
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Counts a session as open while it lives.
pub struct SessionGauge(IntGauge);

impl Drop for SessionGauge {
    fn drop(&mut self) {
        self.0.dec();
    }
}
