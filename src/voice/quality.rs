//! Enrollment quality: how much speech a recording holds and how clean it is.

use serde::Serialize;

use super::MIN_ENROLL_SPEECH_SECONDS;

/// Upper bound reported for the SNR (digital silence as background).
pub const MAX_SNR_DB: f64 = 100.0;

/// What makes a recording a poor enrollment, with the advice it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QualityProblem {
    /// The voice is faint: speak up or come closer.
    TooQuiet,
    /// The background is loud next to the voice.
    TooNoisy,
    /// Samples hit full scale: the input gain is too high.
    Clipped,
    /// Not enough speech was heard.
    TooLittleSpeech,
}

/// Speech level below which a voice is too quiet, in dBFS (RMS of speech frames;
/// a comfortable microphone gives −30 to −15).
pub const MIN_SPEECH_LEVEL_DBFS: f64 = -35.0;
/// SNR below which the background is too noisy, in dB.
pub const MIN_SNR_DB: f64 = 10.0;
/// Share of samples at full scale above which a recording is clipped.
pub const MAX_CLIPPED_FRACTION: f64 = 0.001;
/// A sample this close to full scale counts as clipped.
const CLIP_LEVEL: f32 = 0.99;

/// How usable a recording is for a voice template.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct VoiceQuality {
    /// Seconds of speech found by the VAD.
    pub speech_length: f64,
    /// Speech-to-background power ratio in dB (≤ [`MAX_SNR_DB`]): mean speech-frame
    /// power over median background-frame power; `None` unless the recording has
    /// both speech and background frames.
    pub snr_db: Option<f64>,
    /// Whether the speech is long enough for a template.
    pub enough_speech: bool,
    /// RMS level of the speech frames in dBFS — of the loudest tenth of the
    /// frames when no speech was found; `None` for digital silence.
    pub level_dbfs: Option<f64>,
    /// Share of samples at full scale.
    pub clipped_fraction: f64,
    /// What is wrong, if anything (empty: a good recording).
    pub problems: Vec<QualityProblem>,
}

impl VoiceQuality {
    /// Measures 16 kHz `samples` whose consecutive `frame_samples`-long frames
    /// the VAD labelled with `speech` (true = speech); a template needs
    /// [`MIN_ENROLL_SPEECH_SECONDS`] of speech.
    pub fn measure(samples: &[f32], speech: &[bool], frame_samples: usize) -> Self {
        Self::measure_for(
            samples,
            speech,
            frame_samples,
            f64::from(MIN_ENROLL_SPEECH_SECONDS),
        )
    }

    /// Like [`Self::measure`], with `needed_seconds` of speech as enough.
    pub fn measure_for(
        samples: &[f32],
        speech: &[bool],
        frame_samples: usize,
        needed_seconds: f64,
    ) -> Self {
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
        let level_dbfs = level_dbfs(&speech_powers, &background_powers);
        let snr_db = (!speech_powers.is_empty() && !background_powers.is_empty()).then(|| {
            // The median: background frames next to words carry some of their energy.
            let noise = median(&mut background_powers);
            let signal = speech_powers.iter().sum::<f64>() / speech_powers.len() as f64 - noise;
            let ratio = signal.max(0.0) / noise.max(f64::MIN_POSITIVE);
            (10.0 * ratio.max(1e-10).log10()).min(MAX_SNR_DB)
        });
        let clipped = samples.iter().filter(|s| s.abs() >= CLIP_LEVEL).count();
        let clipped_fraction = clipped as f64 / samples.len().max(1) as f64;
        let enough_speech = speech_length >= needed_seconds;
        let problems = [
            (
                level_dbfs.is_none_or(|level| level < MIN_SPEECH_LEVEL_DBFS),
                QualityProblem::TooQuiet,
            ),
            (
                snr_db.is_some_and(|snr| snr < MIN_SNR_DB),
                QualityProblem::TooNoisy,
            ),
            (
                clipped_fraction > MAX_CLIPPED_FRACTION,
                QualityProblem::Clipped,
            ),
            (!enough_speech, QualityProblem::TooLittleSpeech),
        ]
        .into_iter()
        .filter_map(|(found, problem)| found.then_some(problem))
        .collect();
        Self {
            speech_length,
            snr_db,
            enough_speech,
            level_dbfs,
            clipped_fraction,
            problems,
        }
    }
}

