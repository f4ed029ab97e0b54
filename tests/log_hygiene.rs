//! Biometric hygiene: voice templates, audio and the API key never reach the
//! server's logs, at any level of voiceport's own logging, even when they are
//! sent where they do not belong and rejected.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use common::socket::TestServer;
use common::*;
use voiceport::server::ServerConfig;

const KEY: &str = "s3cret-api-key-for-hygiene";
const FROM_SAMPLES: &str = "/voice_template_factory/create_voice_template_from_samples";
const MATCH: &str = "/voice_template_matcher/match_voice_templates";
/// A leak is any run of this many characters of a secret found in the logs.
const LEAK_CHARS: usize = 20;

/// Everything logged, shared with the subscriber's writer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Flips one character in the middle of a template (breaks its checksum).
fn corrupted(template: &str) -> String {
    let mut chars: Vec<char> = template.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn leaked_part<'a>(log: &str, secret: &'a str) -> Option<&'a str> {
    (0..=secret.len().saturating_sub(LEAK_CHARS))
        .map(|at| &secret[at..(at + LEAK_CHARS).min(secret.len())])
        .find(|part| log.contains(part))
}

#[tokio::test]
async fn templates_audio_and_keys_never_reach_the_logs() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("voiceport=trace,tower_http=trace,axum=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let server = TestServer::start(ServerConfig::loopback_with(&["--api-key", KEY])).await;
    let speech = flac_samples(UTTERANCE_103.flac);
    let audio = pcm16_bytes(&speech[..16_000 * 6]);
    let audio_as_text = base64::engine::general_purpose::STANDARD.encode(&audio[..6_000]);

    let path = format!("{FROM_SAMPLES}?sample_rate=16000");
    let headers = [
        ("content-type", "application/octet-stream"),
        ("x-api-key", KEY),
    ];
    let response = server.request("POST", &path, &headers, &audio).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let template = response.body.trim().trim_matches('"').to_string();
    let broken = corrupted(&template);

    let body = serde_json::json!({ "template1": template, "template2": broken }).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", &*format!("Bearer {KEY}")),
    ];
    let response = server
        .request("POST", MATCH, &headers, body.as_bytes())
        .await;
    assert_eq!(response.status, 400, "{}", response.body);

    let mut verify = server
        .connect(&format!("/voice_verify_stream?api_key={KEY}"))
        .await;
    assert_eq!(verify.ask(&broken).await, "500");
    assert_eq!(verify.ask(&template).await, "200");
    assert_eq!(
        verify.ask(&template).await,
        "500",
        "a template as the sample rate"
    );
    assert_eq!(verify.ask("16000").await, "200");
    assert_eq!(verify.ask("3").await, "200");
    let results = verify.ask_binary(&audio).await;
    assert!(results.contains("probability"), "{results}");
    assert_eq!(
        verify.ask(&template).await,
        "500",
        "text after the parameters"
    );
    verify.close().await;

    let mut summary = server
        .connect(&format!("/speech_summary_stream?api_key={KEY}"))
        .await;
    assert_eq!(summary.ask(&audio_as_text).await, "500");
    summary.close().await;
    server.stop().await;

    let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The rejections were logged, with their reasons …
    for reason in [
        "checksum mismatch",
        "invalid sample rate",
        "text message after",
    ] {
        assert!(log.contains(reason), "no `{reason}` in the log:\n{log}");
    }
    // … and no secret came with them.
    for (name, secret) in [
        ("template", template.as_str()),
        ("corrupted template", broken.as_str()),
        ("audio sent as text", audio_as_text.as_str()),
        ("API key", KEY),
    ] {
        if let Some(part) = leaked_part(&log, secret) {
            panic!("the {name} leaked into the log (`{part}`):\n{log}");
        }
    }
}
