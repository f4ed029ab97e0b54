//! Decoder quality: the Opus endpoints' input against libopus on the same
//! files (`scripts/make-opus-fixtures.sh`): ≥ 40 dB SNR after alignment, for
//! every client rate the Opus endpoints accept (packets are decoded at the
//! 16 kHz engine rate whatever the client rate; see `src/audio/opus.rs`).
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use voiceport::audio::{AudioInput, OpusInput};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/opus");

/// (Ogg Opus file, libopus's 16 kHz decode of it) for every reference.
fn references() -> Vec<(PathBuf, PathBuf)> {
    let mut found: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter_map(|wav| {
            let name = wav
                .file_name()?
                .to_str()?
                .strip_suffix(".16000.wav")?
                .to_string();
            Some((Path::new(FIXTURES).join(format!("{name}.opus")), wav))
        })
        .collect();
    found.sort();
    assert!(found.len() >= 6, "references missing: {found:?}");
    found
}

/// libopus's 16 kHz decode.
fn reference_at_16k(path: &Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).expect("WAV");
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

/// Decodes a whole Ogg Opus file through the endpoint input in 700-byte
/// messages; returns the engine stream and the client samples reported.
fn decode_through_input(bytes: &[u8], client_rate: u32) -> (Vec<f32>, u64) {
    let mut input = OpusInput::new(client_rate).unwrap();
    let mut out = Vec::new();
    let mut samples = 0;
    for message in bytes.chunks(700) {
        samples += input.push(message, &mut out).into_result().expect("decode");
    }
    (out, samples)
}

/// SNR in dB of `ours` against `theirs` at the best lag within ±64 samples.
fn aligned_snr(ours: &[f32], theirs: &[f32]) -> (f64, isize) {
    (-64isize..=64)
        .map(|lag| {
            let pairs = theirs.iter().enumerate().filter_map(|(i, &t)| {
                let j = i as isize + lag;
                (j >= 0).then(|| ours.get(j as usize).map(|&o| (f64::from(t), f64::from(o))))?
            });
            let (signal, noise) = pairs.fold((0.0, 0.0), |(s, n), (t, o)| {
                (s + t * t, n + (t - o) * (t - o))
            });
            (10.0 * (signal / noise.max(1e-20)).log10(), lag)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap()
}

#[test]
fn the_endpoint_input_decodes_like_libopus() {
    for (opus, wav) in references() {
        let theirs = reference_at_16k(&wav);
        let (ours, client_samples) = decode_through_input(&std::fs::read(&opus).unwrap(), 16_000);
        let (snr, lag) = aligned_snr(&ours, &theirs);
        assert!(
            snr >= 40.0 && lag == 0,
            "{}: {snr:.1} dB, lag {lag}",
            opus.display()
        );
        assert_eq!(client_samples, theirs.len() as u64, "{}", opus.display());
    }
}

#[test]
fn sample_positions_follow_the_client_rate() {
    let (opus, _) = &references()[0];
    let bytes = std::fs::read(opus).unwrap();
    let (engine_48k, at_48k) = decode_through_input(&bytes, 48_000);
    for rate in [8_000u32, 12_000, 16_000, 24_000] {
        let (engine, samples) = decode_through_input(&bytes, rate);
        assert_eq!(
            engine, engine_48k,
            "the engine stream does not depend on the client rate"
        );
        assert_eq!(samples, at_48k * u64::from(rate) / 48_000);
    }
}
