//! Per-endpoint stream processors: 16 kHz audio in, one reply text out.

use super::messages::{
    SpeechSummaryJson, SummaryStreamReply, VerifyStreamResult, speech_events, to_json,
};
use super::verify::{VERIFY_HOP_SECONDS, VerifyStream};
use super::{FramesMode, ProtocolError};
use crate::speech::{EndpointDetector, SpeechSummary};
use crate::vad::{API_FRAME_SAMPLES, SPEECH_TAIL_MS, SileroModel, VadStream};

/// What an endpoint does with the decoded audio of each binary message.
///
/// A message's audio arrives in one or more [`Self::feed`] calls (a slice of
/// the message at a time), then [`Self::reply`] answers the whole message.
pub trait StreamProcessor: Send {
    /// Processes 16 kHz samples decoded from part of a message, which
    /// carried `client_samples` samples at the client rate.
    fn feed(&mut self, audio: &[f32], client_samples: u64) -> Result<(), ProtocolError>;

    /// The reply to the message fed since the previous reply.
    fn reply(&mut self) -> String;

    /// Says that the next [`Self::feed`] brings the message's last slice
    /// (work that only the newest audio deserves is kept for it).
    fn last_slice_next(&mut self) {}

    /// Seconds of audio run through the speaker network so far.
    fn speaker_seconds(&self) -> f64 {
        0.0
    }

    /// Gives back memory that grew for the last message beyond what the
    /// stream keeps between messages.
    fn shrink_buffers(&mut self) {}

    /// How far behind real time the message under way is (it only ever
    /// escalates until the reply): a stream behind does less optional
    /// model work, so that it catches up instead of falling further behind.
    fn set_pace(&mut self, _pace: Pace) {}

    /// Asks a stream whose results are optional work (verify) for at most
    /// one result that embeds speech per `seconds` of audio, on average:
    /// one due sooner is skipped. No more than the hop thins nothing.
    fn thin_results(&mut self, _seconds: f64) {}
}

/// How far behind real time a face found a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Pace {
    /// Worked on in time: everything due is computed.
    #[default]
    OnTime,
    /// Behind: optional model work only for a stream that has had no result
    /// for [`STARVED_AFTER_SECONDS`], and then only its newest window, from
    /// at most the newest [`super::verify::CATCH_UP_SPEECH_SECONDS`] of its
    /// speech not embedded yet (the older is left out).
    Late,
    /// Far behind: no optional model work at all.
    VeryLate,
}

impl Pace {
    /// The pace of a message that waited `delay` where `late_after` is late;
    /// one and a half times that is very late.
    pub fn of_delay(delay: std::time::Duration, late_after: std::time::Duration) -> Self {
        if delay > late_after * 3 / 2 {
            Self::VeryLate
        } else if delay > late_after {
            Self::Late
        } else {
            Self::OnTime
        }
    }
}

/// Audio a verify stream may go without any result before a late message
/// still gets its newest window scored: results thin evenly across
/// streams instead of starving some. A second, so that the fresh result
/// comes within about 1.5 s of the last even when the next messages are
/// late too (at 1.5 s the longest gaps at 40 streams on two cores were
/// 1.4–2.1 s; at 1 s, 0.93–1.04 s — BENCHMARKS.md).
pub const STARVED_AFTER_SECONDS: f64 = 1.0;

/// The VAD of a stream plus a reusable buffer for its new decisions.
///
/// The VAD may decide a frame up to 17 ms before its last sample arrives
/// (its decision is the model frame holding its centre); such a frame is
/// held back until its audio is complete, so that no reply reports a frame
/// the client has not fully sent.
struct FrameSource {
    vad: VadStream,
    decisions: Vec<bool>,
    /// Decided frames whose audio has not all arrived (at most one).
    early: Vec<bool>,
    /// Engine samples received.
    samples: u64,
    /// Frames handed out.
    released: u64,
}

impl FrameSource {
    fn new(model: &SileroModel) -> Self {
        Self {
            vad: VadStream::new(model),
            decisions: Vec::new(),
            early: Vec::new(),
            samples: 0,
            released: 0,
        }
    }

    /// The 30 ms decisions of the frames newly completed by `audio`.
    fn frames(&mut self, audio: &[f32]) -> &[bool] {
        self.samples += audio.len() as u64;
        self.decisions.clear();
        self.decisions.append(&mut self.early);
        self.vad.push(audio, &mut self.decisions);
        let complete = self.samples / API_FRAME_SAMPLES - self.released;
        let ready = self.decisions.len().min(complete as usize);
        self.early.extend(self.decisions.drain(ready..));
        self.released += ready as u64;
        &self.decisions
    }

    fn shrink_buffers(&mut self) {
        self.decisions.clear();
        self.decisions.shrink_to(RETAINED_DECISIONS);
    }
}

/// Decisions of about 30 s: what a frame buffer keeps between messages.
const RETAINED_DECISIONS: usize = 1024;

