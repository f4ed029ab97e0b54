//! From 16 kHz audio to a speaker embedding: VAD → fbank → CAM++ windows.

use std::sync::Arc;

use super::template::normalized;
use super::{CamPlusModel, FBANK_BINS, Fbank, Features, VoiceError, VoiceTemplate};
use crate::vad::{API_FRAME_SAMPLES, SileroModel, frame_decisions};

/// Input lengths (10 ms frames) speech is embedded at: 1.5, 3 and 6 s.
///
/// Speech of up to 6 s is tiled up to the next window length; longer speech
/// is covered by evenly spread 6 s windows whose unit embeddings are
/// averaged. Fixed lengths keep embeddings (and the score calibration)
/// independent of how much speech a template or window happens to hold.
pub const WINDOW_FRAMES: [usize; 3] = [150, 300, 600];

/// Least speech for an enrollment template, in seconds.
pub const MIN_ENROLL_SPEECH_SECONDS: f32 = 1.0;

/// Speaker model id written into templates.
pub const SPEAKER_MODEL_ID: &str = "campplus-zh-en-common-192";

/// Everything needed to turn audio into a speaker embedding; cheap to clone.
#[derive(Clone)]
pub struct VoiceEngine {
    vad: SileroModel,
    speaker: CamPlusModel,
    fbank: Arc<Fbank>,
}

impl VoiceEngine {
    /// An engine over shared VAD and speaker models.
    pub fn new(vad: SileroModel, speaker: CamPlusModel) -> Self {
        Self {
            vad,
            speaker,
            fbank: Arc::new(Fbank::new()),
        }
    }

    /// The VAD model.
    pub fn vad(&self) -> &SileroModel {
        &self.vad
    }

    /// The speaker model (for exact-length runs in parity checks).
    pub fn speaker(&self) -> &CamPlusModel {
        &self.speaker
    }

    /// The speech of a 16 kHz recording, silence removed by the VAD.
    pub fn speech_of(&self, samples: &[f32]) -> Result<Vec<f32>, VoiceError> {
        let decisions = frame_decisions(&self.vad, samples);
        Ok(select_speech(samples, &decisions))
    }

    /// Unit embedding of 16 kHz speech (already free of silence).
    pub fn embed_speech(&self, speech: &[f32]) -> Result<Vec<f32>, VoiceError> {
        let mut features = self.fbank.compute(speech);
        if features.frames() == 0 {
            return Err(VoiceError::NotEnoughSpeech {
                found: speech.len() as f32 / 16_000.0,
                needed: MIN_ENROLL_SPEECH_SECONDS,
            });
        }
        features.subtract_mean();
        let mut sum = vec![0.0f32; super::EMBEDDING_DIM];
        for window in embedding_windows(&features) {
            let embedding = normalized(&self.speaker.embed(&window)?)?;
            for (s, v) in sum.iter_mut().zip(embedding) {
                *s += v;
            }
        }
        Ok(normalized(&sum)?)
    }

    /// An enrollment template from a 16 kHz recording.
    pub fn template(&self, samples: &[f32]) -> Result<VoiceTemplate, VoiceError> {
        let speech = self.speech_of(samples)?;
        let seconds = speech.len() as f32 / 16_000.0;
        if seconds < MIN_ENROLL_SPEECH_SECONDS {
            return Err(VoiceError::NotEnoughSpeech {
                found: seconds,
                needed: MIN_ENROLL_SPEECH_SECONDS,
            });
        }
        let embedding = self.embed_speech(&speech)?;
        Ok(VoiceTemplate::new(SPEAKER_MODEL_ID, seconds, &embedding)?)
    }
}

/// The samples of the 30 ms frames decided as speech.
pub fn select_speech(samples: &[f32], decisions: &[bool]) -> Vec<f32> {
    let frame = API_FRAME_SAMPLES as usize;
    decisions
        .iter()
        .zip(samples.chunks(frame))
        .filter(|(speech, _)| **speech)
        .flat_map(|(_, chunk)| chunk.iter().copied())
        .collect()
}

/// Cuts or tiles features into windows of the [`WINDOW_FRAMES`] lengths.
pub fn embedding_windows(features: &Features) -> Vec<Features> {
    let frames = features.frames();
    let longest = WINDOW_FRAMES[WINDOW_FRAMES.len() - 1];
    if let Some(&length) = WINDOW_FRAMES.iter().find(|&&l| l >= frames) {
        let values = (0..length)
            .flat_map(|t| features.frame(t % frames).iter().copied())
            .collect();
        return vec![Features { values }];
    }
    let count = frames.div_ceil(longest);
    (0..count)
        .map(|i| {
            let start = (frames - longest) * i / (count - 1);
            let range = start * FBANK_BINS..(start + longest) * FBANK_BINS;
            Features {
                values: features.values[range].to_vec(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(frames: usize) -> Features {
        Features {
            values: (0..frames * FBANK_BINS).map(|v| v as f32).collect(),
        }
    }

    #[test]
    fn short_speech_is_tiled_to_the_next_window_length() {
        let windows = embedding_windows(&features(100));
        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].frames(), 150);
        assert_eq!(windows[0].frame(100), features(100).frame(0));
        assert_eq!(embedding_windows(&features(300))[0], features(300));
    }

    #[test]
    fn long_speech_is_covered_by_spread_windows() {
        let f = features(1300);
        let windows = embedding_windows(&f);
        assert_eq!(windows.len(), 3);
        assert!(windows.iter().all(|w| w.frames() == 600));
        assert_eq!(windows[0].frame(0), f.frame(0));
        assert_eq!(windows[2].frame(599), f.frame(1299));
    }

    #[test]
    fn speech_selection_follows_the_decisions() {
        let samples: Vec<f32> = (0..1500).map(|i| i as f32).collect();
        let speech = select_speech(&samples, &[false, true, false]);
        assert_eq!(speech, samples[480..960].to_vec());
    }
}
