//! `/metrics`: Prometheus text that counts what the server did — sessions,
//! replies and their latency by endpoint, refusals, REST requests, model
//! work — and the process's memory.

use crate::common::socket::TestServer;
use crate::common::*;

/// The value of the sample `series` (name and labels, as printed), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_sessions_replies_refusals_requests_and_work() {
    let server = TestServer::with_flags(&["--max-connections", "1"]).await;
    let mut client = server.connect("/speech_summary_stream").await;
    assert_eq!(client.ask("16000").await, "200");
    assert_eq!(client.ask("16000").await, "500"); // text after the parameters
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    client.ask_binary(&pcm16_bytes(&speech[..16_000])).await;
    // The one connection allowed is taken: a second is refused.
    let url = format!("ws://{}/speech_summary_stream", server.addr);
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    let (status, _) = server
        .post(
            "/voice_template_matcher/match_voice_templates",
            "application/json",
            b"{}",
        )
        .await;
    assert_eq!(status, 400);

    let (status, metrics) = server.get("/metrics").await;
    assert_eq!(status, 200);
    let expect = |series: &str, value: f64| {
        assert_eq!(
            sample(&metrics, series),
            Some(value),
            "{series} in\n{metrics}"
        );
    };
    expect(
        r#"voiceport_sessions_open{endpoint="/speech_summary_stream"}"#,
        1.0,
    );
    expect(
        r#"voiceport_replies_total{endpoint="/speech_summary_stream",outcome="ok"}"#,
        2.0,
    );
    expect(
        r#"voiceport_replies_total{endpoint="/speech_summary_stream",outcome="rejected"}"#,
        1.0,
    );
    expect(
        r#"voiceport_reply_seconds_count{endpoint="/speech_summary_stream",kind="binary"}"#,
        1.0,
    );
    expect(
        r#"voiceport_refusals_total{reason="too_many_connections"}"#,
        1.0,
    );
    expect(
        r#"voiceport_http_requests_total{route="/voice_template_matcher/match_voice_templates",status="400"}"#,
        1.0,
    );
    let steps = sample(
        &metrics,
        r#"voiceport_model_work_steps_total{outcome="done"}"#,
    );
    assert!(steps.is_some_and(|n| n >= 1.0), "{metrics}");
    expect("voiceport_model_work_queued", 0.0);
    // Below capacity, verify results are not thinned.
    expect("voiceport_verify_result_interval_seconds", 0.5);
    let memory = sample(&metrics, "process_resident_memory_bytes");
    assert!(memory.is_some_and(|bytes| bytes > 1e6), "{metrics}");

    client.close().await;
    assert!(server.wait_for_active_connections(0).await);
    let (_, metrics) = server.get("/metrics").await;
    let open = sample(
        &metrics,
        r#"voiceport_sessions_open{endpoint="/speech_summary_stream"}"#,
    );
    assert_eq!(open, Some(0.0));
    server.stop().await;
}
