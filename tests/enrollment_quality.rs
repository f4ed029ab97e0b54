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

/// Real speech at 16 kHz scaled by `gain` and clipped to full scale.
fn speech_at(gain: f32) -> Vec<f32> {
    flac_samples(include_bytes!("data/librispeech/103-1240-0000.flac"))
        .iter()
        .map(|s| (s * gain).clamp(-1.0, 1.0))
        .collect()
}

#[test]
fn real_speech_problems_follow_level_noise_and_clipping() {
    use voiceport::voice::QualityProblem::{Clipped, TooNoisy, TooQuiet};
    let models = Models::bundled().expect("models");
    assert_eq!(quality_of(&models, &speech_at(1.0)).problems, vec![]);
    // 40 dB down: the VAD may still find the speech, but it is too quiet.
    let quiet = quality_of(&models, &speech_at(0.01));
    assert!(quiet.problems.contains(&TooQuiet), "{quiet:?}");
    // 20× up: a tenth of the samples at full scale.
    let loud = quality_of(&models, &speech_at(20.0));
    assert!(loud.problems.contains(&Clipped), "{loud:?}");
    assert!(!loud.problems.contains(&TooQuiet));
    let mut rng = SmallRng::seed_from_u64(3);
    let noisy: Vec<f32> = speech_at(1.0)
        .iter()
        .map(|s| s + rng.random_range(-0.06..0.06))
        .collect();
    let noisy = quality_of(&models, &noisy);
    assert!(noisy.problems.contains(&TooNoisy), "{noisy:?}");
}

#[test]
fn guided_enrollment_reports_progress_and_ends_with_the_same_template() {
    use voiceport::service::create_template;
    use voiceport::service::enrollment::EnrollmentStream;
    let models = Models::bundled().expect("models");
    let speech = speech_at(1.0);
    let bytes = pcm16_bytes(&speech);
    let mut stream = EnrollmentStream::new(&models, 16_000, 5.0).unwrap();
    let mut last = 0.0;
    let mut done_at = None;
    for (index, chunk) in bytes.chunks(3_200).enumerate() {
        let progress = stream.push(chunk).unwrap();
        assert!(progress.percent >= last && progress.percent <= 100.0);
        last = progress.percent;
        if progress.done && done_at.is_none() {
            done_at = Some(index);
            assert_eq!(progress.percent, 100.0);
            assert!(progress.speech_seconds >= 5.0);
        }
        // Live feedback on clean speech: nothing wrong once speech flows.
        if index > 40 {
            assert_eq!(progress.recent.problems, vec![], "chunk {index}");
        }
    }
    // Five seconds of speech arrive after more than five seconds of audio.
    let done_at = done_at.expect("enough speech");
    assert!((50..100).contains(&done_at), "{done_at}");
    let enrollment = stream.finish(&models).unwrap();
    let audio = AudioBuffer::Pcm16 {
        bytes: &bytes,
        sample_rate: 16_000,
    };
    assert_eq!(
        enrollment.template,
        create_template(&models, audio).unwrap()
    );
    assert_eq!(enrollment.quality, voice_quality(&models, audio).unwrap());
}

#[test]
fn guided_enrollment_refuses_bad_requests_with_reasons() {
    use voiceport::service::enrollment::EnrollmentStream;
    let models = Models::bundled().expect("models");
    for seconds in [0.5, 301.0, f64::NAN] {
        let error = EnrollmentStream::new(&models, 16_000, seconds)
            .err()
            .unwrap();
        assert!(error.to_string().contains("between 1 and 300"), "{error}");
    }
    assert!(EnrollmentStream::new(&models, 1_000, 5.0).is_err());
    // Silence: no template, with the reason.
    let mut stream = EnrollmentStream::new(&models, 16_000, 2.0).unwrap();
    let progress = stream.push(&vec![0; 32_000]).unwrap();
    assert_eq!(progress.percent, 0.0);
    let error = stream.finish(&models).unwrap_err();
    assert!(error.to_string().contains("speech"), "{error}");
    // Past the longest recording kept.
    let mut stream = EnrollmentStream::new(&models, 8_000, 2.0).unwrap();
    let minute = vec![0; 2 * 8_000 * 60];
    for _ in 0..5 {
        stream.push(&minute).unwrap();
    }
    let error = stream.push(&[0, 0]).unwrap_err();
    assert!(error.to_string().contains("300 s"), "{error}");
}
