//! Enrollment quality of real speech: speech length and SNR react to noise.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use rand::{Rng, SeedableRng, rngs::SmallRng};
use voiceport::models::Models;
use voiceport::service::{AudioBuffer, voice_quality};

fn quality_of(models: &Models, samples: &[f32]) -> voiceport::voice::VoiceQuality {
    let bytes = pcm16_bytes(samples);
    let audio = AudioBuffer::Pcm16 {
        bytes: &bytes,
        sample_rate: 16_000,
    };
    voice_quality(models, audio).expect("quality")
}

#[test]
fn clean_speech_scores_higher_than_the_same_speech_in_noise() {
    let models = Models::bundled().expect("models");
    let clean = flac_samples(include_bytes!("data/librispeech/103-1240-0000.flac"));
    let mut rng = SmallRng::seed_from_u64(7);
    let noisy: Vec<f32> = clean
        .iter()
        .map(|s| s + rng.random_range(-0.05..0.05))
        .collect();

    let clean_quality = quality_of(&models, &clean);
    let noisy_quality = quality_of(&models, &noisy);

    let seconds = clean.len() as f64 / 16_000.0;
    assert!(clean_quality.enough_speech);
    assert!(
        clean_quality.speech_length > 0.6 * seconds && clean_quality.speech_length < seconds,
        "speech {} of {seconds} s",
        clean_quality.speech_length
    );
    let clean_snr = clean_quality.snr_db.expect("speech and pauses");
    let noisy_snr = noisy_quality.snr_db.expect("speech and pauses");
    assert!(clean_snr > 10.0, "clean SNR {clean_snr}");
    assert!(
        noisy_snr < clean_snr - 10.0,
        "noisy {noisy_snr} vs clean {clean_snr}"
    );
}

#[test]
fn silence_has_no_speech_and_is_not_enough() {
    let models = Models::bundled().expect("models");
    let quality = quality_of(&models, &vec![0.0; 32_000]);
    assert_eq!(quality.speech_length, 0.0);
    assert_eq!(quality.snr_db, None);
    assert!(!quality.enough_speech);
}