/// `/speech_endpoint_detector`: replies `"true"` once the endpoint is reached.
pub struct EndpointStream {
    frames: FrameSource,
    detector: EndpointDetector,
}

impl EndpointStream {
    /// A detector stream with the client's thresholds.
    pub fn new(model: &SileroModel, min_speech_ms: u32, silence_ms: u32) -> Self {
        Self {
            frames: FrameSource::new(model),
            detector: EndpointDetector::new(min_speech_ms, silence_ms, SPEECH_TAIL_MS),
        }
    }
}

impl StreamProcessor for EndpointStream {
    fn feed(&mut self, audio: &[f32], _client_samples: u64) -> Result<(), ProtocolError> {
        self.detector.push(self.frames.frames(audio));
        Ok(())
    }

    fn reply(&mut self) -> String {
        self.detector.reached().to_string()
    }

    fn shrink_buffers(&mut self) {
        self.frames.shrink_buffers();
    }
}

/// `/speech_summary_stream`: replies the cumulative speech summary.
pub struct SummaryStream {
    frames: FrameSource,
    summary: SpeechSummary,
    mode: FramesMode,
    client_rate: u32,
    client_samples: u64,
}

impl SummaryStream {
    /// A summary stream for a client at `client_rate` Hz.
    pub fn new(model: &SileroModel, client_rate: u32, mode: FramesMode) -> Self {
        Self {
            frames: FrameSource::new(model),
            summary: SpeechSummary::new(),
            mode,
            client_rate,
            client_samples: 0,
        }
    }
}

impl StreamProcessor for SummaryStream {
    fn feed(&mut self, audio: &[f32], client_samples: u64) -> Result<(), ProtocolError> {
        self.summary.push(self.frames.frames(audio));
        self.client_samples += client_samples;
        Ok(())
    }

    fn shrink_buffers(&mut self) {
        self.frames.shrink_buffers();
    }

    fn reply(&mut self) -> String {
        let counts = self.summary.counts();
        let (frames, runs) = match self.mode {
            FramesMode::All => (
                self.summary.all_frames().to_vec(),
                self.summary.all_runs().to_vec(),
            ),
            FramesMode::New => (
                self.summary.take_new_frames(),
                self.summary.take_touched_runs(),
            ),
        };
        let total_length = self.client_samples as f64 / f64::from(self.client_rate);
        let summary = SpeechSummaryJson::new(counts, total_length, frames);
        let events = speech_events(&runs, self.client_rate);
        to_json(&SummaryStreamReply::new(counts, summary, events))
    }
}

/// Seconds of window audio one message may have scored (e.g. 40 windows of
/// 3 s, or 2 of 60 s): bounds the model work a single message can cause.
pub const MAX_VERIFIED_SECONDS_PER_MESSAGE: f64 = 120.0;

/// A verify stream's share of results while they are thinned: audio heard
/// earns credit, each result that embeds speech spends one interval of it,
/// and a result that would embed waits for the credit. What is left after
/// a result carries over, so an interval a little over the hop skips a
/// window now and then (0.55 s: one in eleven), not every other one.
/// Results that cost nothing are never thinned.
struct Thinning {
    client_rate: u32,
    /// Client samples of audio per embedded result at most (0: not thinned).
    interval: u64,
    /// Client samples heard and not yet spent: less than an interval and a
    /// hop, so that a stream refused for a while (late) gets one result back,
    /// not two in a row.
    credit: u64,
}

impl Thinning {
    fn new(client_rate: u32) -> Self {
        Self {
            client_rate,
            interval: 0,
            credit: 0,
        }
    }

    fn hop(&self) -> u64 {
        (VERIFY_HOP_SECONDS * f64::from(self.client_rate)).round() as u64
    }

    /// At most one embedded result per `seconds` of audio; no more than the
    /// hop thins nothing.
    fn set_interval(&mut self, seconds: f64) {
        let interval = (seconds * f64::from(self.client_rate)).round() as u64;
        self.interval = if interval > self.hop() { interval } else { 0 };
    }

    fn hear(&mut self, client_samples: u64) {
        let most = (self.interval + self.hop()).saturating_sub(1);
        self.credit = (self.credit + client_samples).min(most);
    }

    fn allows_a_result(&self) -> bool {
        self.credit >= self.interval
    }

    fn embedded(&mut self) {
        self.credit = self.credit.saturating_sub(self.interval);
    }
}

/// `/voice_verify_stream`: replies a JSON array of results, possibly `[]`.
pub struct VerifyProcessor {
    stream: VerifyStream,
    results: Vec<VerifyStreamResult>,
    /// Window seconds this message may still have scored.
    budget: f64,
    skipped: u64,
    pace: Pace,
    /// Whether the slice fed next is the message's last.
    last_slice: bool,
    /// Seconds of audio run through the speaker network so far.
    spent: f64,
    /// Client samples after which a stream without results is starved.
    starved_after: u64,
    /// Client samples since the stream's last result.
    since_result: u64,
    thinning: Thinning,
}