/// The level of the speech frames, or of the loudest tenth of all frames
/// when there is no speech, in dBFS.
fn level_dbfs(speech_powers: &[f64], background_powers: &[f64]) -> Option<f64> {
    let power = if speech_powers.is_empty() {
        let mut powers = background_powers.to_vec();
        powers.sort_by(f64::total_cmp);
        let loudest = &powers[powers.len() - powers.len().div_ceil(10).min(powers.len())..];
        loudest.iter().sum::<f64>() / loudest.len().max(1) as f64
    } else {
        speech_powers.iter().sum::<f64>() / speech_powers.len() as f64
    };
    (power > 0.0).then(|| 10.0 * power.log10())
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
    fn problems_name_what_is_wrong() {
        let speech = [false, true, true, true, false];
        // A clean, comfortable recording: speech at −20 dBFS, background 40 dB below.
        let good = frames(&[0.001, 0.1, 0.1, 0.1, 0.001]);
        let needed = 0.05;
        let quality = VoiceQuality::measure_for(&good, &speech, FRAME, needed);
        assert_eq!(quality.problems, vec![]);
        assert!((quality.level_dbfs.unwrap() + 20.0).abs() < 0.01);
        // Speech at −46 dBFS: too quiet.
        let quiet = frames(&[0.00001, 0.005, 0.005, 0.005, 0.00001]);
        let quality = VoiceQuality::measure_for(&quiet, &speech, FRAME, needed);
        assert_eq!(quality.problems, vec![QualityProblem::TooQuiet]);
        // Background 6 dB under the voice: too noisy.
        let noisy = frames(&[0.05, 0.1, 0.1, 0.1, 0.05]);
        let quality = VoiceQuality::measure_for(&noisy, &speech, FRAME, needed);
        assert_eq!(quality.problems, vec![QualityProblem::TooNoisy]);
        // Full-scale samples: clipped.
        let clipped = frames(&[0.001, 1.0, 0.1, 0.1, 0.001]);
        let quality = VoiceQuality::measure_for(&clipped, &speech, FRAME, needed);
        assert_eq!(quality.problems, vec![QualityProblem::Clipped]);
        assert!((quality.clipped_fraction - 0.2).abs() < 1e-9);
        // Less speech than needed.
        let quality = VoiceQuality::measure_for(&good, &speech, FRAME, 1.0);
        assert_eq!(quality.problems, vec![QualityProblem::TooLittleSpeech]);
    }

    #[test]
    fn without_speech_the_loudest_frames_tell_whether_it_is_too_quiet() {
        let mut amplitudes = vec![0.0005; 18];
        amplitudes.extend([0.1, 0.1]);
        let loud = VoiceQuality::measure(&frames(&amplitudes), &[false; 20], FRAME);
        assert_eq!(loud.problems, vec![QualityProblem::TooLittleSpeech]);
        let silent = VoiceQuality::measure(&frames(&[0.0; 4]), &[false; 4], FRAME);
        assert_eq!(silent.level_dbfs, None);
        assert_eq!(
            silent.problems,
            vec![QualityProblem::TooQuiet, QualityProblem::TooLittleSpeech]
        );
    }

    #[test]
    fn enough_speech_from_one_second() {
        let speech = vec![true; 34]; // 34 × 30 ms = 1.02 s
        let samples = vec![0.1; 34 * FRAME];
        assert!(VoiceQuality::measure(&samples, &speech, FRAME).enough_speech);
    }
}
