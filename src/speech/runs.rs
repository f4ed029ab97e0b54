//! Speech events: the frame decisions as alternating runs of speech and
//! non-speech.

/// Consecutive frames with the same decision: frames `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechRun {
    /// Whether the frames are speech.
    pub is_speech: bool,
    /// First frame of the run.
    pub start: u64,
    /// One past the last frame (the run may still grow while it is the last).
    pub end: u64,
}

/// The runs of a stream's frames, kept as they grow.
///
/// [`Self::all`] gives every run since the start; [`Self::take_touched`]
/// gives only the runs that frames pushed since its previous call fell
/// into, and then forgets every run but the last (still open) one, so a
/// long stream read that way keeps one run.
#[derive(Debug, Clone, Default)]
pub struct SpeechRuns {
    runs: Vec<SpeechRun>,
    /// Frames handed out by [`Self::take_touched`] so far.
    reported: u64,
}

impl SpeechRuns {
    /// No frames yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next frame decisions.
    pub fn push(&mut self, frames: &[bool]) {
        for &is_speech in frames {
            match self.runs.last_mut() {
                Some(run) if run.is_speech == is_speech => run.end += 1,
                last => {
                    let start = last.map_or(self.reported, |run| run.end);
                    self.runs.push(SpeechRun {
                        is_speech,
                        start,
                        end: start + 1,
                    });
                }
            }
        }
    }

    /// Every run kept (all of them unless [`Self::take_touched`] was used).
    pub fn all(&self) -> &[SpeechRun] {
        &self.runs
    }

    /// The runs holding frames pushed since the previous call, whole (the
    /// first may have started before); only the last run is kept after.
    pub fn take_touched(&mut self) -> Vec<SpeechRun> {
        let reported = self.reported;
        let touched: Vec<SpeechRun> = self
            .runs
            .iter()
            .filter(|run| run.end > reported)
            .copied()
            .collect();
        if let Some(last) = self.runs.last() {
            self.reported = last.end;
        }
        let keep_from = self.runs.len().saturating_sub(1);
        self.runs.drain(..keep_from);
        touched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(is_speech: bool, start: u64, end: u64) -> SpeechRun {
        SpeechRun {
            is_speech,
            start,
            end,
        }
    }

    #[test]
    fn frames_become_alternating_runs() {
        let mut runs = SpeechRuns::new();
        runs.push(&[false, false, true]);
        runs.push(&[true, false]);
        assert_eq!(
            runs.all(),
            [run(false, 0, 2), run(true, 2, 4), run(false, 4, 5)]
        );
    }

    #[test]
    fn touched_runs_are_those_new_frames_fell_into() {
        let mut runs = SpeechRuns::new();
        assert!(runs.take_touched().is_empty());
        runs.push(&[false, false, true]);
        assert_eq!(runs.take_touched(), [run(false, 0, 2), run(true, 2, 3)]);
        // The open speech run grows: it is sent again, whole.
        runs.push(&[true, true]);
        assert_eq!(runs.take_touched(), [run(true, 2, 5)]);
        assert!(runs.take_touched().is_empty(), "nothing new");
        runs.push(&[false]);
        assert_eq!(runs.take_touched(), [run(false, 5, 6)]);
        assert_eq!(runs.all(), [run(false, 5, 6)], "only the open run is kept");
        runs.push(&[true]);
        assert_eq!(runs.take_touched(), [run(true, 6, 7)]);
    }
}
