//! The speech summary: cumulative speech/background lengths and the frame mask.

use super::{FRAME_SECONDS, SpeechRun, SpeechRuns};

/// Running totals of one stream's frame decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpeechCounts {
    /// Frames decided as speech.
    pub speech_frames: u64,
    /// Frames decided as non-speech.
    pub background_frames: u64,
    /// Non-speech frames since the last speech frame (all of them if none).
    pub trailing_background_frames: u64,
}

impl SpeechCounts {
    /// Total speech in seconds.
    pub fn speech_seconds(&self) -> f64 {
        self.speech_frames as f64 * FRAME_SECONDS
    }

    /// Total non-speech in seconds.
    pub fn background_seconds(&self) -> f64 {
        self.background_frames as f64 * FRAME_SECONDS
    }

    /// Trailing non-speech in seconds.
    pub fn trailing_background_seconds(&self) -> f64 {
        self.trailing_background_frames as f64 * FRAME_SECONDS
    }
}

/// Accumulates frame decisions for a speech summary.
///
/// Keeps the totals and every frame not yet handed out by [`Self::take_new_frames`]
/// (or all frames when the caller wants the whole mask each time).
#[derive(Debug, Clone, Default)]
pub struct SpeechSummary {
    counts: SpeechCounts,
    frames: Vec<bool>,
    runs: SpeechRuns,
}

impl SpeechSummary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next frame decisions.
    pub fn push(&mut self, frames: &[bool]) {
        for &speech in frames {
            if speech {
                self.counts.speech_frames += 1;
                self.counts.trailing_background_frames = 0;
            } else {
                self.counts.background_frames += 1;
                self.counts.trailing_background_frames += 1;
            }
        }
        self.frames.extend_from_slice(frames);
        self.runs.push(frames);
    }

    /// The running totals.
    pub fn counts(&self) -> SpeechCounts {
        self.counts
    }

    /// Every frame decided so far.
    pub fn all_frames(&self) -> &[bool] {
        &self.frames
    }

    /// The frames decided since the previous call; they are then dropped from
    /// memory, so a long stream read this way stays small.
    pub fn take_new_frames(&mut self) -> Vec<bool> {
        std::mem::take(&mut self.frames)
    }

    /// Every run of speech and non-speech frames so far.
    pub fn all_runs(&self) -> &[SpeechRun] {
        self.runs.all()
    }

    /// The runs the frames decided since the previous call fell into (see
    /// [`SpeechRuns::take_touched`]).
    pub fn take_touched_runs(&mut self) -> Vec<SpeechRun> {
        self.runs.take_touched()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_speech_background_and_trailing() {
        let mut s = SpeechSummary::new();
        s.push(&[false, false, true, true, false]);
        let c = s.counts();
        assert_eq!(
            (
                c.speech_frames,
                c.background_frames,
                c.trailing_background_frames
            ),
            (2, 3, 1)
        );
        s.push(&[false, false]);
        assert_eq!(s.counts().trailing_background_frames, 3);
        s.push(&[true]);
        assert_eq!(s.counts().trailing_background_frames, 0);
        assert!((s.counts().speech_seconds() - 0.09).abs() < 1e-12);
        assert!((s.counts().background_seconds() - 0.15).abs() < 1e-12);
    }

    #[test]
    fn trailing_background_covers_all_frames_before_any_speech() {
        let mut s = SpeechSummary::new();
        s.push(&[false; 4]);
        assert_eq!(s.counts().trailing_background_frames, 4);
    }

    #[test]
    fn new_frames_are_handed_out_once_totals_stay() {
        let mut s = SpeechSummary::new();
        s.push(&[true, false]);
        assert_eq!(s.take_new_frames(), vec![true, false]);
        assert!(s.take_new_frames().is_empty());
        s.push(&[false]);
        assert_eq!(s.take_new_frames(), vec![false]);
        assert_eq!(s.counts().background_frames, 2);
    }

    #[test]
    fn all_frames_keeps_the_whole_mask() {
        let mut s = SpeechSummary::new();
        s.push(&[true]);
        s.push(&[false, true]);
        assert_eq!(s.all_frames(), &[true, false, true]);
    }
}
