//! Cuts a stretch of a 16-bit FLAC into a 16-bit WAV, optionally followed by
//! silence: the fixtures of the demo's end-to-end test (`tests/browser/demo.test.mjs`).
//!
//! `cargo run --example cut_wav -- <in.flac> <start seconds> <seconds> <out.wav> [silence seconds]`

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, start, seconds, output, silence) = match args.as_slice() {
        [input, start, seconds, output] => (input, start, seconds, output, "0"),
        [input, start, seconds, output, silence] => {
            (input, start, seconds, output, silence.as_str())
        }
        _ => {
            return Err(
                "usage: cut_wav <in.flac> <start seconds> <seconds> <out.wav> [silence seconds]"
                    .into(),
            );
        }
    };
    let mut reader = claxon::FlacReader::open(input)?;
    let info = reader.streaminfo();
    if info.bits_per_sample != 16 || info.channels != 1 {
        return Err("expected 16-bit mono FLAC".into());
    }
    let rate = f64::from(info.sample_rate);
    let first = (start.parse::<f64>()? * rate) as usize;
    let count = (seconds.parse::<f64>()? * rate) as usize;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: info.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(output, spec)?;
    for sample in reader.samples().skip(first).take(count) {
        writer.write_sample(sample? as i16)?;
    }
    for _ in 0..(silence.parse::<f64>()? * rate) as usize {
        writer.write_sample(0i16)?;
    }
    writer.finalize()?;
    Ok(())
}
