//! Kaldi-compatible 80-bin log-mel filterbank, as the CAM++ model expects.
//!
//! 16 kHz mono; frames of 400 samples every 160 (snip edges), no dither;
//! per frame: DC removal, pre-emphasis 0.97, Povey window, 512-point power
//! spectrum, 80 triangular mel filters from 20 Hz to Nyquist (no area
//! normalisation, Nyquist bin unused), natural log floored at f32 epsilon.
//! Samples are scaled to the int16 range first, as Kaldi does.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Filterbank bins per frame.
pub const FBANK_BINS: usize = 80;
/// Samples per analysis frame (25 ms).
pub const FRAME_LENGTH: usize = 400;
/// Samples between frame starts (10 ms).
pub const FRAME_SHIFT: usize = 160;

const FFT_SIZE: usize = 512;
const SAMPLE_RATE: f32 = 16_000.0;
const LOW_FREQ: f32 = 20.0;
const PREEMPHASIS: f32 = 0.97;
const LOG_FLOOR: f32 = f32::EPSILON;

/// A `frames × 80` feature matrix, row-major.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    /// Row-major values, `frames() * FBANK_BINS` long.
    pub values: Vec<f32>,
}

impl Features {
    /// Number of frames (rows).
    pub fn frames(&self) -> usize {
        self.values.len() / FBANK_BINS
    }

    /// Row `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.values[t * FBANK_BINS..(t + 1) * FBANK_BINS]
    }

    /// Subtracts the mean of each bin over all frames (cepstral mean normalisation).
    pub fn subtract_mean(&mut self) {
        let frames = self.frames();
        if frames == 0 {
            return;
        }
        let mut mean = [0.0f64; FBANK_BINS];
        for row in self.values.chunks_exact(FBANK_BINS) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += f64::from(*v);
            }
        }
        for row in self.values.chunks_exact_mut(FBANK_BINS) {
            for (v, m) in row.iter_mut().zip(&mean) {
                *v -= (*m / frames as f64) as f32;
            }
        }
    }
}

/// One triangular mel filter: weights for FFT bins `first..first + weights.len()`.
struct MelFilter {
    first: usize,
    weights: Vec<f32>,
}

/// The filterbank computer; build once, use for any number of signals.
pub struct Fbank {
    window: Vec<f32>,
    filters: Vec<MelFilter>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl Default for Fbank {
    fn default() -> Self {
        Self::new()
    }
}

impl Fbank {
    /// Precomputes the window, the mel filters and the FFT plan.
    pub fn new() -> Self {
        let window = (0..FRAME_LENGTH)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * n as f64 / (FRAME_LENGTH - 1) as f64;
                (0.5 - 0.5 * phase.cos()).powf(0.85) as f32
            })
            .collect();
        Self {
            window,
            filters: mel_filters(),
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE),
        }
    }

    /// Frames produced from `samples` samples (snip edges).
    pub fn frame_count(samples: usize) -> usize {
        if samples < FRAME_LENGTH {
            0
        } else {
            1 + (samples - FRAME_LENGTH) / FRAME_SHIFT
        }
    }

    /// The log-mel features of 16 kHz samples in −1..1.
    pub fn compute(&self, samples: &[f32]) -> Features {
        let mut features = Features {
            values: Vec::with_capacity(Self::frame_count(samples.len()) * FBANK_BINS),
        };
        self.extend(samples, Self::frame_count(samples.len()), &mut features);
        features
    }

    /// Appends to `features` (frames `0..k` of `samples` so far) the frames
    /// `k..k + count`, at most up to the last whole frame of `samples`; so a
    /// long recording's features can be computed a bounded part at a time.
    pub fn extend(&self, samples: &[f32], count: usize, features: &mut Features) {
        let first = features.frames();
        let last = Self::frame_count(samples.len()).min(first + count);
        let mut frame = vec![0.0f32; FFT_SIZE];
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f32; FFT_SIZE / 2];
        for t in first..last {
            let start = t * FRAME_SHIFT;
            self.prepare_frame(&samples[start..start + FRAME_LENGTH], &mut frame);
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .expect("buffer sizes come from the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            features.values.extend(self.filters.iter().map(|filter| {
                let bins = &power[filter.first..filter.first + filter.weights.len()];
                let energy: f32 = bins.iter().zip(&filter.weights).map(|(p, w)| p * w).sum();
                energy.max(LOG_FLOOR).ln()
            }));
        }
    }

    /// Scales, removes DC, pre-emphasises, windows and zero-pads one frame.
    fn prepare_frame(&self, samples: &[f32], frame: &mut [f32]) {
        let mean = samples.iter().map(|s| s * 32768.0).sum::<f32>() / FRAME_LENGTH as f32;
        for (f, s) in frame.iter_mut().zip(samples) {
            *f = s * 32768.0 - mean;
        }
        for i in (1..FRAME_LENGTH).rev() {
            frame[i] -= PREEMPHASIS * frame[i - 1];
        }
        frame[0] -= PREEMPHASIS * frame[0];
        for (f, w) in frame.iter_mut().zip(&self.window) {
            *f *= w;
        }
        frame[FRAME_LENGTH..].fill(0.0);
    }
}

