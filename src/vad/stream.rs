//! One stream's VAD: 16 kHz samples in, 30 ms decisions out.

use super::{FrameDecider, Hysteresis, ScoredFrame, SileroModel, SileroStream};

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

    /// Like [`Self::push`], keeping each frame's probability.
    pub fn push_scored(&mut self, samples: &[f32], frames: &mut Vec<ScoredFrame>) {
        self.probs.clear();
        self.model.push(samples, &mut self.probs);
        for &p in &self.probs {
            self.decider.push_scored(p, frames);
        }
    }
}

/// The 30 ms decisions of every complete frame of a whole recording.
///
/// The end is padded with silence so the last frames get decided too.
pub fn frame_decisions(model: &SileroModel, samples: &[f32]) -> Vec<bool> {
    let mut recording = RecordingDecisions::new(model);
    recording.push(samples);
    recording.finish()
}

/// The decisions of a whole recording, fed a part at a time: the same as
/// [`frame_decisions`] of all the parts together.
pub struct RecordingDecisions {
    vad: VadStream,
    decisions: Vec<bool>,
    samples: usize,
}

impl RecordingDecisions {
    /// Decisions of a recording not yet fed.
    pub fn new(model: &SileroModel) -> Self {
        Self {
            vad: VadStream::new(model),
            decisions: Vec::new(),
            samples: 0,
        }
    }

    /// Feeds the next 16 kHz samples of the recording.
    pub fn push(&mut self, samples: &[f32]) {
        self.samples += samples.len();
        self.vad.push(samples, &mut self.decisions);
    }

    /// The decisions made so far (the last frames wait for more audio).
    pub fn decided(&self) -> &[bool] {
        &self.decisions
    }

    /// The decision of every complete frame, the end padded with silence.
    pub fn finish(mut self) -> Vec<bool> {
        let padding = [0.0; 2 * super::MODEL_FRAME_SAMPLES];
        self.vad.push(&padding, &mut self.decisions);
        self.decisions
            .truncate(self.samples / super::API_FRAME_SAMPLES as usize);
        self.decisions
    }
}
