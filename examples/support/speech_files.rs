//! Speech files as clients send them, shared by the calibration and level
//! examples: FLAC reading, the telephone band, and the audio input.

use std::path::{Path, PathBuf};

use voiceport::audio::{AudioInput, PcmInput};

/// The FLAC files of `dir`, sorted by name.
pub fn flac_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    files.sort();
    files
}

/// A 16 kHz FLAC file's samples.
pub fn read_flac(path: &Path) -> Vec<i16> {
    let mut reader = claxon::FlacReader::open(path).expect("FLAC");
    assert_eq!(
        reader.streaminfo().sample_rate,
        16_000,
        "{}",
        path.display()
    );
    reader
        .samples()
        .map(|s| s.expect("sample") as i16)
        .collect()
}

/// The samples as the server sees them: PCM16 bytes at `rate` through the
/// audio input (resampled to 16 kHz).
pub fn through_pcm_input(samples: &[i16], rate: u32) -> Vec<f32> {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut input = PcmInput::new(rate).expect("rate");
    let mut out = Vec::new();
    input.push(&bytes, &mut out).into_result().expect("decode");
    input.finish(&mut out).expect("resampler tail");
    out
}

/// What an 8 kHz client sends: the 16 kHz recording low-passed under 3.6 kHz
/// (a 63-tap Hann-windowed sinc) and decimated by two.
pub fn telephone(samples: &[i16]) -> Vec<i16> {
    const TAPS: usize = 63;
    let cutoff = 3_600.0 / 16_000.0;
    let centre = (TAPS / 2) as f64;
    let taps: Vec<f64> = (0..TAPS)
        .map(|i| {
            let x = i as f64 - centre;
            let sinc = if x == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
            };
            let hann =
                0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (TAPS - 1) as f64).cos();
            sinc * hann
        })
        .collect();
    (0..samples.len() / 2)
        .map(|k| {
            let at = 2 * k;
            let sum: f64 = taps
                .iter()
                .enumerate()
                .filter_map(|(i, tap)| {
                    let index = (at + i).checked_sub(TAPS / 2)?;
                    samples.get(index).map(|&s| tap * f64::from(s))
                })
                .sum();
            sum.round().clamp(-32_768.0, 32_767.0) as i16
        })
        .collect()
}
