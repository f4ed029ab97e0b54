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
//!
//! A second table sends the short bursts as an 8 kHz client through other
//! recording chains (shorter words, a louder low-frequency noise floor, a
//! telephone's 300 Hz high-pass and G.711 µ-law, 8-bit quantisation, a
//! full-scale click or a second of loud noise before the words), each also
//! with the whole recording normalised to −25 dBFS RMS in front of the VAD
//! (an oracle of what level normalisation could do).

use std::path::PathBuf;

#[path = "support/shipped_models.rs"]
mod shipped_models;
#[path = "support/speech_files.rs"]
mod speech_files;

use shipped_models::shipped_models;
use speech_files::{flac_files, read_flac, telephone, through_pcm_input};
use voiceport::vad::{SileroModel, frame_decisions};

/// Levels tried, in dBFS RMS over the whole recording.
const LEVELS: [f64; 6] = [-45.0, -38.0, -30.0, -20.0, -15.0, -10.0];
/// The reference level.
const REFERENCE_DBFS: f64 = -20.0;
/// The level the oracle normalisation scales recordings to (dBFS RMS).
const NORMALISED_DBFS: f64 = -25.0;
/// Seconds per VAD decision.
const FRAME_SECONDS: f64 = 0.03;
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
    let vad = shipped_models(None).vad;
    let read: Vec<Vec<f64>> = files.iter().map(|p| to_f64(&read_flac(p))).collect();
    let bursts: Vec<Vec<f64>> = read
        .iter()
        .map(|s| short_bursts(s, &Bursts::words(floor_db)))
        .collect();
    println!(
        "| audio | rate | level (dBFS RMS) | speech found (s) | frames agreeing | speech in far background (s) |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, recordings) in [("read speech", &read), ("short bursts", &bursts)] {
        let references: Vec<Vec<bool>> = recordings
            .iter()
            .map(|r| decisions(&vad, r, REFERENCE_DBFS, &Chain::WIDE))
            .collect();
        for chain in [Chain::WIDE, Chain::TELEPHONE] {
            for level in LEVELS {
                let tally = Tally::of(&vad, recordings, &references, level, &chain);
                println!(
                    "| {name} | {} kHz | {level:.0} | {:.1} | {:.1} % | {:.2} |",
                    chain.rate / 1000,
                    tally.speech_seconds(),
                    tally.agreeing_percent(),
                    tally.far_speech as f64 * FRAME_SECONDS,
                );
            }
        }
    }
    println!();
    recording_chains(&vad, &read, floor_db);
}

/// The second table: short bursts through other recording chains at 8 kHz,
/// speech found (s) and frames agreeing with the same audio at 16 kHz and
/// −20 dBFS, as sent and normalised to −25 dBFS.
fn recording_chains(vad: &SileroModel, read: &[Vec<f64>], floor_db: f64) {
    let header: Vec<String> = LEVELS.iter().map(|l| format!("{l:.0} dBFS")).collect();
    println!(
        "| chain (8 kHz client, short bursts) | {} |",
        header.join(" | ")
    );
    println!("|---|{}", "---|".repeat(LEVELS.len()));
    let plain = Bursts::words(floor_db);
    let shorter = Bursts {
        piece_seconds: 0.25,
        ..plain
    };
    let rumble = Bursts {
        floor_db: 20.0,
        brown_floor: true,
        ..plain
    };
    let cases: [(&str, Bursts, Transform); 8] = [
        ("as above", plain, |x| x),
        ("words of 0.25 s", shorter, |x| x),
        ("low-frequency floor 20 dB under", rumble, |x| x),
        ("300 Hz high-pass", plain, high_pass_300),
        ("300 Hz high-pass + µ-law", plain, |x| {
            mu_law(&high_pass_300(x))
        }),
        ("8-bit samples", plain, eight_bit),
        ("full-scale click first", plain, click_first),
        ("1 s of loud noise first", plain, loud_noise_first),
    ];
    for (name, bursts, transform) in cases {
        let recordings: Vec<Vec<f64>> = read.iter().map(|r| short_bursts(r, &bursts)).collect();
        let references: Vec<Vec<bool>> = recordings
            .iter()
            .map(|r| decisions(vad, r, REFERENCE_DBFS, &Chain::WIDE))
            .collect();
        for normalise in [false, true] {
            let chain = Chain {
                rate: 8_000,
                transform,
                normalise,
            };
            let cells: Vec<String> = LEVELS
                .iter()
                .map(|&level| {
                    let tally = Tally::of(vad, &recordings, &references, level, &chain);
                    format!(
                        "{:.1} s ({:.0} %)",
                        tally.speech_seconds(),
                        tally.agreeing_percent()
                    )
                })
                .collect();
            let label = if normalise {
                format!("{name}, normalised")
            } else {
                name.to_string()
            };
            println!("| {label} | {} |", cells.join(" | "));
        }
    }
}

