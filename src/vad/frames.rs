//! From 32 ms model probabilities to the API's 30 ms speech decisions.
//!
//! The model scores 512-sample frames (32 ms); the API reports 480-sample
//! frames (30 ms, `frame_length_ms: 30.0`). API frame `k` covers samples
//! `480k .. 480k+480`; its decision is the (hysteresis-smoothed) decision of the
//! model frame that contains its midpoint, sample `480k + 240`. Every model
//! frame therefore yields zero, one or two API frames, in order, and an API
//! frame is known at most 272 samples (17 ms) after it ends.

use super::MODEL_FRAME_SAMPLES;

/// Length of one API frame in milliseconds.
pub const API_FRAME_MS: u32 = 30;
/// Length of one API frame in 16 kHz samples.
pub const API_FRAME_SAMPLES: u64 = 480;

/// How long Silero keeps reporting speech after speech really ends, in ms.
///
/// Measured on the LibriVox gaps set against its labels: the first non-speech
/// frame comes 0–140 ms after the labelled end (median ≈ 60 ms). The endpoint
/// detector credits this much reported speech to the silence, so that
/// `silence` is counted from the real end of speech.
pub const SPEECH_TAIL_MS: u32 = 120;

/// Two-threshold speech decision: speech starts at `on` and ends below `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hysteresis {
    /// Probability at or above which a non-speech stream turns to speech.
    pub on: f32,
    /// Probability below which a speech stream turns to non-speech.
    pub off: f32,
}

impl Default for Hysteresis {
    /// Silero's own defaults: 0.5 to start speech, 0.35 (0.5 − 0.15) to end it.
    fn default() -> Self {
        Self { on: 0.5, off: 0.35 }
    }
}

/// One 30 ms frame's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredFrame {
    /// The probability of the model frame the decision was taken on.
    pub probability: f32,
    /// The (hysteresis-smoothed) decision: speech or not.
    pub speech: bool,
}

/// Turns the stream of model probabilities into 30 ms decisions.
#[derive(Debug, Clone, Default)]
pub struct FrameDecider {
    thresholds: Hysteresis,
    speaking: bool,
    model_frames: u64,
    api_frames: u64,
}

impl FrameDecider {
    /// A decider at the start of a stream.
    pub fn new(thresholds: Hysteresis) -> Self {
        Self {
            thresholds,
            ..Self::default()
        }
    }

    /// Takes the next model frame's probability; appends the API frames it decides.
    pub fn push(&mut self, probability: f32, decisions: &mut Vec<bool>) {
        self.push_with(probability, |frame| decisions.push(frame.speech));
    }

    /// Like [`Self::push`], keeping each frame's probability.
    pub fn push_scored(&mut self, probability: f32, frames: &mut Vec<ScoredFrame>) {
        self.push_with(probability, |frame| frames.push(frame));
    }

    fn push_with(&mut self, probability: f32, mut emit: impl FnMut(ScoredFrame)) {
        self.speaking = if self.speaking {
            probability >= self.thresholds.off
        } else {
            probability >= self.thresholds.on
        };
        self.model_frames += 1;
        let decided_until = self.model_frames * MODEL_FRAME_SAMPLES as u64;
        while self.api_frames * API_FRAME_SAMPLES + API_FRAME_SAMPLES / 2 < decided_until {
            emit(ScoredFrame {
                probability,
                speech: self.speaking,
            });
            self.api_frames += 1;
        }
    }

    /// How many API frames have been decided so far.
    pub fn decided_frames(&self) -> u64 {
        self.api_frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(probs: &[f32]) -> Vec<bool> {
        let mut d = FrameDecider::new(Hysteresis::default());
        let mut out = Vec::new();
        probs.iter().for_each(|&p| d.push(p, &mut out));
        out
    }

    #[test]
    fn fifteen_model_frames_make_sixteen_api_frames() {
        // 15 × 512 = 7680 samples = 16 × 480.
        let out = decide(&[0.0; 15]);
        assert_eq!(out.len(), 16);
        // Midpoint of API frame 16 (7920) lies in model frame 15.
        assert_eq!(decide(&[0.0; 16]).len(), 17);
    }

    #[test]
    fn decided_frames_never_lag_more_than_one() {
        let mut d = FrameDecider::new(Hysteresis::default());
        let mut out = Vec::new();
        for j in 1..=1000u64 {
            d.push(0.9, &mut out);
            let complete = j * 512 / 480;
            assert!(d.decided_frames() + 1 >= complete, "model frame {j}");
            assert!(d.decided_frames() <= complete + 1);
        }
    }

    #[test]
    fn hysteresis_holds_speech_between_thresholds() {
        let out = decide(&[0.4, 0.6, 0.4, 0.36, 0.3, 0.4]);
        let per_model: Vec<bool> = {
            let mut d = FrameDecider::new(Hysteresis::default());
            [0.4, 0.6, 0.4, 0.36, 0.3, 0.4]
                .iter()
                .map(|&p| {
                    let mut v = Vec::new();
                    d.push(p, &mut v);
                    d.speaking
                })
                .collect()
        };
        assert_eq!(per_model, vec![false, true, true, true, false, false]);
        assert!(out.contains(&true) && out.contains(&false));
    }
}
