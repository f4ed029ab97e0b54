//! Streaming conversion of any client sample rate to [`ENGINE_RATE`].

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use super::{AudioError, ENGINE_RATE};

/// Resamples a mono stream from the client rate to 16 kHz.
///
/// Chunking contract: `push` takes any number of samples (including none) and
/// appends whatever output is ready. Internally the input is cut into fixed
/// blocks of [`Self::block_len`] samples (about 20 ms), so the output never
/// depends on how the caller split the stream. The resampler's filter delay is
/// trimmed, so output sample `n` is the signal at time `n / 16000` s of the
/// client timeline; after `k` full blocks exactly `k * block_out − delay`
/// samples have been produced, with no drift however long the stream runs.
/// Output lags input by at most one block plus the filter delay; [`Self::finish`]
/// flushes the tail for whole-buffer use. At 16 kHz input this is a pass-through.
pub struct Resampler16k {
    client_rate: u32,
    fft: Option<FftStage>,
    consumed: u64,
    produced: u64,
}

struct FftStage {
    resampler: Fft<f32>,
    pending: Vec<f32>,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    delay_left: usize,
}

impl Resampler16k {
    /// A resampler from `client_rate` Hz to 16 kHz.
    pub fn new(client_rate: u32) -> Result<Self, AudioError> {
        if client_rate == 0 {
            return Err(AudioError::UnsupportedRate {
                rate: client_rate,
                supported: "a positive rate".into(),
            });
        }
        let fft = (client_rate != ENGINE_RATE)
            .then(|| FftStage::new(client_rate))
            .transpose()?;
        Ok(Self {
            client_rate,
            fft,
            consumed: 0,
            produced: 0,
        })
    }

    /// The rate this resampler reads.
    pub fn client_rate(&self) -> u32 {
        self.client_rate
    }

    /// Input samples per internal block (1 at 16 kHz, where nothing is buffered).
    pub fn block_len(&self) -> usize {
        self.fft
            .as_ref()
            .map_or(1, |f| f.resampler.input_frames_next())
    }

    /// Resamples `input`, appending ready 16 kHz samples to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.consumed += input.len() as u64;
        let before = out.len();
        match &mut self.fft {
            None => out.extend_from_slice(input),
            Some(stage) => stage.push(input, out)?,
        }
        self.produced += (out.len() - before) as u64;
        Ok(())
    }

    /// Flushes buffered input (padding with silence) so that the total output is
    /// exactly `round(consumed * 16000 / client_rate)` samples.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let target = (self.consumed * u64::from(ENGINE_RATE) + u64::from(self.client_rate) / 2)
            / u64::from(self.client_rate);
        let before = out.len();
        if let Some(stage) = &mut self.fft {
            let silence = vec![0.0; stage.resampler.input_frames_next()];
            while self.produced + ((out.len() - before) as u64) < target {
                stage.push(&silence, out)?;
            }
        }
        let keep = before + (target - self.produced) as usize;
        out.truncate(keep);
        self.produced = target;
        Ok(())
    }
}

impl FftStage {
    fn new(client_rate: u32) -> Result<Self, AudioError> {
        let resampler = Fft::<f32>::new(
            client_rate as usize,
            ENGINE_RATE as usize,
            block_len(client_rate),
            1,
            FixedSync::Both,
        )
        .map_err(|e| AudioError::Resampler(e.to_string()))?;
        let input = vec![vec![0.0; resampler.input_frames_next()]];
        let output = vec![vec![0.0; resampler.output_frames_next()]];
        let delay_left = resampler.output_delay();
        Ok(Self {
            resampler,
            pending: Vec::new(),
            input,
            output,
            delay_left,
        })
    }

    fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.pending.extend_from_slice(samples);
        let block = self.input[0].len();
        let mut start = 0;
        while self.pending.len() - start >= block {
            self.input[0].copy_from_slice(&self.pending[start..start + block]);
            start += block;
            self.run_block(out)?;
        }
        self.pending.drain(..start);
        Ok(())
    }

    fn run_block(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let to_error = |e: &dyn std::fmt::Display| AudioError::Resampler(e.to_string());
        let (frames_in, frames_out) = (self.input[0].len(), self.output[0].len());
        let input =
            SequentialSliceOfVecs::new(&self.input, 1, frames_in).map_err(|e| to_error(&e))?;
        let mut output = SequentialSliceOfVecs::new_mut(&mut self.output, 1, frames_out)
            .map_err(|e| to_error(&e))?;
        let (_, written) = self
            .resampler
            .process_into_buffer(&input, &mut output, None)
            .map_err(|e| to_error(&e))?;
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        out.extend_from_slice(&self.output[0][skip..written]);
        Ok(())
    }
}

/// Input block length: about 20 ms, a whole number of the smallest exact
/// rational block, with even FFT sizes on both sides (an odd size shifts the
/// output by half a sample).
fn block_len(client_rate: u32) -> usize {
    let gcd = gcd(client_rate, ENGINE_RATE);
    let (min_in, min_out) = ((client_rate / gcd) as usize, (ENGINE_RATE / gcd) as usize);
    let mut blocks = ((client_rate / 50) as usize).div_ceil(min_in).max(1);
    if (blocks * min_in) % 2 == 1 || (blocks * min_out) % 2 == 1 {
        blocks *= 2;
    }
    blocks * min_in
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::SmallRng};

    fn sine(rate: u32, freq: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn resample_whole(rate: u32, input: &[f32]) -> Vec<f32> {
        let mut r = Resampler16k::new(rate).unwrap();
        let mut out = Vec::new();
        r.push(input, &mut out).unwrap();
        r.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn sixteen_khz_passes_through() {
        let input = sine(16_000, 440.0, 0.1);
        assert_eq!(resample_whole(16_000, &input), input);
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(Resampler16k::new(0).is_err());
    }

    #[test]
    fn output_is_time_aligned_with_input() {
        for rate in [
            8_000, 11_025, 12_000, 22_050, 24_000, 44_100, 48_000, 96_000, 192_000,
        ] {
            let input = sine(rate, 440.0, 1.0);
            let out = resample_whole(rate, &input);
            assert_eq!(out.len(), 16_000, "rate {rate}");
            let expected = sine(16_000, 440.0, 1.0);
            // Skip the edges, where the filter sees the implicit silence around the clip.
            let err = out[400..15_600]
                .iter()
                .zip(&expected[400..15_600])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 0.001, "rate {rate}: max error {err}");
        }
    }

    #[test]
    fn random_splits_give_identical_output() {
        let mut rng = SmallRng::seed_from_u64(11);
        let input: Vec<f32> = (0..44_100).map(|_| rng.random_range(-1.0..1.0)).collect();
        let whole = resample_whole(44_100, &input);
        for _ in 0..5 {
            let mut r = Resampler16k::new(44_100).unwrap();
            let mut out = Vec::new();
            let mut at = 0;
            while at < input.len() {
                let len = rng.random_range(0..=3000).min(input.len() - at);
                r.push(&input[at..at + len], &mut out).unwrap();
                at += len;
            }
            r.finish(&mut out).unwrap();
            assert_eq!(out, whole);
        }
    }

    #[test]
    fn no_drift_over_an_hour() {
        let rate = 44_100;
        let mut r = Resampler16k::new(rate).unwrap();
        let block = vec![0.0f32; rate as usize];
        let mut out = Vec::new();
        let mut produced = 0u64;
        for _ in 0..3600 {
            out.clear();
            r.push(&block, &mut out).unwrap();
            produced += out.len() as u64;
        }
        let expected = 3600 * 16_000u64;
        let lag = expected - produced;
        assert!(
            lag <= r.block_len() as u64,
            "lag {lag} samples after an hour"
        );
        out.clear();
        r.finish(&mut out).unwrap();
        assert_eq!(produced + out.len() as u64, expected);
    }
}
