//! Speech segments: utterances cut out of a stream, with their audio.
//!
//! The segmenter follows the VAD's 30 ms decisions: a segment opens on the
//! first speech frame and closes when its silence has lasted `redemption`,
//! decided by the same [`EndpointDetector`] as the endpoint stream (no
//! minimum speech, the redemption as its silence). A segment with less than
//! `min_speech` of speech is a misfire. Its audio starts `pre_speech_pad`
//! before the first speech frame and ends with the last frame decided.

use std::collections::VecDeque;

use super::EndpointDetector;
use crate::vad::{API_FRAME_MS, API_FRAME_SAMPLES, ScoredFrame};

/// 16 kHz samples per millisecond.
const SAMPLES_PER_MS: u64 = 16;

/// How segments are cut, in milliseconds (rounded up to whole 30 ms frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOptions {
    /// Silence that ends a segment.
    pub redemption_ms: u32,
    /// Audio kept before the first speech frame.
    pub pre_speech_pad_ms: u32,
    /// Speech a segment needs not to be a misfire.
    pub min_speech_ms: u32,
}

impl Default for SegmentOptions {
    /// The defaults of `@ricky0123/vad-web`: 1400 ms, 800 ms, 400 ms.
    fn default() -> Self {
        Self {
            redemption_ms: 1_400,
            pre_speech_pad_ms: 800,
            min_speech_ms: 400,
        }
    }
}

/// What happened in the stream, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentEvent {
    /// A frame was decided.
    Frame(ScoredFrame),
    /// Speech began; the segment's audio starts at `start_ms` (pad included).
    SpeechStart {
        /// Stream time where the segment's audio starts.
        start_ms: u64,
    },
    /// A segment ended with enough speech.
    SpeechEnd {
        /// Its 16 kHz audio, from `start_ms` to `end_ms`.
        audio: Vec<f32>,
        /// Stream time of the audio's first sample.
        start_ms: u64,
        /// Stream time just after its last sample.
        end_ms: u64,
    },
    /// A segment ended with too little speech.
    Misfire {
        /// Stream time where it started (pad included).
        start_ms: u64,
        /// Stream time where it ended.
        end_ms: u64,
    },
}

/// The segment being heard.
#[derive(Debug, Clone)]
struct OpenSegment {
    start_sample: u64,
    detector: EndpointDetector,
}

/// Cuts a stream of 16 kHz samples and their frame decisions into segments.
///
/// Memory: the pad while no one speaks, the open segment's audio while
/// someone does.
#[derive(Debug, Clone)]
pub struct SpeechSegmenter {
    options: SegmentOptions,
    /// Samples from `buffer_start` on, not yet dropped.
    buffer: Vec<f32>,
    buffer_start: u64,
    /// Frames taken so far.
    frames: u64,
    /// Frames decided before all their samples arrived (the VAD may decide
    /// a frame up to 17 ms before its end): they wait for them.
    early: VecDeque<ScoredFrame>,
    segment: Option<OpenSegment>,
}

impl SpeechSegmenter {
    /// A segmenter at the start of a stream.
    pub fn new(options: SegmentOptions) -> Self {
        Self {
            options,
            buffer: Vec::new(),
            buffer_start: 0,
            frames: 0,
            early: VecDeque::new(),
            segment: None,
        }
    }

    /// Takes the next 16 kHz samples and then the frames decided over the
    /// samples so far; appends the events of every frame whose samples have
    /// all arrived.
    pub fn push(
        &mut self,
        samples: &[f32],
        frames: &[ScoredFrame],
        events: &mut Vec<SegmentEvent>,
    ) {
        self.buffer.extend_from_slice(samples);
        self.early.extend(frames);
        let received = self.buffer_start + self.buffer.len() as u64;
        while (self.frames + 1) * API_FRAME_SAMPLES <= received {
            let Some(frame) = self.early.pop_front() else {
                break;
            };
            self.take_frame(frame, events);
        }
        if self.segment.is_none() {
            self.drop_before(self.pad_start());
        }
    }

    /// Ends the stream: an open segment ends with the last frame taken
    /// (frames still waiting for samples are dropped).
    pub fn finish(&mut self, events: &mut Vec<SegmentEvent>) {
        if let Some(segment) = self.segment.take() {
            self.close(segment, events);
        }
    }

    /// Whether a segment is open.
    pub fn in_speech(&self) -> bool {
        self.segment.is_some()
    }

    fn take_frame(&mut self, frame: ScoredFrame, events: &mut Vec<SegmentEvent>) {
        events.push(SegmentEvent::Frame(frame));
        if self.segment.is_none() && frame.speech {
            let start_sample = self.pad_start().max(self.buffer_start);
            events.push(SegmentEvent::SpeechStart {
                start_ms: start_sample / SAMPLES_PER_MS,
            });
            self.segment = Some(OpenSegment {
                start_sample,
                detector: EndpointDetector::new(0, self.options.redemption_ms, 0),
            });
        }
        self.frames += 1;
        let ended = match &mut self.segment {
            Some(segment) => segment.detector.push(&[frame.speech]),
            None => false,
        };
        if ended {
            let segment = self.segment.take().expect("an open segment ended");
            self.close(segment, events);
        }
    }

    /// Where the pad before the next frame starts.
    fn pad_start(&self) -> u64 {
        let pad = u64::from(self.options.pre_speech_pad_ms) * SAMPLES_PER_MS;
        (self.frames * API_FRAME_SAMPLES).saturating_sub(pad)
    }

