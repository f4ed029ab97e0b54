//! The whole-buffer operations, worked a slice at a time (so that a server
//! can interleave them with other work), give exactly what the whole-buffer
//! pipeline gives: the same template bytes and the same frame decisions.

mod common;

use common::*;
use voiceport::audio::{AudioInput, PcmInput};
use voiceport::models::Models;
use voiceport::service::{AudioBuffer, create_template, speech_summary};
use voiceport::vad::frame_decisions;
use voiceport::voice::Band;

/// 95 s of speech and pauses at 8 kHz: several steps of every stage.
fn long_recording() -> Vec<u8> {
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let at_8k: Vec<f32> = speech.iter().step_by(2).copied().collect();
    let mut repeated = at_8k.clone();
    repeated.extend(&at_8k);
    repeated.extend(&at_8k[..at_8k.len() / 2]);
    pcm16_bytes(&repeated)
}

/// The recording at the engine rate, decoded in one piece.
fn whole(bytes: &[u8]) -> Vec<f32> {
    let mut input = PcmInput::new(8_000).unwrap();
    let mut samples = Vec::new();
    input.push(bytes, &mut samples).into_result().unwrap();
    input.finish(&mut samples).unwrap();
    samples
}

#[test]
fn templates_and_summaries_equal_the_whole_buffer_pipeline() {
    let models = Models::from_bytes(SILERO_MODEL, Some(CAMPPLUS_MODEL)).unwrap();
    let bytes = long_recording();
    let audio = AudioBuffer::Pcm16 {
        bytes: &bytes,
        sample_rate: 8_000,
    };
    let samples = whole(&bytes);

    let stepwise = create_template(&models, audio).unwrap();
    let reference = models
        .voice()
        .unwrap()
        .template(&samples, Band::of_rate(8_000))
        .unwrap();
    assert_eq!(stepwise, reference.to_base64());

    let summary = speech_summary(&models, audio).unwrap().summary;
    assert_eq!(
        summary.vad_result.frames,
        frame_decisions(&models.vad, &samples)
    );
    let seconds = f64::from((bytes.len() as f64 / 16_000.0) as f32);
    assert!(
        (summary.total_length - seconds).abs() < 1e-9,
        "{}",
        summary.total_length
    );
}