/// How the decisions on recordings sent at one level through one chain
/// compare with their references (frame counts).
#[derive(Default)]
struct Tally {
    /// Speech frames found.
    found: usize,
    /// Frames deciding as the reference does.
    agreeing: usize,
    /// Frames compared.
    frames: usize,
    /// Speech frames found in the reference's far background.
    far_speech: usize,
}

impl Tally {
    fn of(
        vad: &SileroModel,
        recordings: &[Vec<f64>],
        references: &[Vec<bool>],
        level: f64,
        chain: &Chain,
    ) -> Self {
        let mut tally = Tally::default();
        for (recording, reference) in recordings.iter().zip(references) {
            let ours = decisions(vad, recording, level, chain);
            let n = ours.len().min(reference.len());
            tally.found += ours[..n].iter().filter(|&&s| s).count();
            tally.agreeing += (0..n).filter(|&i| ours[i] == reference[i]).count();
            tally.frames += n;
            let far = far_background(&reference[..n]);
            tally.far_speech += (0..n).filter(|&i| far[i] && ours[i]).count();
        }
        tally
    }

    fn speech_seconds(&self) -> f64 {
        self.found as f64 * FRAME_SECONDS
    }

    fn agreeing_percent(&self) -> f64 {
        100.0 * self.agreeing as f64 / self.frames as f64
    }
}

fn to_f64(samples: &[i16]) -> Vec<f64> {
    samples.iter().map(|&s| f64::from(s) / 32_768.0).collect()
}

/// How short bursts are cut: pieces of speech every 1.5 s with 0.8 s
/// pauses, over a noise floor under the speech's RMS.
#[derive(Clone, Copy)]
struct Bursts {
    piece_seconds: f64,
    floor_db: f64,
    /// A low-frequency (brown) floor instead of white noise.
    brown_floor: bool,
}

impl Bursts {
    /// 0.4 s words over a white floor `floor_db` under the speech.
    fn words(floor_db: f64) -> Self {
        Self {
            piece_seconds: 0.4,
            floor_db,
            brown_floor: false,
        }
    }
}

/// Pieces of `speech` (every 1.5 s, 20 ms fades) with 0.8 s pauses
/// between them, over the noise floor of `bursts`.
fn short_bursts(speech: &[f64], bursts: &Bursts) -> Vec<f64> {
    let floor = rms(speech) * 10f64.powf(-bursts.floor_db / 20.0);
    let mut noise = 0x2545_f491_u32;
    let mut brown = 0.0;
    let brown_floor = bursts.brown_floor;
    let mut next_noise = move || {
        let white = next_white(&mut noise);
        if brown_floor {
            // Leaky integration: about the white noise's RMS, under 20 Hz–1 kHz.
            brown = 0.995 * brown + 0.1 * white;
            brown * floor
        } else {
            white * floor
        }
    };
    let (piece, pause, fade) = ((bursts.piece_seconds * 16_000.0) as usize, 12_800, 320);
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

/// Uniform white noise of unit RMS (xorshift32).
fn next_white(state: &mut u32) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    (f64::from(*state) / f64::from(u32::MAX) * 2.0 - 1.0) * 3f64.sqrt()
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
}

/// What a recording chain does to the PCM16 samples a client sends.
type Transform = fn(Vec<i16>) -> Vec<i16>;

