//! Enrollment quality: how much speech a recording holds and how clean it is.

use serde::Serialize;

use super::MIN_ENROLL_SPEECH_SECONDS;

/// Upper bound reported for the SNR (digital silence as background).
pub const MAX_SNR_DB: f64 = 100.0;

/// How usable a recording is for a voice template.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VoiceQuality {
    /// Seconds of speech found by the VAD.
    pub speech_length: f64,
    /// Speech-to-background power ratio in dB (≤ [`MAX_SNR_DB`]): mean speech-frame
    /// power over median background-frame power; `None` unless the recording has
    /// both speech and background frames.
    pub snr_db: Option<f64>,
    /// Whether the speech is long enough for a template.
    pub enough_speech: bool,
}

impl VoiceQuality {
    /// Measures 16 kHz `samples` whose consecutive `frame_samples`-long frames
    /// the VAD labelled with `speech` (true = speech).
    pub fn measure(samples: &[f32], speech: &[bool], frame_samples: usize) -> Self {
        let mut speech_powers = Vec::new();
        let mut background_powers = Vec::new();
        for (frame, &is_speech) in samples.chunks_exact(frame_samples).zip(speech) {
            let power = frame
                .iter()
                .map(|&s| f64::from(s) * f64::from(s))
                .sum::<f64>()
                / frame.len() as f64;
            if is_speech {
                speech_powers.push(power);
            } else {
                background_powers.push(power);
            }
        }
        let speech_length = (speech_powers.len() * frame_samples) as f64 / 16_000.0;
        let snr_db = (!speech_powers.is_empty() && !background_powers.is_empty()).then(|| {
            // The median: background frames next to words carry some of their energy.
            let noise = median(&mut background_powers);
            let signal = speech_powers.iter().sum::<f64>() / speech_powers.len() as f64 - noise;
            let ratio = signal.max(0.0) / noise.max(f64::MIN_POSITIVE);
            (10.0 * ratio.max(1e-10).log10()).min(MAX_SNR_DB)
        });
        Self {
            speech_length,
            snr_db,
            enough_speech: speech_length >= f64::from(MIN_ENROLL_SPEECH_SECONDS),
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 480;

    /// Frames of constant amplitude `a` (power a²).
    fn frames(amplitudes: &[f32]) -> Vec<f32> {
        amplitudes
            .iter()
            .flat_map(|&a| std::iter::repeat_n(a, FRAME))
            .collect()
    }

    #[test]
    fn snr_is_the_speech_to_background_power_ratio() {
        // Speech power 0.01 + background 0.0001 → signal 0.0099 over 0.0001: ≈ 20 dB.
        let samples = frames(&[0.01, 0.1005, 0.1005, 0.01]);
        let quality = VoiceQuality::measure(&samples, &[false, true, true, false], FRAME);
        let snr = quality.snr_db.unwrap();
        assert!((snr - 20.0).abs() < 0.1, "snr {snr}");
        assert!((quality.speech_length - 0.06).abs() < 1e-9);
        assert!(!quality.enough_speech);
    }

    #[test]
    fn no_background_or_no_speech_means_no_snr() {
        let samples = frames(&[0.1, 0.1]);
        assert_eq!(
            VoiceQuality::measure(&samples, &[true, true], FRAME).snr_db,
            None
        );
        assert_eq!(
            VoiceQuality::measure(&samples, &[false, false], FRAME).snr_db,
            None
        );
    }

    #[test]
    fn digital_silence_as_background_caps_the_snr() {
        let samples = frames(&[0.0, 0.1]);
        let quality = VoiceQuality::measure(&samples, &[false, true], FRAME);
        assert_eq!(quality.snr_db, Some(MAX_SNR_DB));
    }

    #[test]
    fn enough_speech_from_one_second() {
        let speech = vec![true; 34]; // 34 × 30 ms = 1.02 s
        let samples = vec![0.1; 34 * FRAME];
        assert!(VoiceQuality::measure(&samples, &speech, FRAME).enough_speech);
    }
}
