//! From 16 kHz audio to a speaker embedding: VAD → fbank → CAM++ windows.

use std::sync::Arc;

use super::template::normalized;
use super::{
    Band, CamPlusModel, FBANK_BINS, Fbank, Features, FrameStatistics, FrontEndColumns,
    TemplateModel, VoiceError, VoiceTemplate,
};
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

/// What templates used with this build's speaker model must have been made by.
pub const SPEAKER_MODEL: TemplateModel = TemplateModel {
    id: SPEAKER_MODEL_ID,
    dimension: super::EMBEDDING_DIM,
};

/// What a part of a stream's speech run through the speaker network
/// ([`VoiceEngine::speech_statistics`]) leaves for the part after it.
#[derive(Debug, Clone)]
pub struct SpeechPart {
    /// The front end's output over its speech.
    front_end: FrontEndColumns,
    /// Samples of speech the front end's output covers, to its end.
    samples: usize,
}

impl SpeechPart {
    /// Keeps the front end's output over no more than about the last
    /// `samples` of the speech (whole frames, one more than they cover):
    /// what a next part with that much context can reuse.
    pub fn keep_last(&mut self, samples: usize) {
        let surplus = (self.samples.saturating_sub(samples) / super::FRAME_SHIFT).saturating_sub(1);
        let dropped = self.front_end.drop_first(surplus);
        self.samples -= dropped * super::FRAME_SHIFT;
    }
}

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

    /// The engine with its verify streams' parts computed exactly
    /// ([`CamPlusModel::with_exact_streams`]).
    pub fn with_exact_streams(self) -> Self {
        Self {
            speaker: self.speaker.with_exact_streams(),
            ..self
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
        let features = self.normalized_features(self.fbank.compute(speech), speech.len())?;
        let mut sum = EmbeddingSum::default();
        for index in 0..window_count(&features) {
            sum.add(&self.embed_window(&embedding_window(&features, index))?);
        }
        sum.finish()
    }

    /// The speaker network's frame statistics of the last `new_samples` of
    /// `speech` (16 kHz, free of silence), the samples before them heard as
    /// context: the network runs over all of it, features normalised by
    /// their joint mean, and only the frames of the new samples are kept.
    /// Merged over the parts of a stream and given to
    /// [`Self::embed_statistics`], they embed the stream's speech without
    /// running the network over any of it twice (an approximation of
    /// [`Self::embed_speech`] of the whole: cosine ≈ 0.95 on 3 s windows).
    ///
    /// `previous` is the part made just before, if the context ends where its
    /// speech ended: the front end's output over the speech both hold is
    /// taken from it (see [`CamPlusModel::frame_statistics`]) and only the
    /// new samples and the edge of the old ones go through the front end.
    /// Returns the statistics and what this part leaves for the next one.
    pub fn speech_statistics(
        &self,
        speech: &[f32],
        new_samples: usize,
        previous: Option<&SpeechPart>,
    ) -> Result<(FrameStatistics, SpeechPart), VoiceError> {
        let features = self.normalized_features(self.fbank.compute(speech), speech.len())?;
        let shift = super::FRAME_SHIFT;
        let new_frames = new_samples.div_ceil(shift);
        let context = speech.len() - new_samples;
        // The part before's frame starting nearest to this part's start (its
        // frame grid is up to half a frame off this one's).
        let earlier = previous
            .filter(|previous| context <= previous.samples)
            .map(|previous| {
                let first = (previous.samples - context + shift / 2) / shift;
                (&previous.front_end, first)
            });
        let (statistics, front_end) = self
            .speaker
            .frame_statistics(&features, new_frames, earlier)?;
        let part = SpeechPart {
            front_end,
            samples: speech.len(),
        };
        Ok((statistics, part))
    }

    /// The unit embedding of merged [`Self::speech_statistics`].
    pub fn embed_statistics(&self, statistics: &FrameStatistics) -> Result<Vec<f32>, VoiceError> {
        Ok(normalized(&self.speaker.embed_statistics(statistics)?)?)
    }

    /// The fbank front end, for work that computes features a part at a time.
    pub fn fbank(&self) -> &Fbank {
        &self.fbank
    }

    /// Checks and normalises the features of `samples` speech samples for
    /// embedding: at least one frame, the mean of each bin subtracted.
    pub fn normalized_features(
        &self,
        mut features: Features,
        samples: usize,
    ) -> Result<Features, VoiceError> {
        if features.frames() == 0 {
            return Err(VoiceError::NotEnoughSpeech {
                found: samples as f32 / 16_000.0,
                needed: MIN_ENROLL_SPEECH_SECONDS,
            });
        }
        features.subtract_mean();
        Ok(features)
    }

    /// The unit embedding of one window of [`WINDOW_FRAMES`] frames.
    pub fn embed_window(&self, window: &Features) -> Result<Vec<f32>, VoiceError> {
        Ok(normalized(&self.speaker.embed(window)?)?)
    }

    /// An enrollment template from a recording at 16 kHz that reached the
    /// engine in `band` (see [`Band::of_rate`]).
    pub fn template(&self, samples: &[f32], band: Band) -> Result<VoiceTemplate, VoiceError> {
        let speech = self.speech_of(samples)?;
        let seconds = enrollment_seconds(&speech)?;
        let embedding = self.embed_speech(&speech)?;
        Ok(VoiceTemplate::new(
            SPEAKER_MODEL_ID,
            seconds,
            band,
            &embedding,
        )?)
    }
}

