//! Opus decoder candidates side by side against libopus: quality (SNR after
//! alignment against libopus's own decode) at every rate the Opus endpoints
//! accept, and native decode speed. The evidence behind the choice of
//! `opus-rs` (see BENCHMARKS.md).
//!
//! `ALL_RATES=1 scripts/make-opus-fixtures.sh && cargo run --release --example opus_compare`

use std::path::Path;
use std::time::Instant;

use voiceport::audio::OggOpusDemuxer;

const FIXTURES: &str = "tests/data/opus";
const OTHER_RATES: &str = "target/opus-rates";
const RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];

/// A decoder under comparison: mono output at `rate`.
trait Candidate {
    fn name(&self) -> &'static str;
    fn decode_file(&self, packets: &[Vec<u8>], rate: u32) -> Option<Vec<f32>>;
}

struct OpusRs;
impl Candidate for OpusRs {
    fn name(&self) -> &'static str {
        "opus-rs 0.1.40"
    }
    fn decode_file(&self, packets: &[Vec<u8>], rate: u32) -> Option<Vec<f32>> {
        let mut decoder = opus_rs::OpusDecoder::new(rate as i32, 1).ok()?;
        let mut pcm = vec![0.0; rate as usize * 120 / 1000];
        let mut out = Vec::new();
        for packet in packets {
            let n = decoder.decode(packet, pcm.len(), &mut pcm).ok()?;
            out.extend_from_slice(&pcm[..n]);
        }
        Some(out)
    }
}

struct OpusDecoderCrate;
impl Candidate for OpusDecoderCrate {
    fn name(&self) -> &'static str {
        "opus-decoder 0.1.1"
    }
    fn decode_file(&self, packets: &[Vec<u8>], rate: u32) -> Option<Vec<f32>> {
        let mut decoder = opus_decoder::OpusDecoder::new(rate, 1).ok()?;
        let mut pcm = vec![0i16; rate as usize * 120 / 1000];
        let mut out = Vec::new();
        for packet in packets {
            let n = decoder.decode(packet, &mut pcm, false).ok()?;
            out.extend(pcm[..n].iter().map(|&s| f32::from(s) / 32768.0));
        }
        Some(out)
    }
}

fn packets_of(opus: &Path) -> (Vec<Vec<u8>>, u16) {
    let mut demuxer = OggOpusDemuxer::new();
    let mut packets = Vec::new();
    demuxer
        .push(&std::fs::read(opus).expect("fixture"), &mut packets)
        .expect("Ogg Opus");
    (packets, demuxer.head().expect("OpusHead").pre_skip)
}

fn wav(path: &Path) -> Option<Vec<f32>> {
    let mut reader = hound::WavReader::open(path).ok()?;
    Some(
        reader
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32768.0)
            .collect(),
    )
}

/// SNR in dB at the best lag within ±64 samples.
fn aligned_snr(ours: &[f32], theirs: &[f32]) -> f64 {
    (-64isize..=64)
        .map(|lag| {
            let (mut signal, mut noise) = (0.0f64, 0.0f64);
            for (i, &t) in theirs.iter().enumerate() {
                let j = i as isize + lag;
                if let Some(&o) = usize::try_from(j).ok().and_then(|j| ours.get(j)) {
                    signal += f64::from(t).powi(2);
                    noise += f64::from(t - o).powi(2);
                }
            }
            10.0 * (signal / noise.max(1e-20)).log10()
        })
        .fold(f64::MIN, f64::max)
}

fn main() {
    let candidates: [&dyn Candidate; 2] = [&OpusRs, &OpusDecoderCrate];
    let mut fixtures: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "opus"))
        .collect();
    fixtures.sort();

    println!("## SNR against libopus's decode at the same rate (dB)\n");
    print!("| fixture | rate |");
    candidates.iter().for_each(|c| print!(" {} |", c.name()));
    println!("\n|---|---|{}", "---|".repeat(candidates.len()));
    for opus in &fixtures {
        let stem = opus.file_stem().unwrap().to_str().unwrap();
        let (packets, pre_skip) = packets_of(opus);
        for rate in RATES {
            // The engine-rate references are committed; the others are made on demand.
            let dir = if rate == 16_000 {
                FIXTURES
            } else {
                OTHER_RATES
            };
            let Some(reference) = wav(&Path::new(dir).join(format!("{stem}.{rate}.wav"))) else {
                continue;
            };
            print!("| {stem} | {rate} |");
            for candidate in candidates {
                let skip = usize::from(pre_skip) * rate as usize / 48_000;
                match candidate.decode_file(&packets, rate) {
                    Some(out) => print!(
                        " {:.1} |",
                        aligned_snr(&out[skip.min(out.len())..], &reference)
                    ),
                    None => print!(" error |"),
                }
            }
            println!();
        }
    }

    println!("\n## Decode speed at 16 kHz, all fixtures (× real time, one thread)\n");
    let all: Vec<_> = fixtures.iter().map(|f| packets_of(f).0).collect();
    for candidate in candidates {
        let start = Instant::now();
        let mut seconds = 0.0;
        while start.elapsed().as_secs_f64() < 2.0 {
            for packets in &all {
                let out = candidate.decode_file(packets, 16_000).unwrap_or_default();
                seconds += out.len() as f64 / 16_000.0;
            }
        }
        println!(
            "- {}: {:.0}×",
            candidate.name(),
            seconds / start.elapsed().as_secs_f64()
        );
    }
}
