//! Whole-file WAV decoding (for REST uploads and browser file drops).

use std::io::Cursor;

use hound::{SampleFormat, WavReader};

use super::{AudioError, check_pcm_rate};

/// A decoded recording: mono samples in −1..1 at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Mono samples (multi-channel files are averaged).
    pub samples: Vec<f32>,
    /// The file's sample rate in Hz.
    pub sample_rate: u32,
}

/// Decodes a WAV file of any common PCM format (8/16/24/32-bit integer or
/// 32-bit float, any channel count; channels are averaged to mono).
///
/// A `data` chunk whose declared length is 0 or runs past the end of the
/// file (what streaming writers leave there: 0, `0x7FFFF000`, `0xFFFFFFFF`)
/// is read to the end of the file, as common tools do; audio is never
/// silently dropped for a header that could not know its length.
pub fn decode_wav(bytes: &[u8]) -> Result<Recording, AudioError> {
    let invalid = |e: hound::Error| AudioError::InvalidFile(format!("WAV: {e}"));
    let patched = data_to_the_end(bytes);
    let bytes = patched.as_deref().unwrap_or(bytes);
    let reader = WavReader::new(Cursor::new(bytes)).map_err(invalid)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(AudioError::InvalidFile("WAV: zero channels".into()));
    }
    check_pcm_rate(spec.sample_rate)?;
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Float, 32) => {
            let samples: Vec<f32> = reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(invalid)?;
            if samples.iter().any(|s| !s.is_finite()) {
                return Err(AudioError::InvalidFile(
                    "WAV: float samples must be finite".into(),
                ));
            }
            samples
        }
        (SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(invalid)?
        }
        (format, bits) => {
            return Err(AudioError::InvalidFile(format!(
                "WAV: unsupported sample format {format:?} with {bits} bits"
            )));
        }
    };
    let samples = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Recording {
        samples,
        sample_rate: spec.sample_rate,
    })
}

/// A copy of `bytes` whose `data` chunk length is the rest of the file (in
/// whole sample frames), if its declared length is 0 or longer than what
/// follows; `None` otherwise.
fn data_to_the_end(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let mut block_align = 1;
    loop {
        let id = bytes.get(at..at + 4)?;
        let size = u32::from_le_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?);
        let body = at + 8;
        if id == b"fmt " {
            let align = bytes.get(body + 12..body + 14)?;
            block_align = usize::from(u16::from_le_bytes([align[0], align[1]])).max(1);
        }
        if id == b"data" {
            let rest = bytes.len() - body;
            if size != 0 && size as usize <= rest {
                return None;
            }
            let whole_blocks = rest - rest % block_align;
            let mut patched = bytes.to_vec();
            let rest = u32::try_from(whole_blocks).unwrap_or(u32::MAX);
            patched[at + 4..at + 8].copy_from_slice(&rest.to_le_bytes());
            return Some(patched);
        }
        // Chunks are padded to an even length.
        at = body
            .checked_add(size as usize)?
            .checked_add(size as usize % 2)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::{WavSpec, WavWriter};

    fn wav_bytes(
        spec: WavSpec,
        write: impl FnOnce(&mut WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        let mut writer = WavWriter::new(&mut cursor, spec).unwrap();
        write(&mut writer);
        writer.finalize().unwrap();
        cursor.into_inner()
    }

    const MONO_FLOAT_16K: WavSpec = WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };

    #[test]
    fn averages_stereo_int16() {
        let spec = WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| {
            for s in [16384i16, 0, -32768, -32768] {
                w.write_sample(s).unwrap();
            }
        });
        let rec = decode_wav(&bytes).unwrap();
        assert_eq!(rec.sample_rate, 44_100);
        assert_eq!(rec.samples, vec![0.25, -1.0]);
    }

    #[test]
    fn reads_float_and_24_bit() {
        let float = MONO_FLOAT_16K;
        let bytes = wav_bytes(float, |w| w.write_sample(0.5f32).unwrap());
        assert_eq!(decode_wav(&bytes).unwrap().samples, vec![0.5]);
        let int24 = WavSpec {
            bits_per_sample: 24,
            sample_format: SampleFormat::Int,
            ..float
        };
        let bytes = wav_bytes(int24, |w| w.write_sample(-(1i32 << 22)).unwrap());
        assert_eq!(decode_wav(&bytes).unwrap().samples, vec![-0.5]);
    }

    /// The same file with its `data` length replaced by `declared`.
    fn with_data_length(bytes: &[u8], declared: u32) -> Vec<u8> {
        let at = bytes.windows(4).position(|w| w == b"data").unwrap();
        let mut out = bytes.to_vec();
        out[at + 4..at + 8].copy_from_slice(&declared.to_le_bytes());
        out
    }

    #[test]
    fn data_lengths_of_streaming_writers_read_to_the_end() {
        let spec = WavSpec {
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
            ..MONO_FLOAT_16K
        };
        let bytes = wav_bytes(spec, |w| {
            for i in 0..24_000 {
                w.write_sample((i % 100) as i16).unwrap();
            }
        });
        let honest = decode_wav(&bytes).unwrap();
        assert_eq!(honest.samples.len(), 24_000);
        for declared in [0, 0x7FFF_F000, u32::MAX, 48_002] {
            let lying = with_data_length(&bytes, declared);
            assert_eq!(decode_wav(&lying).unwrap(), honest, "declared {declared}");
            let mut odd = lying.clone();
            odd.push(7); // half a sample at the end is not a sample
            assert_eq!(decode_wav(&odd).unwrap(), honest, "declared {declared}");
        }
        // A shorter, honest length still ends the data (chunks may follow).
        let short = with_data_length(&bytes, 2_000);
        assert_eq!(decode_wav(&short).unwrap().samples.len(), 1_000);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for bytes in [&b""[..], b"RIFF", b"RIFF\x10\0\0\0WAVEfmt junk junk"] {
            assert!(matches!(decode_wav(bytes), Err(AudioError::InvalidFile(_))));
        }
    }

    /// Found by the `wav` fuzz target: a header claiming 0 Hz decoded as a recording.
    #[test]
    fn zero_rate_header_is_refused() {
        use base64::Engine;
        let crash = base64::engine::general_purpose::STANDARD
            .decode("UklGRiTuAgBXQVZFZm10IBAAAAABAIAAAAAAAAAAAAAAAhAAZGF0YQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2AAEAgAAAAAAAAAAAAA==")
            .unwrap();
        assert!(matches!(
            decode_wav(&crash),
            Err(AudioError::UnsupportedRate { rate: 0, .. })
        ));
    }

    #[test]
    fn non_finite_float_samples_are_refused() {
        let bytes = wav_bytes(MONO_FLOAT_16K, |w| {
            w.write_sample(0.5f32).unwrap();
            w.write_sample(f32::NAN).unwrap();
        });
        assert!(matches!(
            decode_wav(&bytes),
            Err(AudioError::InvalidFile(_))
        ));
    }
}
