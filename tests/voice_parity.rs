//! Fbank and CAM++ parity with the onnxruntime / kaldi-native-fbank references.

mod common;

use common::*;
use voiceport::voice::{CamPlusModel, FBANK_BINS, Fbank, Features, VoiceError};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// The parity below holds for the build under test: the convolutions use
/// the vector instructions it was built with (SIMD128, or relaxed SIMD's
/// fused multiply-adds; the test command runs these tests with both).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn the_convolutions_run_on_the_builds_instructions() {
    let expected = if cfg!(target_feature = "relaxed-simd") {
        "relaxed SIMD"
    } else {
        "SIMD128"
    };
    assert_eq!(voiceport::wasm::convolution_kernels(), expected);
}

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
    assert!(matches!(
        CamPlusModel::from_bytes(b"not a model"),
        Err(VoiceError::InvalidModel(_))
    ));
    // A valid ONNX file that is not CAM++: the error names what is missing.
    match CamPlusModel::from_bytes(SILERO_MODEL) {
        Err(VoiceError::InvalidModel(reason)) => assert!(reason.contains("Conv"), "{reason}"),
        other => panic!("expected InvalidModel, got {:?}", other.map(|_| ())),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn too_few_frames_is_an_inference_error_and_enough_frames_embed() {
    let model = CamPlusModel::from_bytes(CAMPPLUS_MODEL).expect("CAM++");
    let frames = |count: usize| Features {
        values: (0..count * FBANK_BINS).map(|i| (i % 7) as f32).collect(),
    };
    assert!(matches!(
        model.embed(&frames(2)),
        Err(VoiceError::Inference(_))
    ));
    // Any length runs without preparation, including odd ones.
    for count in [3, 101, 257] {
        let embedding = model.embed(&frames(count)).expect("embedding");
        assert_eq!(embedding.len(), voiceport::voice::EMBEDDING_DIM);
        assert!(embedding.iter().all(|x| x.is_finite()), "{count} frames");
    }
}