    fn close(&mut self, segment: OpenSegment, events: &mut Vec<SegmentEvent>) {
        let end_sample = self.frames * API_FRAME_SAMPLES;
        let (start_ms, end_ms) = (
            segment.start_sample / SAMPLES_PER_MS,
            end_sample / SAMPLES_PER_MS,
        );
        let min_frames = u64::from(self.options.min_speech_ms.div_ceil(API_FRAME_MS));
        if segment.detector.speech_frames() >= min_frames {
            let from = (segment.start_sample - self.buffer_start) as usize;
            let to = (end_sample - self.buffer_start) as usize;
            events.push(SegmentEvent::SpeechEnd {
                audio: self.buffer[from..to].to_vec(),
                start_ms,
                end_ms,
            });
        } else {
            events.push(SegmentEvent::Misfire { start_ms, end_ms });
        }
        self.drop_before(end_sample);
    }

    /// Forgets the samples before `sample`.
    fn drop_before(&mut self, sample: u64) {
        if sample <= self.buffer_start {
            return;
        }
        let count = ((sample - self.buffer_start) as usize).min(self.buffer.len());
        self.buffer.drain(..count);
        self.buffer_start += count as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames from a pattern (`S` speech, `.` silence), each with its
    /// 480 samples valued by its index, so audio bounds can be checked.
    fn run(options: SegmentOptions, pattern: &str) -> (Vec<SegmentEvent>, SpeechSegmenter) {
        let mut segmenter = SpeechSegmenter::new(options);
        let mut events = Vec::new();
        for (index, c) in pattern.chars().filter(|c| !c.is_whitespace()).enumerate() {
            let samples = vec![index as f32; API_FRAME_SAMPLES as usize];
            let speech = c == 'S';
            let frame = ScoredFrame {
                probability: if speech { 0.9 } else { 0.1 },
                speech,
            };
            segmenter.push(&samples, &[frame], &mut events);
        }
        events.retain(|event| !matches!(event, SegmentEvent::Frame(_)));
        (events, segmenter)
    }

    fn options(redemption_ms: u32, pre_speech_pad_ms: u32, min_speech_ms: u32) -> SegmentOptions {
        SegmentOptions {
            redemption_ms,
            pre_speech_pad_ms,
            min_speech_ms,
        }
    }

    #[test]
    fn a_segment_with_its_pad_and_redemption() {
        // Pad 60 ms (2 frames), redemption 90 ms (3 frames), minimum 90 ms.
        let (events, _) = run(options(90, 60, 90), "....SSS.S...  ..");
        assert_eq!(events[0], SegmentEvent::SpeechStart { start_ms: 60 });
        let SegmentEvent::SpeechEnd {
            audio,
            start_ms,
            end_ms,
        } = &events[1]
        else {
            panic!("{events:?}")
        };
        assert_eq!((*start_ms, *end_ms), (60, 360));
        // Frames 2 (pad) to 11 (third silent frame after the last speech).
        assert_eq!(audio.len(), 10 * 480);
        assert_eq!(audio[0], 2.0);
        assert_eq!(*audio.last().unwrap(), 11.0);
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn too_little_speech_is_a_misfire() {
        let (events, _) = run(options(60, 0, 120), "..SS..SSSS..");
        assert_eq!(
            events,
            vec![
                SegmentEvent::SpeechStart { start_ms: 60 },
                SegmentEvent::Misfire {
                    start_ms: 60,
                    end_ms: 180
                },
                SegmentEvent::SpeechStart { start_ms: 180 },
                SegmentEvent::SpeechEnd {
                    audio: (6..12).flat_map(|i| vec![i as f32; 480]).collect(),
                    start_ms: 180,
                    end_ms: 360
                },
            ]
        );
    }

    #[test]
    fn speech_within_the_redemption_keeps_the_segment_open() {
        let (events, segmenter) = run(options(90, 0, 0), "SS..S..S..");
        assert_eq!(events, vec![SegmentEvent::SpeechStart { start_ms: 0 }]);
        assert!(segmenter.in_speech());
    }

    #[test]
    fn the_pad_never_reaches_before_the_stream() {
        let (events, _) = run(options(30, 800, 0), ".S.");
        assert_eq!(events[0], SegmentEvent::SpeechStart { start_ms: 0 });
        assert!(matches!(
            events[1],
            SegmentEvent::SpeechEnd { ref audio, start_ms: 0, end_ms: 90 } if audio.len() == 3 * 480
        ));
    }

    #[test]
    fn finish_ends_an_open_segment() {
        let (_, mut segmenter) = run(options(1_000, 0, 30), "..SSS");
        let mut events = Vec::new();
        segmenter.finish(&mut events);
        assert!(matches!(
            events[..],
            [SegmentEvent::SpeechEnd {
                start_ms: 60,
                end_ms: 150,
                ..
            }]
        ));
        assert!(!segmenter.in_speech());
    }

    #[test]
    fn memory_stays_at_the_pad_between_segments() {
        let pattern = ".".repeat(10_000);
        let (_, segmenter) = run(options(90, 300, 0), &pattern);
        assert!(
            segmenter.buffer.len() <= 300 * 16,
            "{}",
            segmenter.buffer.len()
        );
    }
}
