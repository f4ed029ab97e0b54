//! Continuous verification: the speech of the last `window` seconds against
//! an enrolled template, every 0.5 s of audio.

use std::collections::VecDeque;

use super::messages::{AudioInterval, VerifyStreamResult};
use crate::vad::{API_FRAME_SAMPLES, VadStream};
use crate::voice::{MatchResult, VoiceEngine, VoiceError, VoiceTemplate, dot};

/// Audio between two results, in seconds.
pub const VERIFY_HOP_SECONDS: f64 = 0.5;
/// Longest window (and audio context) a verify stream accepts, in seconds.
pub const MAX_VERIFY_SECONDS: f64 = 60.0;
/// Least speech in a window to judge it; less gives probability 0 and score 0.
pub const MIN_VERIFY_SPEECH_SECONDS: f64 = 1.0;

const ENGINE_RATE: f64 = 16_000.0;

/// What one [`VerifyStream::push`] brought.
#[derive(Debug, Default)]
pub struct Scored {
    /// The results now due and scored, in time order.
    pub results: Vec<VerifyStreamResult>,
    /// Results due but not scored for want of budget.
    pub skipped: u64,
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
        let keep = (context_seconds.max(window_seconds) * ENGINE_RATE).ceil() as usize;
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
        }
    }

    /// Takes 16 kHz audio, which held `client_samples` samples at the client
    /// rate; returns every result now due.
    ///
    /// Scoring a window costs its length in seconds from `budget`, newest
    /// window first; a window that needs scoring when the budget cannot pay
    /// for it is skipped (and counted), so the work one call may cause is
    /// bounded by the budget. Windows with too little speech cost nothing.
    /// Results come in time order.
    pub fn push(
        &mut self,
        audio: &[f32],
        client_samples: u64,
        budget: &mut f64,
    ) -> Result<Scored, VoiceError> {
        self.history.extend(audio);
        self.new_frames.clear();
        self.vad.push(audio, &mut self.new_frames);
        self.frames.extend(&self.new_frames);
        self.client_samples += client_samples;
        let mut due = Vec::new();
        while let Some(end) = self.due_end(self.next_result) {
            self.next_result += 1;
            due.push(end);
        }
        // The newest windows are paid for first: when the budget runs out,
        // the stale ones are skipped, never the latest.
        let mut scored = Scored::default();
        for &end in due.iter().rev() {
            match self.result_ending_at(end, budget)? {
                Some(result) => scored.results.push(result),
                None => scored.skipped += 1,
            }
        }
        scored.results.reverse();
        self.trim();
        Ok(scored)
    }

    /// Gives back memory that grew for a large push beyond the context kept.
    pub fn shrink_buffers(&mut self) {
        self.history.shrink_to(self.keep);
        let frames = self.keep / API_FRAME_SAMPLES as usize + 1;
        self.frames.shrink_to(frames);
        self.new_frames.clear();
        self.new_frames.shrink_to(frames);
    }

    /// Bytes of audio and frames held now (bounded by the context length).
    pub fn held_samples(&self) -> usize {
        self.history.len()
    }

    /// Client sample at which result `k` ends, if that much audio has arrived.
    fn due_end(&self, k: u64) -> Option<u64> {
        let seconds = self.window_seconds + VERIFY_HOP_SECONDS * k as f64;
        let end = (seconds * f64::from(self.client_rate)).round() as u64;
        (end <= self.client_samples).then_some(end)
    }

    /// The result of the window ending at client sample `end`, or `None` if
    /// it needs scoring and `budget` (seconds) cannot pay for it.
    fn result_ending_at(
        &self,
        end: u64,
        budget: &mut f64,
    ) -> Result<Option<VerifyStreamResult>, VoiceError> {
        let rate = f64::from(self.client_rate);
        let window = (self.window_seconds * rate).round() as u64;
        let start = end.saturating_sub(window);
        let to_engine = |client: u64| (client as f64 * ENGINE_RATE / rate).round() as u64;
        let audio_end = self.history_start + self.history.len() as u64;
        let speech = self.speech_between(to_engine(start), to_engine(end).min(audio_end));
        let verify_result = if speech.len() as f64 >= MIN_VERIFY_SPEECH_SECONDS * ENGINE_RATE {
            if *budget < self.window_seconds {
                return Ok(None);
            }
            *budget -= self.window_seconds;
            let embedding = self.engine.embed_speech(&speech)?;
            MatchResult::from_score(dot(&embedding, &self.template.embedding))
        } else {
            MatchResult::no_speech()
        };
        Ok(Some(VerifyStreamResult {
            audio_interval: AudioInterval::new(start, end, self.client_rate),
            verify_result,
        }))
    }

    /// Samples in `[from, to)` (absolute 16 kHz indices) of decided speech frames.
    fn speech_between(&self, from: u64, to: u64) -> Vec<f32> {
        let frame = API_FRAME_SAMPLES;
        let mut speech = Vec::new();
        for (i, &is_speech) in self.frames.iter().enumerate() {
            let frame_start = (self.frames_start + i as u64) * frame;
            let (lo, hi) = (frame_start.max(from), (frame_start + frame).min(to));
            if is_speech && lo < hi && lo >= self.history_start {
                let offset = (self.history_start) as usize;
                speech.extend(
                    self.history
                        .range(lo as usize - offset..hi as usize - offset),
                );
            }
        }
        speech
    }

    /// Drops audio and frames older than the context length.
    fn trim(&mut self) {
        let excess = self.history.len().saturating_sub(self.keep);
        self.history.drain(..excess);
        self.history_start += excess as u64;
        let first_needed = self.history_start / API_FRAME_SAMPLES;
        let stale = first_needed.saturating_sub(self.frames_start) as usize;
        let stale = stale.min(self.frames.len());
        self.frames.drain(..stale);
        self.frames_start += stale as u64;
    }
}
