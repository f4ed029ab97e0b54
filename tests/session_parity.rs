//! The browser and the server run the same Session: replies computed here
//! (natively and in a headless-Chrome worker) are compared with replies the
//! native build recorded in `tests/data/expected/session_replies.json`.
//! Natively the recording must be current; `VOICEPORT_BLESS=1` rewrites it.

mod common;

use common::*;
use serde::{Deserialize, Serialize};
use voiceport::models::Models;
use voiceport::protocol::Session;
use voiceport::service::{AudioBuffer, create_template};
use voiceport::voice::{SPEAKER_MODEL, VoiceTemplate, dot};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

const RECORDED: &str = include_str!("data/expected/session_replies.json");

/// What one build computes for the fixed scenario.
#[derive(Debug, Serialize, Deserialize)]
struct Replies {
    /// Replies of a summary stream of utterance 1034 in 8000-byte messages.
    summary: Vec<String>,
    /// Template of the first half of utterance 103.
    template: String,
    /// Verify scores of the second half against that template (3 s window).
    verify_scores: Vec<f64>,
}

/// The bundled models as the test files hold them.
fn models() -> Models {
    Models::from_bytes(SILERO_MODEL, Some(CAMPPLUS_MODEL)).expect("models")
}

fn compute(models: Models) -> Replies {
    let mut session = Session::for_path("/speech_summary_stream", models.clone()).unwrap();
    let mut summary = vec![session.on_text("16000")];
    let audio = pcm16_bytes(&flac_samples(UTTERANCE_1034.flac));
    summary.extend(audio.chunks(8000).map(|c| session.on_binary(c)));

    let speech = flac_samples(UTTERANCE_103.flac);
    let (enroll, probe) = speech.split_at(speech.len() / 2);
    let enroll = pcm16_bytes(enroll);
    let audio = AudioBuffer::Pcm16 {
        bytes: &enroll,
        sample_rate: 16_000,
    };
    let template = create_template(&models, audio).expect("template");
    let mut session = Session::for_path("/voice_verify_stream", models).unwrap();
    for param in [template.as_str(), "16000", "3"] {
        assert_eq!(session.on_text(param), "200");
    }
    let mut verify_scores = Vec::new();
    for chunk in pcm16_bytes(probe).chunks(32_000) {
        let reply: serde_json::Value = serde_json::from_str(&session.on_binary(chunk)).unwrap();
        for result in reply.as_array().unwrap() {
            verify_scores.push(result["verify_result"]["score"].as_f64().unwrap());
        }
    }
    Replies {
        summary,
        template,
        verify_scores,
    }
}

fn recorded() -> Replies {
    serde_json::from_str(RECORDED).expect("recorded replies")
}

fn template_cosine(a: &str, b: &str) -> f32 {
    let a = VoiceTemplate::from_base64(a, SPEAKER_MODEL).unwrap();
    let b = VoiceTemplate::from_base64(b, SPEAKER_MODEL).unwrap();
    a.check_comparable(&b).unwrap();
    dot(&a.embedding, &b.embedding)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn replies_match_the_native_recording() {
    // Verify streams computed exactly: the recording's arithmetic, the same
    // natively on every CPU and in the browser.
    let ours = compute(models().with_exact_streams());
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("VOICEPORT_BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/expected/session_replies.json"
        );
        std::fs::write(path, serde_json::to_string_pretty(&ours).unwrap()).unwrap();
        return;
    }
    let recorded = recorded();
    assert_eq!(ours.summary, recorded.summary, "summary replies");
    let cosine = template_cosine(&ours.template, &recorded.template);
    assert!(cosine >= 0.99999, "template cosine {cosine}");
    assert_eq!(ours.verify_scores.len(), recorded.verify_scores.len());
    assert!(!ours.verify_scores.is_empty());
    for (a, b) in ours.verify_scores.iter().zip(&recorded.verify_scores) {
        assert!((a - b).abs() <= 1e-4, "verify score {a} vs {b}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn default_verify_streams_stay_within_bfloat16_rounding_of_the_recording() {
    // By default a verify stream's parts multiply in bfloat16 where the CPU
    // can (x86-64 with AVX-512 BF16; exactly elsewhere, the browser
    // included): its scores move by rounding, never by more.
    let models = models();
    let bf16 = models.voice().unwrap().speaker().streams_in_bf16();
    let ours = compute(models);
    let recorded = recorded();
    assert_eq!(ours.summary, recorded.summary, "summary replies");
    assert_eq!(ours.verify_scores.len(), recorded.verify_scores.len());
    let largest = ours
        .verify_scores
        .iter()
        .zip(&recorded.verify_scores)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let bound = if bf16 { 5e-3 } else { 1e-4 };
    assert!(
        largest <= bound,
        "verify scores {largest} from the recording"
    );
    eprintln!("largest verify score difference {largest:.2e} (bfloat16: {bf16})");
}