impl VerifyProcessor {
    /// Wraps a verify stream of a client at `client_rate`.
    pub fn new(stream: VerifyStream, client_rate: u32) -> Self {
        Self {
            stream,
            results: Vec::new(),
            budget: MAX_VERIFIED_SECONDS_PER_MESSAGE,
            skipped: 0,
            pace: Pace::OnTime,
            last_slice: false,
            spent: 0.0,
            starved_after: (STARVED_AFTER_SECONDS * f64::from(client_rate)) as u64,
            since_result: 0,
            thinning: Thinning::new(client_rate),
        }
    }

    /// What this part of the message may spend on embeddings, by its pace
    /// and the thinning asked for; a slice before the last leaves what the
    /// newest result may cost.
    fn allowance(&self) -> f64 {
        let reserve = if self.last_slice {
            0.0
        } else {
            self.stream.result_cost_bound()
        };
        let allowance = match self.pace {
            _ if !self.thinning.allows_a_result() => 0.0,
            Pace::OnTime => self.budget,
            Pace::Late if self.since_result >= self.starved_after => {
                self.budget.min(self.stream.catch_up_cost())
            }
            Pace::Late | Pace::VeryLate => 0.0,
        };
        (allowance - reserve).max(0.0)
    }
}

impl StreamProcessor for VerifyProcessor {
    fn feed(&mut self, audio: &[f32], client_samples: u64) -> Result<(), ProtocolError> {
        self.since_result += client_samples;
        self.thinning.hear(client_samples);
        let allowed = self.allowance();
        let mut left = allowed;
        let scored = self.stream.push(audio, client_samples, &mut left)?;
        if left < allowed {
            self.thinning.embedded();
        }
        self.budget -= allowed - left;
        self.spent += allowed - left;
        self.skipped += scored.skipped;
        if !scored.results.is_empty() {
            self.since_result = 0;
        }
        self.results.extend(scored.results);
        Ok(())
    }

    fn reply(&mut self) -> String {
        if self.skipped > 0 {
            tracing::debug!(
                skipped = self.skipped,
                pace = ?self.pace,
                "verify windows skipped: the message was late, results are thinned, \
                 or it had more than {MAX_VERIFIED_SECONDS_PER_MESSAGE} s of windows to score"
            );
        }
        self.budget = MAX_VERIFIED_SECONDS_PER_MESSAGE;
        self.last_slice = false;
        self.skipped = 0;
        self.pace = Pace::OnTime;
        to_json(&std::mem::take(&mut self.results))
    }

    fn shrink_buffers(&mut self) {
        self.stream.shrink_buffers();
    }

    fn last_slice_next(&mut self) {
        self.last_slice = true;
    }

    fn speaker_seconds(&self) -> f64 {
        self.spent
    }

    fn set_pace(&mut self, pace: Pace) {
        self.pace = self.pace.max(pace);
    }

    fn thin_results(&mut self, seconds: f64) {
        self.thinning.set_interval(seconds);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Pace, Thinning};

    /// How many of `hops` due results a thinned stream embeds, when each
    /// one it is allowed is embedded.
    fn results_of(thinning: &mut Thinning, hops: usize) -> usize {
        (0..hops)
            .filter(|_| {
                thinning.hear(8_000);
                let allowed = thinning.allows_a_result();
                if allowed {
                    thinning.embedded();
                }
                allowed
            })
            .count()
    }

    #[test]
    fn results_thin_in_proportion_to_the_interval() {
        let mut thinning = Thinning::new(16_000);
        assert_eq!(results_of(&mut thinning, 22), 22, "not thinned");
        thinning.set_interval(0.5);
        assert_eq!(results_of(&mut thinning, 22), 22, "the hop thins nothing");
        thinning.set_interval(1.0);
        assert_eq!(results_of(&mut thinning, 22), 11);
        thinning.set_interval(1.5);
        assert_eq!(results_of(&mut thinning, 21), 7);
        // A little over the hop skips a window now and then.
        thinning.set_interval(0.55);
        let results = results_of(&mut thinning, 110);
        assert!((99..=101).contains(&results), "{results} of 110");
    }

    #[test]
    fn a_stream_refused_for_a_while_gets_one_result_back_not_two() {
        let mut thinning = Thinning::new(16_000);
        thinning.set_interval(1.0);
        thinning.hear(10 * 16_000);
        assert!(thinning.allows_a_result());
        thinning.embedded();
        thinning.hear(8_000);
        assert!(!thinning.allows_a_result());
        thinning.hear(8_000);
        assert!(thinning.allows_a_result());
    }

    #[test]
    fn a_message_is_late_past_the_threshold_and_very_late_past_half_as_much_again() {
        let late_after = Duration::from_millis(50);
        let pace = |ms| Pace::of_delay(Duration::from_millis(ms), late_after);
        assert_eq!(pace(0), Pace::OnTime);
        assert_eq!(pace(50), Pace::OnTime);
        assert_eq!(pace(51), Pace::Late);
        assert_eq!(pace(75), Pace::Late);
        assert_eq!(pace(76), Pace::VeryLate);
    }
}
