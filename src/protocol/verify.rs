//! Continuous verification: the speech of the last `window` seconds against
//! an enrolled template, every 0.5 s of audio.
//!
//! Each result runs the speaker network over the speech that arrived since
//! the last one only (with [`VERIFY_CONTEXT_SECONDS`] of the speech before it
//! as context) and keeps the frame statistics of that part; a window's
//! embedding pools the parts it covers. A result costs its new speech, not
//! its whole window. A result skipped (no budget) leaves its speech to the
//! next one, which embeds everything its window has not had — or, short of
//! budget itself (a catch-up under load), the newest of that speech it can
//! pay for, the older left out. A part that starts where the previous one
//! ended reuses that part's front-end output over the context they share
//! (the network's convolutional front end is local in time), so the front
//! end runs over little more than the new speech; the dense layers after it
//! run over the whole part.

use std::collections::VecDeque;

use super::messages::{AudioInterval, VerifyStreamResult};
use crate::vad::{API_FRAME_SAMPLES, VadStream};
use crate::voice::{
    Band, FrameStatistics, MatchResult, SpeechPart, VoiceEngine, VoiceError, VoiceTemplate,
};

/// Audio between two results, in seconds.
pub const VERIFY_HOP_SECONDS: f64 = 0.5;
/// Longest window (and audio context) a verify stream accepts, in seconds.
pub const MAX_VERIFY_SECONDS: f64 = 60.0;
/// Least speech in a window to judge it; less gives probability 0 and score 0.
pub const MIN_VERIFY_SPEECH_SECONDS: f64 = 1.0;
/// Speech before a part that the network hears with it, in seconds (chosen
/// on the calibration set: 0.75 s and 1 s give the same EER; 0.5 s less).
pub const VERIFY_CONTEXT_SECONDS: f64 = 0.75;
/// Least new speech worth a part of its own, in seconds.
const MIN_PART_SECONDS: f64 = 0.1;
/// Speech a catch-up result embeds at most (the newest of its window's new
/// speech; older new speech is left out), in seconds: it costs this plus
/// the context ([`VerifyStream::catch_up_cost`]).
pub const CATCH_UP_SPEECH_SECONDS: f64 = 1.0;

const ENGINE_RATE: f64 = 16_000.0;

/// What one [`VerifyStream::push`] brought.
#[derive(Debug, Default)]
pub struct Scored {
    /// The results now due and scored, in time order.
    pub results: Vec<VerifyStreamResult>,
    /// Results due but not scored for want of budget.
    pub skipped: u64,
}

/// The statistics of the speech of VAD frames up to `end_frame` (exclusive)
/// not in an earlier part.
struct Part {
    end_frame: u64,
    statistics: FrameStatistics,
}

/// A verify stream over 16 kHz audio, reporting in the client's timeline.
pub struct VerifyStream {
    engine: VoiceEngine,
    template: VoiceTemplate,
    vad: VadStream,
    client_rate: u32,
    window_seconds: f64,
    /// 16 kHz audio kept, starting at absolute sample `history_start`.
    history: VecDeque<f32>,
    history_start: u64,
    /// Decided 30 ms frames, starting at absolute frame `frames_start`.
    frames: VecDeque<bool>,
    frames_start: u64,
    keep: usize,
    client_samples: u64,
    next_result: u64,
    new_frames: Vec<bool>,
    /// The speech embedded so far, oldest first.
    parts: VecDeque<Part>,
    /// The newest part run through the network and the frame it ends at,
    /// for the next part to reuse its front end's output.
    newest_part: Option<(u64, SpeechPart)>,
    /// The unit embedding of the newest window scored.
    newest_embedding: Option<Vec<f32>>,
    /// First frame whose speech is in no part yet.
    embedded_frames: u64,
}

impl VerifyStream {
    /// A stream comparing with `template`, windows of `window_seconds`,
    /// keeping `context_seconds` (≥ window) of history.
    pub fn new(
        engine: VoiceEngine,
        template: VoiceTemplate,
        client_rate: u32,
        window_seconds: f64,
        context_seconds: f64,
    ) -> Self {
        let vad = VadStream::new(engine.vad());
        let history = context_seconds.max(window_seconds) + VERIFY_CONTEXT_SECONDS;
        let keep = (history * ENGINE_RATE).ceil() as usize;
        Self {
            engine,
            template,
            vad,
            client_rate,
            window_seconds,
            history: VecDeque::new(),
            history_start: 0,
            frames: VecDeque::new(),
            frames_start: 0,
            keep,
            client_samples: 0,
            next_result: 0,
            new_frames: Vec::new(),
            parts: VecDeque::new(),
            newest_part: None,
            newest_embedding: None,
            embedded_frames: 0,
        }
    }

