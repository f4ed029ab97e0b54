//! Fbank and CAM++ parity with the onnxruntime / kaldi-native-fbank references.

mod common;

use common::*;
use voiceport::voice::{CamPlusModel, Fbank};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fbank_matches_kaldi() {
    let reference = reference(UTTERANCE_1034.reference);
    let samples = flac_samples(UTTERANCE_1034.flac);
    let mut features = Fbank::new().compute(&samples);
    assert_eq!(features.frames(), reference.fbank.len());
    let max_diff = |ours: &voiceport::voice::Features, theirs: &[Vec<f32>]| {
        theirs
            .iter()
            .enumerate()
            .flat_map(|(t, row)| row.iter().zip(ours.frame(t)).map(|(a, b)| (a - b).abs()))
            .fold(0.0f32, f32::max)
    };
    let raw = max_diff(&features, &reference.fbank);
    assert!(raw <= 1e-3, "fbank max abs diff {raw}");
    features.subtract_mean();
    let cmn = max_diff(&features, &reference.cmn_fbank);
    assert!(cmn <= 1e-3, "cmn fbank max abs diff {cmn}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn campplus_matches_onnxruntime() {
    let engine = voice_engine();
    let fbank = Fbank::new();
    for fixture in [UTTERANCE_1034, UTTERANCE_103] {
        let reference = reference(fixture.reference);
        let mut features = fbank.compute(&flac_samples(fixture.flac));
        features.subtract_mean();
        let embedding = engine.speaker().embed(&features).expect("embedding");
        let similarity = cosine(&embedding, &reference.campplus_embedding);
        assert!(similarity >= 0.9999, "cosine {similarity}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_speaker_model_is_a_typed_error() {
    assert!(CamPlusModel::from_bytes(b"not a model").is_err());
}
