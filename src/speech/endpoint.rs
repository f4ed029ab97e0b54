//! The speech endpoint detector.

use crate::vad::API_FRAME_MS;

/// Decides when an utterance has ended.
///
/// The endpoint is reached when at least `min_speech_ms` of speech has been
/// heard in total and, after speech, the current run of non-speech frames has
/// lasted at least `silence_ms`. Once reached, it stays reached (latches).
#[derive(Debug, Clone)]
pub struct EndpointDetector {
    min_speech_frames: u64,
    silence_frames: u64,
    speech_frames: u64,
    trailing_silence: u64,
    reached: bool,
}

impl EndpointDetector {
    /// A detector needing `min_speech_ms` of speech then `silence_ms` of silence.
    ///
    /// `tail_credit_ms` is how long the frame source keeps reporting speech
    /// after speech really ends; that much of the reported speech is counted
    /// as silence, though a positive `silence_ms` always needs at least one
    /// silent frame. Durations are rounded up to whole 30 ms frames.
    pub fn new(min_speech_ms: u32, silence_ms: u32, tail_credit_ms: u32) -> Self {
        let frames = |ms: u32| u64::from(ms.div_ceil(API_FRAME_MS));
        let mut silence_frames = frames(silence_ms.saturating_sub(tail_credit_ms));
        if silence_ms > 0 {
            silence_frames = silence_frames.max(1);
        }
        Self {
            min_speech_frames: frames(min_speech_ms),
            silence_frames,
            speech_frames: 0,
            trailing_silence: 0,
            reached: false,
        }
    }

    /// Takes the next frame decisions; returns whether the endpoint has been reached.
    pub fn push(&mut self, frames: &[bool]) -> bool {
        for &speech in frames {
            if speech {
                self.speech_frames += 1;
                self.trailing_silence = 0;
            } else if self.speech_frames > 0 {
                self.trailing_silence += 1;
            }
            self.reached |= self.speech_frames > 0
                && self.speech_frames >= self.min_speech_frames
                && self.trailing_silence >= self.silence_frames;
        }
        self.reached
    }

    /// Speech frames heard so far.
    pub fn speech_frames(&self) -> u64 {
        self.speech_frames
    }

    /// Whether the endpoint has been reached so far.
    pub fn reached(&self) -> bool {
        self.reached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(pattern: &str) -> Vec<bool> {
        pattern
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c == 'S')
            .collect()
    }

    #[test]
    fn needs_min_speech_then_silence() {
        // 90 ms speech minimum (3 frames), 60 ms silence (2 frames).
        let mut d = EndpointDetector::new(90, 60, 0);
        assert!(!d.push(&frames("... SS .")));
        assert!(!d.push(&frames(".")), "only 2 speech frames so far");
        assert!(!d.push(&frames("S .")));
        assert!(d.push(&frames(".")), "3 speech frames, 2 silent frames");
    }

    #[test]
    fn tail_credit_shortens_the_silence_needed() {
        // 150 ms of silence with a 60 ms tail credit: 3 silent frames, not 5.
        let mut d = EndpointDetector::new(30, 150, 60);
        assert!(!d.push(&frames("SSS ..")));
        assert!(d.push(&frames(".")));
        // A credit larger than the silence still needs one silent frame.
        let mut d = EndpointDetector::new(30, 30, 200);
        assert!(!d.push(&frames("SS")));
        assert!(d.push(&frames(".")));
    }

    #[test]
    fn silence_before_speech_does_not_count() {
        let mut d = EndpointDetector::new(30, 60, 0);
        assert!(!d.push(&frames("..........")));
        assert!(!d.push(&frames("S.")));
        assert!(d.push(&frames(".")));
    }

    #[test]
    fn speech_resets_the_silence_run() {
        let mut d = EndpointDetector::new(30, 90, 0);
        assert!(!d.push(&frames("S..S..S..")));
        assert!(d.push(&frames(".")));
    }

    #[test]
    fn latches_once_reached() {
        let mut d = EndpointDetector::new(30, 30, 0);
        assert!(d.push(&frames("S.")));
        assert!(d.push(&frames("SSSS")));
        assert!(d.reached());
    }

    #[test]
    fn rounds_durations_up_to_frames() {
        let mut d = EndpointDetector::new(31, 31, 0);
        assert!(!d.push(&frames("S.")));
        assert!(
            !d.push(&frames("S.")),
            "needs 2 speech frames and 2 silent ones"
        );
        assert!(d.push(&frames(".")));
    }

    #[test]
    fn zero_thresholds_fire_on_first_speech() {
        let mut d = EndpointDetector::new(0, 0, 0);
        assert!(!d.push(&frames("...")));
        assert!(d.push(&frames("S")));
    }
}
