//! Silero VAD against onnxruntime reference probabilities (native).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use rand::{Rng, SeedableRng, rngs::SmallRng};
use voiceport::vad::{SileroModel, VadError, VadStream};

fn check_parity(samples: &[f32], reference_json: &str) {
    let reference = reference(reference_json);
    assert_eq!(samples.len(), reference.samples);
    let (max_diff, flips) = compare_probs(&vad_probs(&silero(), samples), &reference.vad_probs);
    assert!(max_diff <= 1e-4, "max abs diff {max_diff}");
    assert_eq!(flips, 0, "decisions flipped at 0.5");
}

#[test]
fn parity_on_librispeech_utterances() {
    for fixture in [UTTERANCE_1034, UTTERANCE_103] {
        check_parity(&flac_samples(fixture.flac), fixture.reference);
    }
}

#[test]
fn parity_on_librivox_with_gaps() {
    let (samples, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    assert_eq!(rate, 16_000);
    check_parity(&samples, LIBRIVOX_GAPS_REFERENCE);
}

#[test]
fn random_splits_give_identical_decisions() {
    let model = silero();
    let samples = flac_samples(UTTERANCE_1034.flac);
    let decide = |chunks: &mut dyn Iterator<Item = &[f32]>| {
        let mut stream = VadStream::new(&model);
        let mut out = Vec::new();
        chunks.for_each(|c| stream.push(c, &mut out));
        out
    };
    let whole = decide(&mut std::iter::once(&samples[..]));
    let complete_frames = samples.len() / 480;
    assert!(
        whole.len().abs_diff(complete_frames) <= 1,
        "{} frames",
        whole.len()
    );
    let mut rng = SmallRng::seed_from_u64(3);
    let mut cuts = vec![0];
    while *cuts.last().unwrap() < samples.len() {
        let next = cuts.last().unwrap() + rng.random_range(0..2000);
        cuts.push(next.min(samples.len()));
    }
    let split = decide(&mut cuts.windows(2).map(|w| &samples[w[0]..w[1]]));
    assert_eq!(split, whole);
}

#[test]
fn streams_share_one_model_without_interference() {
    let model = silero();
    let a = flac_samples(UTTERANCE_1034.flac);
    let b = flac_samples(UTTERANCE_103.flac);
    let (mut sa, mut sb) = (model.stream(), model.stream());
    let (mut pa, mut pb) = (Vec::new(), Vec::new());
    for (ca, cb) in a.chunks(1000).zip(b.chunks(1000)) {
        sa.push(ca, &mut pa);
        sb.push(cb, &mut pb);
    }
    let n = pa.len().min(pb.len());
    assert!(n > 200);
    assert_eq!(pa[..n], vad_probs(&model, &a)[..n]);
    assert_eq!(pb[..n], vad_probs(&model, &b)[..n]);
}

#[test]
fn malformed_model_bytes_are_a_typed_error() {
    let truncated = &SILERO_MODEL[..SILERO_MODEL.len() / 2];
    for bytes in [&b""[..], b"not a model", truncated] {
        assert!(matches!(
            SileroModel::from_bytes(bytes),
            Err(VadError::InvalidModel(_))
        ));
    }
}

#[test]
fn an_onnx_model_that_is_not_silero_names_what_it_lacks() {
    match SileroModel::from_bytes(CAMPPLUS_MODEL) {
        Err(VadError::InvalidModel(reason)) => assert!(reason.contains("stft"), "{reason}"),
        Ok(_) => panic!("CAM++ accepted as Silero"),
    }
}

#[test]
fn corrupted_model_bytes_never_panic() {
    let mut rng = SmallRng::seed_from_u64(11);
    let mut loaded = 0;
    for _ in 0..150 {
        let mut bytes = SILERO_MODEL.to_vec();
        for _ in 0..rng.random_range(1..8) {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = rng.random();
        }
        // Either a typed error or a model that runs.
        if let Ok(model) = SileroModel::from_bytes(&bytes) {
            let mut probs = Vec::new();
            model.stream().push(&[0.1; 1024], &mut probs);
            assert_eq!(probs.len(), 2);
            loaded += 1;
        }
    }
    // Most corruptions hit weights, which still load: the loop ran the network.
    assert!(loaded > 0);
}

#[test]
fn empty_input_yields_nothing() {
    let mut probs = Vec::new();
    silero().stream().push(&[], &mut probs);
    assert!(probs.is_empty());
}
