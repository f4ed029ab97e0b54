//! One stream's VAD: 16 kHz samples in, 30 ms decisions out.

use super::{FrameDecider, Hysteresis, SileroModel, SileroStream};

/// The VAD of one audio stream: model state plus the 30 ms frame decider.
///
/// Chunking contract: any number of samples per call; the decisions depend
/// only on the concatenated samples, not on the split.
pub struct VadStream {
    model: SileroStream,
    decider: FrameDecider,
    probs: Vec<f32>,
}

impl VadStream {
    /// A VAD stream using `model` with the default thresholds.
    pub fn new(model: &SileroModel) -> Self {
        Self::with_thresholds(model, Hysteresis::default())
    }

    /// A VAD stream with explicit thresholds.
    pub fn with_thresholds(model: &SileroModel, thresholds: Hysteresis) -> Self {
        Self {
            model: model.stream(),
            decider: FrameDecider::new(thresholds),
            probs: Vec::new(),
        }
    }

    /// Feeds 16 kHz samples; appends every newly decided 30 ms frame to `decisions`.
    pub fn push(&mut self, samples: &[f32], decisions: &mut Vec<bool>) {
        self.probs.clear();
        self.model.push(samples, &mut self.probs);
        for &p in &self.probs {
            self.decider.push(p, decisions);
        }
    }
}

/// The 30 ms decisions of every complete frame of a whole recording.
///
/// The end is padded with silence so the last frames get decided too.
pub fn frame_decisions(model: &SileroModel, samples: &[f32]) -> Vec<bool> {
    let mut vad = VadStream::new(model);
    let mut decisions = Vec::with_capacity(samples.len() / super::API_FRAME_SAMPLES as usize + 2);
    vad.push(samples, &mut decisions);
    vad.push(&[0.0; 2 * super::MODEL_FRAME_SAMPLES], &mut decisions);
    decisions.truncate(samples.len() / super::API_FRAME_SAMPLES as usize);
    decisions
}