    /// The most one result can cost (seconds of speech run through the
    /// network): a window none of whose speech was embedded yet (in whole
    /// frames, the first of which may start before it), and its context.
    pub fn result_cost_bound(&self) -> f64 {
        let frame = API_FRAME_SAMPLES as f64 / ENGINE_RATE;
        self.window_seconds + frame + VERIFY_CONTEXT_SECONDS
    }

    /// What a catch-up result costs at most (seconds of speech run through
    /// the network): [`CATCH_UP_SPEECH_SECONDS`] of its newest speech (in
    /// whole frames) and their context. Given only this much budget, a
    /// result embeds the newest speech it pays for and leaves out the older.
    pub fn catch_up_cost(&self) -> f64 {
        CATCH_UP_SPEECH_SECONDS + VERIFY_CONTEXT_SECONDS
    }

    /// Takes 16 kHz audio, which held `client_samples` samples at the client
    /// rate; returns every result now due.
    ///
    /// A result costs the seconds of speech it runs through the network
    /// (see the module), paid from `budget`; the newest result due is paid
    /// for first: older ones are scored, in time order, only while what is
    /// left still covers [`Self::result_cost_bound`], and skipped (counted)
    /// otherwise, so the work one call may cause is bounded by the budget.
    /// Windows with too little speech cost nothing. Results come in time
    /// order and do not depend on how the audio was split into calls.
    pub fn push(
        &mut self,
        audio: &[f32],
        client_samples: u64,
        budget: &mut f64,
    ) -> Result<Scored, VoiceError> {
        let total = self.client_samples + client_samples;
        let mut due = Vec::new();
        while let Some(end) = self.due_end(self.next_result, total) {
            self.next_result += 1;
            due.push(end);
        }
        let mut scored = Scored::default();
        let mut failure = None;
        let mut rest = audio;
        for (i, &end) in due.iter().enumerate() {
            // Each result sees the audio up to its own end: what it embeds
            // does not depend on how much more the call brought.
            let needed = self.to_engine(end).saturating_sub(self.audio_end());
            let (now, later) = rest.split_at((needed as usize).min(rest.len()));
            self.hear(now);
            rest = later;
            let reserve = if i + 1 == due.len() {
                0.0
            } else {
                self.result_cost_bound()
            };
            match self.result_ending_at(end, budget, reserve) {
                Ok(Some(result)) => scored.results.push(result),
                Ok(None) => scored.skipped += 1,
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        // All of the audio is taken even when a result failed, so that the
        // stream's timeline stays whole.
        self.hear(rest);
        self.client_samples = total;
        self.trim();
        match failure {
            Some(error) => Err(error),
            None => Ok(scored),
        }
    }

    /// Gives back memory that grew for a large push beyond the context kept.
    pub fn shrink_buffers(&mut self) {
        self.history.shrink_to(self.keep);
        let frames = self.keep / API_FRAME_SAMPLES as usize + 1;
        self.frames.shrink_to(frames);
        self.new_frames.clear();
        self.new_frames.shrink_to(frames);
    }

    /// The unit speaker embedding of the newest result's window (to compare
    /// with other templates than the stream's); `None` if that window had too
    /// little speech or was skipped.
    pub fn newest_embedding(&self) -> Option<&[f32]> {
        self.newest_embedding.as_deref()
    }

    /// Bytes of audio and frames held now (bounded by the context length).
    pub fn held_samples(&self) -> usize {
        self.history.len()
    }

    /// Adds 16 kHz audio to the history and its decided frames.
    fn hear(&mut self, audio: &[f32]) {
        self.history.extend(audio);
        self.new_frames.clear();
        self.vad.push(audio, &mut self.new_frames);
        self.frames.extend(&self.new_frames);
    }

    /// Absolute 16 kHz sample after the last one heard.
    fn audio_end(&self) -> u64 {
        self.history_start + self.history.len() as u64
    }

    /// The 16 kHz sample at client sample `client`.
    fn to_engine(&self, client: u64) -> u64 {
        (client as f64 * ENGINE_RATE / f64::from(self.client_rate)).round() as u64
    }

    /// Client sample at which result `k` ends, if `total` client samples reach it.
    fn due_end(&self, k: u64, total: u64) -> Option<u64> {
        let seconds = self.window_seconds + VERIFY_HOP_SECONDS * k as f64;
        let end = (seconds * f64::from(self.client_rate)).round() as u64;
        (end <= total).then_some(end)
    }

    /// The result of the window ending at client sample `end`, or `None` if
    /// it needs new speech embedded and `budget` (seconds) less `reserve`
    /// cannot pay for it.
    fn result_ending_at(
        &mut self,
        end: u64,
        budget: &mut f64,
        reserve: f64,
    ) -> Result<Option<VerifyStreamResult>, VoiceError> {
        let rate = f64::from(self.client_rate);
        let window = (self.window_seconds * rate).round() as u64;
        let start = end.saturating_sub(window);
        let (from, to) = (
            self.to_engine(start),
            self.to_engine(end).min(self.audio_end()),
        );
        let speech = self.speech_samples_between(from, to);
        let verify_result = if speech as f64 >= MIN_VERIFY_SPEECH_SECONDS * ENGINE_RATE {
            let first_frame = from / API_FRAME_SAMPLES;
            if !self.embed_new_speech(first_frame, budget, reserve)? {
                return Ok(None);
            }
            let mut pooled = FrameStatistics::default();
            for part in self.parts.iter().filter(|p| p.end_frame > first_frame) {
                pooled.merge(&part.statistics);
            }
            let embedding = self.engine.embed_statistics(&pooled)?;
            let result = MatchResult::between(
                (&self.template.embedding, self.template.band),
                (&embedding, Band::of_rate(self.client_rate)),
            );
            self.newest_embedding = Some(embedding);
            result
        } else {
            self.newest_embedding = None;
            MatchResult::no_speech()
        };
        Ok(Some(VerifyStreamResult {
            audio_interval: AudioInterval::new(start, end, self.client_rate),
            verify_result,
        }))
    }

    /// Makes a part of the speech of the whole frames heard from
    /// `first_frame` on that is in no part yet, and takes its cost from
    /// `budget`. If `budget` less `reserve` pays for less than all of it,
    /// the part is the newest whole frames it pays for (the older speech is
    /// left out, heard only as their context); `false` if it pays for less
    /// than [`MIN_PART_SECONDS`].
    fn embed_new_speech(
        &mut self,
        first_frame: u64,
        budget: &mut f64,
        reserve: f64,
    ) -> Result<bool, VoiceError> {
        let from = self.embedded_frames.max(first_frame);
        let whole_frames = self.audio_end() / API_FRAME_SAMPLES;
        let to = (self.frames_start + self.frames.len() as u64).min(whole_frames);
        let new = self.speech_of_frames(from..to);
        let least = (MIN_PART_SECONDS * ENGINE_RATE) as usize;
        if new.len() < least {
            // Too little to embed well on its own: it joins the next part.
            return Ok(true);
        }
        let mut speech = self.context_before(from);
        let context_samples = speech.len();
        speech.extend(new);
        let affordable = ((*budget - reserve).max(0.0) * ENGINE_RATE) as usize;
        let (part, new_samples) = split_affordable(&speech, context_samples, affordable);
        if new_samples < least {
            return Ok(false);
        }
        *budget -= part.len() as f64 / ENGINE_RATE;
        let previous = self.newest_part.take();
        let continued = previous
            .as_ref()
            .filter(|(end_frame, _)| *end_frame == from)
            .map(|(_, part)| part);
        let statistics = match self.engine.speech_statistics(part, new_samples, continued) {
            Ok((statistics, mut part)) => {
                part.keep_last((VERIFY_CONTEXT_SECONDS * ENGINE_RATE) as usize);
                self.newest_part = Some((to, part));
                statistics
            }
            // Too few frames for the network: a sliver of speech left out.
            Err(VoiceError::Inference(_) | VoiceError::NotEnoughSpeech { .. }) => {
                FrameStatistics::default()
            }
            Err(other) => return Err(other),
        };
        self.parts.push_back(Part {
            end_frame: to,
            statistics,
        });
        self.embedded_frames = to;
        Ok(true)
    }

    /// Samples in `[from, to)` (absolute 16 kHz indices) of decided speech frames.
    fn speech_samples_between(&self, from: u64, to: u64) -> u64 {
        let frame = API_FRAME_SAMPLES;
        let mut count = 0;
        for (i, &is_speech) in self.frames.iter().enumerate() {
            let frame_start = (self.frames_start + i as u64) * frame;
            let (lo, hi) = (frame_start.max(from), (frame_start + frame).min(to));
            if is_speech && lo < hi && lo >= self.history_start {
                count += hi - lo;
            }
        }
        count
    }

    /// The samples of the speech frames in `frames` (absolute frame indices)
    /// still held.
    fn speech_of_frames(&self, frames: std::ops::Range<u64>) -> Vec<f32> {
        let mut speech = Vec::new();
        for index in frames {
            if let Some(samples) = self.speech_frame(index) {
                speech.extend(samples);
            }
        }
        speech
    }

    /// The samples of frame `index` if it is speech and held.
    fn speech_frame(&self, index: u64) -> Option<std::collections::vec_deque::Iter<'_, f32>> {
        let decided = index.checked_sub(self.frames_start)?;
        if !*self.frames.get(decided as usize)? {
            return None;
        }
        let start = (index * API_FRAME_SAMPLES).checked_sub(self.history_start)? as usize;
        let end = start + API_FRAME_SAMPLES as usize;
        (end <= self.history.len()).then(|| self.history.range(start..end))
    }

    /// Up to [`VERIFY_CONTEXT_SECONDS`] of the speech held before frame `first`.
    fn context_before(&self, first: u64) -> Vec<f32> {
        let wanted = (VERIFY_CONTEXT_SECONDS * ENGINE_RATE) as usize;
        let mut frames = Vec::new();
        let mut samples = 0;
        for index in (self.frames_start..first).rev() {
            if samples >= wanted {
                break;
            }
            if let Some(frame) = self.speech_frame(index) {
                samples += frame.len();
                frames.push(frame);
            }
        }
        let mut context: Vec<f32> = frames.into_iter().rev().flatten().copied().collect();
        context.drain(..context.len().saturating_sub(wanted));
        context
    }

    /// Drops audio, frames and parts older than the context length.
    fn trim(&mut self) {
        let excess = self.history.len().saturating_sub(self.keep);
        self.history.drain(..excess);
        self.history_start += excess as u64;
        let first_needed = self.history_start / API_FRAME_SAMPLES;
        let stale = first_needed.saturating_sub(self.frames_start) as usize;
        let stale = stale.min(self.frames.len());
        self.frames.drain(..stale);
        self.frames_start += stale as u64;
        while self
            .parts
            .front()
            .is_some_and(|part| part.end_frame <= self.frames_start)
        {
            self.parts.pop_front();
        }
    }
}

/// The part of `speech` (its first `context_samples` the context, the rest
/// new) to run through the network at a cost of at most `affordable`
/// samples, and how many of its last samples are new: all of it if it fits,
/// else the newest whole frames of the new speech that fit beside up to
/// [`VERIFY_CONTEXT_SECONDS`] of the speech before them.
fn split_affordable(speech: &[f32], context_samples: usize, affordable: usize) -> (&[f32], usize) {
    let new_samples = speech.len() - context_samples;
    if speech.len() <= affordable {
        return (speech, new_samples);
    }
    let frame = API_FRAME_SAMPLES as usize;
    let context = (VERIFY_CONTEXT_SECONDS * ENGINE_RATE) as usize;
    let kept = affordable.saturating_sub(context).min(new_samples) / frame * frame;
    let start = speech.len() - kept;
    (&speech[start.saturating_sub(context)..], kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = API_FRAME_SAMPLES as usize;
    const CONTEXT: usize = (VERIFY_CONTEXT_SECONDS * ENGINE_RATE) as usize;

    /// `context` samples of context (values -1) then `new` of new speech
    /// (values 0, 1, 2, … so that what was kept can be told).
    fn speech(context: usize, new: usize) -> Vec<f32> {
        let mut speech = vec![-1.0; context];
        speech.extend((0..new).map(|i| i as f32));
        speech
    }

    /// The context and the new speech of a part from [`split_affordable`].
    fn split(speech: &[f32], affordable: usize) -> (&[f32], &[f32]) {
        let (part, new_samples) = split_affordable(speech, CONTEXT, affordable);
        part.split_at(part.len() - new_samples)
    }

    #[test]
    fn a_part_that_fits_is_kept_whole() {
        let speech = speech(CONTEXT, 20 * FRAME);
        let (context, new) = split(&speech, speech.len());
        assert_eq!((context.len(), new.len()), (CONTEXT, 20 * FRAME));
        assert_eq!(new[0], 0.0);
    }

    #[test]
    fn a_part_short_of_budget_keeps_the_newest_whole_frames_and_their_context() {
        let speech = speech(CONTEXT, 100 * FRAME);
        let affordable = CONTEXT + 30 * FRAME + FRAME / 2;
        let (context, new) = split(&speech, affordable);
        assert_eq!(new.len(), 30 * FRAME);
        assert_eq!(new[0], (70 * FRAME) as f32);
        assert_eq!(*new.last().unwrap(), (100 * FRAME - 1) as f32);
        // The context is the speech just before, dropped new speech included.
        assert_eq!(context.len(), CONTEXT);
        assert_eq!(*context.last().unwrap(), (70 * FRAME - 1) as f32);
    }

    #[test]
    fn a_part_without_context_to_spare_keeps_nothing() {
        let speech = speech(CONTEXT, 100 * FRAME);
        let (context, new) = split(&speech, CONTEXT - 1);
        assert!(new.is_empty());
        assert!(context.len() <= CONTEXT);
    }
}
