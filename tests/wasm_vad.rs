//! Silero VAD parity inside a dedicated Web Worker in headless Chrome.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn vad_parity_in_a_worker() {
    let reference = reference(UTTERANCE_1034.reference);
    let samples = flac_samples(UTTERANCE_1034.flac);
    let (max_diff, flips) = compare_probs(&vad_probs(&silero(), &samples), &reference.vad_probs);
    assert!(max_diff <= 1e-4, "max abs diff {max_diff}");
    assert_eq!(flips, 0);
}

#[wasm_bindgen_test]
fn malformed_model_is_an_error_not_a_trap() {
    assert!(voiceport::vad::SileroModel::from_bytes(b"garbage").is_err());
}