/// How a recording reaches the VAD.
struct Chain {
    /// 16 kHz as recorded, or 8 kHz: the telephone band.
    rate: u32,
    /// Applied to the samples at `rate`.
    transform: Transform,
    /// Whether the audio input's output is scaled to −25 dBFS RMS.
    normalise: bool,
}

impl Chain {
    const WIDE: Chain = Chain {
        rate: 16_000,
        transform: |x| x,
        normalise: false,
    };
    const TELEPHONE: Chain = Chain {
        rate: 8_000,
        ..Chain::WIDE
    };
}

/// A telephone's high-pass: two second-order Butterworth sections at 300 Hz
/// (8 kHz samples).
fn high_pass_300(samples: Vec<i16>) -> Vec<i16> {
    let w = 2.0 * std::f64::consts::PI * 300.0 / 8_000.0;
    let alpha = w.sin() * std::f64::consts::FRAC_1_SQRT_2;
    let a0 = 1.0 + alpha;
    let b = [(1.0 + w.cos()) / 2.0 / a0, -(1.0 + w.cos()) / a0];
    let a = [-2.0 * w.cos() / a0, (1.0 - alpha) / a0];
    let mut y: Vec<f64> = samples.iter().map(|&v| f64::from(v)).collect();
    for _ in 0..2 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in &mut y {
            let x0 = *v;
            let y0 = b[0] * (x0 + x2) + b[1] * x1 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, x0, y1, y0);
            *v = y0;
        }
    }
    y.iter().map(|&v| to_pcm16(v)).collect()
}

/// G.711 µ-law coding and decoding (continuous companding, 8 bits).
fn mu_law(samples: &[i16]) -> Vec<i16> {
    const MU: f64 = 255.0;
    samples
        .iter()
        .map(|&v| {
            let s = f64::from(v) / 32_768.0;
            let coded = s.signum() * (1.0 + MU * s.abs()).ln() / (1.0 + MU).ln();
            let q = (coded * 127.0).round() / 127.0;
            let decoded = q.signum() * ((1.0 + MU).powf(q.abs()) - 1.0) / MU;
            to_pcm16(decoded * 32_768.0)
        })
        .collect()
}

/// Samples quantised to 8 bits (a cheap input's converter), sent as PCM16.
fn eight_bit(samples: Vec<i16>) -> Vec<i16> {
    samples
        .iter()
        .map(|&v| to_pcm16((f64::from(v) / 256.0).round() * 256.0))
        .collect()
}

/// A 5 ms full-scale click (alternating ±full scale) 12.5 ms in.
fn click_first(mut samples: Vec<i16>) -> Vec<i16> {
    for (i, s) in samples.iter_mut().skip(100).take(40).enumerate() {
        *s = if i % 2 == 0 { i16::MAX } else { i16::MIN };
    }
    samples
}

/// The first second replaced by white noise at about −18 dBFS RMS.
fn loud_noise_first(mut samples: Vec<i16>) -> Vec<i16> {
    let mut state = 12_345;
    for s in samples.iter_mut().take(8_000) {
        *s = to_pcm16(next_white(&mut state) * 4_000.0);
    }
    samples
}

fn to_pcm16(value: f64) -> i16 {
    value.round().clamp(-32_768.0, 32_767.0) as i16
}

/// The VAD's decisions on `recording` scaled to `level` dBFS RMS and sent
/// as PCM16 through `chain`.
fn decisions(vad: &SileroModel, recording: &[f64], level: f64, chain: &Chain) -> Vec<bool> {
    let gain = 10f64.powf(level / 20.0) / rms(recording);
    let pcm: Vec<i16> = recording
        .iter()
        .map(|s| to_pcm16(s * gain * 32_768.0))
        .collect();
    let sent = if chain.rate == 16_000 {
        pcm
    } else {
        telephone(&pcm)
    };
    let mut samples = through_pcm_input(&(chain.transform)(sent), chain.rate);
    if chain.normalise {
        let level = rms(&samples.iter().map(|&s| f64::from(s)).collect::<Vec<_>>());
        let gain = (10f64.powf(NORMALISED_DBFS / 20.0) / level) as f32;
        samples.iter_mut().for_each(|s| *s *= gain);
    }
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