fn mel(freq: f32) -> f32 {
    1127.0 * (1.0 + freq / 700.0).ln()
}

/// Kaldi's mel filters: equally spaced in mel between 20 Hz and Nyquist.
fn mel_filters() -> Vec<MelFilter> {
    let bin_width = SAMPLE_RATE / FFT_SIZE as f32;
    let (mel_low, mel_high) = (mel(LOW_FREQ), mel(SAMPLE_RATE / 2.0));
    let delta = (mel_high - mel_low) / (FBANK_BINS + 1) as f32;
    (0..FBANK_BINS)
        .map(|b| {
            let left = mel_low + b as f32 * delta;
            let center = left + delta;
            let right = center + delta;
            let weight = |bin: usize| {
                let m = mel(bin_width * bin as f32);
                if m <= left || m >= right {
                    0.0
                } else if m <= center {
                    (m - left) / (center - left)
                } else {
                    (right - m) / (right - center)
                }
            };
            let bins: Vec<usize> = (0..FFT_SIZE / 2).filter(|&i| weight(i) > 0.0).collect();
            let first = bins.first().copied().unwrap_or(0);
            let last = bins.last().copied().unwrap_or(0);
            MelFilter {
                first,
                weights: (first..=last).map(weight).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_snips_edges() {
        assert_eq!(Fbank::frame_count(399), 0);
        assert_eq!(Fbank::frame_count(400), 1);
        assert_eq!(Fbank::frame_count(560), 2);
        assert_eq!(Fbank::compute(&Fbank::new(), &[0.0; 16_000]).frames(), 98);
    }

    #[test]
    fn features_computed_in_parts_equal_the_whole() {
        let noise: Vec<f32> = (0..16_000)
            .map(|n| ((n * 7919) % 113) as f32 / 200.0 - 0.25)
            .collect();
        let fbank = Fbank::new();
        let whole = fbank.compute(&noise);
        let mut parts = Features { values: Vec::new() };
        for count in [1, 7, 30, 1000] {
            fbank.extend(&noise, count, &mut parts);
        }
        assert_eq!(parts, whole);
    }

    #[test]
    fn silence_hits_the_log_floor() {
        let features = Fbank::new().compute(&[0.0; 400]);
        assert!(features.values.iter().all(|v| *v == LOG_FLOOR.ln()));
    }

    #[test]
    fn a_tone_peaks_in_its_mel_bin() {
        let tone: Vec<f32> = (0..800)
            .map(|n| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16_000.0).sin())
            .collect();
        let features = Fbank::new().compute(&tone);
        let row = features.frame(0);
        let peak = (0..FBANK_BINS)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap();
        let (lo, hi) = (mel(LOW_FREQ), mel(8000.0));
        let expected = ((mel(1000.0) - lo) / ((hi - lo) / 81.0)).round() as usize - 1;
        assert!(
            peak.abs_diff(expected) <= 1,
            "peak {peak}, expected {expected}"
        );
    }

    #[test]
    fn mean_subtraction_centres_every_bin() {
        let noise: Vec<f32> = (0..4000)
            .map(|n| ((n * 7919) % 113) as f32 / 200.0 - 0.25)
            .collect();
        let mut features = Fbank::new().compute(&noise);
        features.subtract_mean();
        for b in 0..FBANK_BINS {
            let sum: f32 = (0..features.frames()).map(|t| features.frame(t)[b]).sum();
            assert!(sum.abs() < 1e-3, "bin {b}: {sum}");
        }
    }
}
