//! How voice activity detection holds up across recording levels and bands,
//! through the whole Rust pipeline (PCM16 → audio input → VAD).
//!
//! Usage: `cargo run --release --example levels -- <dir of 16 kHz FLAC files> [files] [floor dB]`
//!
//! Two kinds of audio from the first `files` (20) recordings: read speech as
//! recorded, and short bursts — 0.4 s pieces of the same speech separated by
//! 0.8 s pauses over a noise floor (`floor dB`, 50, under the speech), as
//! someone saying single words.
//! Each is scaled to −45 … −10 dBFS RMS (samples clipped to full scale) and
//! sent at 16 kHz and as an 8 kHz client (telephone band). Against the
//! decisions on the same audio at 16 kHz and −20 dBFS, the table gives the
//! speech found, the frames that agree, and the speech found in background
//! far (≥ 300 ms) from any speech of the reference.

use std::path::PathBuf;

#[path = "support/speech_files.rs"]
mod speech_files;

use speech_files::{flac_files, read_flac, telephone, through_pcm_input};
use voiceport::vad::{SileroModel, frame_decisions};

/// Levels tried, in dBFS RMS over the whole recording.
const LEVELS: [f64; 6] = [-45.0, -38.0, -30.0, -20.0, -15.0, -10.0];
/// The reference level.
const REFERENCE_DBFS: f64 = -20.0;
/// Frames around reference speech not counted as background (300 ms).
const GUARD_FRAMES: usize = 10;

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: levels <flac dir> [files]"),
    );
    let count: usize = std::env::args()
        .nth(2)
        .map_or(20, |n| n.parse().expect("a count"));
    let floor_db: f64 = std::env::args()
        .nth(3)
        .map_or(50.0, |n| n.parse().expect("dB"));
    let mut files = flac_files(&dir);
    files.truncate(count);
    let vad = SileroModel::from_bytes(
        &std::fs::read("models/silero_vad_openvino_16k.onnx").expect("VAD model"),
    )
    .expect("VAD");
    let read: Vec<Vec<f64>> = files.iter().map(|p| to_f64(&read_flac(p))).collect();
    let bursts: Vec<Vec<f64>> = read.iter().map(|s| short_bursts(s, floor_db)).collect();
    println!(
        "| audio | rate | level (dBFS RMS) | speech found (s) | frames agreeing | speech in far background (s) |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, recordings) in [("read speech", &read), ("short bursts", &bursts)] {
        let references: Vec<Vec<bool>> = recordings
            .iter()
            .map(|r| decisions(&vad, r, REFERENCE_DBFS, 16_000))
            .collect();
        for rate in [16_000, 8_000] {
            for level in LEVELS {
                let mut found = 0;
                let (mut agreeing, mut frames) = (0, 0);
                let mut far_speech = 0;
                for (recording, reference) in recordings.iter().zip(&references) {
                    let ours = decisions(&vad, recording, level, rate);
                    let n = ours.len().min(reference.len());
                    found += ours[..n].iter().filter(|&&s| s).count();
                    agreeing += (0..n).filter(|&i| ours[i] == reference[i]).count();
                    frames += n;
                    let far = far_background(&reference[..n]);
                    far_speech += (0..n).filter(|&i| far[i] && ours[i]).count();
                }
                println!(
                    "| {name} | {} kHz | {level:.0} | {:.1} | {:.1} % | {:.2} |",
                    rate / 1000,
                    found as f64 * 0.03,
                    100.0 * agreeing as f64 / frames as f64,
                    far_speech as f64 * 0.03,
                );
            }
        }
    }
}

fn to_f64(samples: &[i16]) -> Vec<f64> {
    samples.iter().map(|&s| f64::from(s) / 32_768.0).collect()
}

/// 0.4 s pieces of `speech` (every 1.5 s, 20 ms fades) with 0.8 s pauses
/// between them, over white noise `floor_db` under the speech's RMS.
fn short_bursts(speech: &[f64], floor_db: f64) -> Vec<f64> {
    let rms = (speech.iter().map(|s| s * s).sum::<f64>() / speech.len() as f64).sqrt();
    let floor = rms * 10f64.powf(-floor_db / 20.0);
    let mut noise = 0x2545_f491_u32;
    let mut next_noise = move || {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        (f64::from(noise) / f64::from(u32::MAX) * 2.0 - 1.0) * floor * 3f64.sqrt()
    };
    let (piece, pause, fade) = (6_400, 12_800, 320);
    let mut out = Vec::new();
    out.extend((0..pause).map(|_| next_noise()));
    for start in (0..speech.len().saturating_sub(piece)).step_by(24_000) {
        for (i, &s) in speech[start..start + piece].iter().enumerate() {
            let edge = i.min(piece - 1 - i);
            let gain = (edge as f64 / fade as f64).min(1.0);
            out.push(s * gain + next_noise());
        }
        out.extend((0..pause).map(|_| next_noise()));
    }
    out
}

/// The VAD's decisions on `recording` scaled to `level` dBFS RMS, sent as
/// PCM16 at `rate` (8 kHz: the telephone band).
fn decisions(vad: &SileroModel, recording: &[f64], level: f64, rate: u32) -> Vec<bool> {
    let rms = (recording.iter().map(|s| s * s).sum::<f64>() / recording.len() as f64).sqrt();
    let gain = 10f64.powf(level / 20.0) / rms;
    let pcm: Vec<i16> = recording
        .iter()
        .map(|s| (s * gain * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect();
    let samples = if rate == 16_000 {
        through_pcm_input(&pcm, 16_000)
    } else {
        through_pcm_input(&telephone(&pcm), 8_000)
    };
    frame_decisions(vad, &samples)
}

/// Frames at least [`GUARD_FRAMES`] away from any speech frame of `reference`.
fn far_background(reference: &[bool]) -> Vec<bool> {
    (0..reference.len())
        .map(|i| {
            let from = i.saturating_sub(GUARD_FRAMES);
            let to = (i + GUARD_FRAMES + 1).min(reference.len());
            !reference[from..to].iter().any(|&s| s)
        })
        .collect()
}