/// The seconds of `speech` (16 kHz), if enough for an enrollment template.
pub fn enrollment_seconds(speech: &[f32]) -> Result<f32, VoiceError> {
    let seconds = speech.len() as f32 / 16_000.0;
    if seconds < MIN_ENROLL_SPEECH_SECONDS {
        return Err(VoiceError::NotEnoughSpeech {
            found: seconds,
            needed: MIN_ENROLL_SPEECH_SECONDS,
        });
    }
    Ok(seconds)
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

/// The sum of window embeddings that makes a speech embedding.
#[derive(Debug, Clone)]
pub struct EmbeddingSum(Vec<f32>);

impl Default for EmbeddingSum {
    fn default() -> Self {
        Self(vec![0.0; super::EMBEDDING_DIM])
    }
}

impl EmbeddingSum {
    /// Adds one window's unit embedding.
    pub fn add(&mut self, embedding: &[f32]) {
        for (s, v) in self.0.iter_mut().zip(embedding) {
            *s += v;
        }
    }

    /// The unit embedding of all windows added.
    pub fn finish(&self) -> Result<Vec<f32>, VoiceError> {
        Ok(normalized(&self.0)?)
    }
}

/// Cuts or tiles features into windows of the [`WINDOW_FRAMES`] lengths.
pub fn embedding_windows(features: &Features) -> Vec<Features> {
    (0..window_count(features))
        .map(|index| embedding_window(features, index))
        .collect()
}

/// How many windows [`embedding_windows`] makes of `features`.
pub fn window_count(features: &Features) -> usize {
    let longest = WINDOW_FRAMES[WINDOW_FRAMES.len() - 1];
    features.frames().div_ceil(longest).max(1)
}

/// Window `index` of [`embedding_windows`]: the whole speech tiled up to the
/// next window length, or one of the evenly spread longest windows.
pub fn embedding_window(features: &Features, index: usize) -> Features {
    let frames = features.frames();
    let longest = WINDOW_FRAMES[WINDOW_FRAMES.len() - 1];
    if let Some(&length) = WINDOW_FRAMES.iter().find(|&&l| l >= frames) {
        let values = (0..length)
            .flat_map(|t| features.frame(t % frames).iter().copied())
            .collect();
        return Features { values };
    }
    let count = window_count(features);
    let start = (frames - longest) * index / (count - 1);
    let range = start * FBANK_BINS..(start + longest) * FBANK_BINS;
    Features {
        values: features.values[range].to_vec(),
    }
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
