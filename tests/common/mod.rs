//! Fixtures shared by the integration tests (native and wasm): audio and
//! reference outputs embedded at compile time, so tests need no file system.
#![allow(dead_code)]

use serde::Deserialize;
use voiceport::vad::SileroModel;

/// Bytes of the VAD model shipped in `models/`.
pub const SILERO_MODEL: &[u8] = include_bytes!("../../models/silero_vad_openvino_16k.onnx");

/// Bytes of the speaker model shipped in `models/` (f16 weights).
pub const CAMPPLUS_MODEL: &[u8] = include_bytes!("../../models/campplus_zh_en_common.f16w.onnx");

/// The voice engine over the shipped models.
pub fn voice_engine() -> voiceport::voice::VoiceEngine {
    let speaker = voiceport::voice::CamPlusModel::from_bytes(CAMPPLUS_MODEL).expect("CAM++");
    voiceport::voice::VoiceEngine::new(silero(), speaker)
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// A LibriSpeech utterance (16 kHz FLAC) and its onnxruntime reference outputs.
pub struct Fixture {
    /// FLAC bytes of the utterance.
    pub flac: &'static [u8],
    /// Reference JSON text.
    pub reference: &'static str,
}

/// Speaker 1034, 7.9 s.
pub const UTTERANCE_1034: Fixture = Fixture {
    flac: include_bytes!("../data/librispeech/1034-121119-0000.flac"),
    reference: include_str!("../data/reference/1034-121119-0000.json"),
};

/// Speaker 103, 14.1 s.
pub const UTTERANCE_103: Fixture = Fixture {
    flac: include_bytes!("../data/librispeech/103-1240-0000.flac"),
    reference: include_str!("../data/reference/103-1240-0000.json"),
};

/// Five LibriVox utterances joined by silence gaps (16 kHz WAV).
pub const LIBRIVOX_GAPS_WAV: &[u8] = include_bytes!("../data/librivox/librivox_concat_gaps.wav");
/// Reference outputs for [`LIBRIVOX_GAPS_WAV`].
pub const LIBRIVOX_GAPS_REFERENCE: &str =
    include_str!("../data/reference/librivox_concat_gaps.json");
/// Speech spans of [`LIBRIVOX_GAPS_WAV`].
pub const LIBRIVOX_GAPS_LABELS: &str =
    include_str!("../data/librivox/librivox_concat_gaps_labels.json");

/// Reference outputs computed with onnxruntime on the original models.
#[derive(Deserialize)]
pub struct Reference {
    /// Sample count of the source audio.
    pub samples: usize,
    /// Speech probability per 512-sample frame.
    pub vad_probs: Vec<f32>,
    /// CAM++ embedding of the whole file.
    pub campplus_embedding: Vec<f32>,
    /// Kaldi fbank [T][80], when stored.
    #[serde(default)]
    pub fbank: Vec<Vec<f32>>,
    /// Fbank after per-utterance mean subtraction, when stored.
    #[serde(default)]
    pub cmn_fbank: Vec<Vec<f32>>,
}

/// Parses a reference JSON.
pub fn reference(text: &str) -> Reference {
    serde_json::from_str(text).expect("reference JSON")
}

/// Decodes a 16-bit mono FLAC to samples in −1..1.
pub fn flac_samples(bytes: &[u8]) -> Vec<f32> {
    flac_pcm16(bytes)
        .into_iter()
        .map(|s| f32::from(s) / 32768.0)
        .collect()
}

/// Decodes a 16-bit FLAC file to its PCM16 samples.
pub fn flac_pcm16(bytes: &[u8]) -> Vec<i16> {
    let mut reader = claxon::FlacReader::new(bytes).expect("FLAC");
    assert_eq!(reader.streaminfo().bits_per_sample, 16);
    reader
        .samples()
        .map(|s| i16::try_from(s.expect("FLAC sample")).expect("16-bit sample"))
        .collect()
}

/// Decodes a WAV to samples in −1..1 (with its rate).
pub fn wav_samples(bytes: &[u8]) -> (Vec<f32>, u32) {
    let rec = voiceport::audio::decode_wav(bytes).expect("WAV");
    (rec.samples, rec.sample_rate)
}

/// Encodes samples in −1..1 as little-endian PCM16 bytes.
#[allow(unused_imports)] // not every test binary encodes PCM
pub use voiceport::audio::encode_pcm16 as pcm16_bytes;

/// A 16-bit WAV of samples in −1..1 at `rate`, each sample on every one of `channels`.
pub fn wav_bytes(samples: &[f32], rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for s in samples {
        let v = voiceport::audio::sample_to_i16(*s);
        for _ in 0..channels {
            writer.write_sample(v).unwrap();
        }
    }
    writer.finalize().unwrap();
    cursor.into_inner()
}

/// The shipped VAD model, planned.
pub fn silero() -> SileroModel {
    SileroModel::from_bytes(SILERO_MODEL).expect("VAD model")
}

/// Largest absolute difference between our probabilities and the reference,
/// and how many frames flip their decision at 0.5.
pub fn compare_probs(ours: &[f32], reference: &[f32]) -> (f32, usize) {
    assert_eq!(ours.len(), reference.len(), "frame count");
    let max_diff = ours
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let flips = ours
        .iter()
        .zip(reference)
        .filter(|(a, b)| (**a >= 0.5) != (**b >= 0.5))
        .count();
    (max_diff, flips)
}

/// Runs the whole file through a fresh VAD stream in one call, the last
/// partial frame padded with zeros (as the reference tool does).
pub fn vad_probs(model: &SileroModel, samples: &[f32]) -> Vec<f32> {
    let mut padded = samples.to_vec();
    padded.resize(samples.len().div_ceil(512) * 512, 0.0);
    let mut probs = Vec::new();
    model.stream().push(&padded, &mut probs);
    probs
}

#[cfg(not(target_arch = "wasm32"))]
pub mod socket;

/// Resamples 16 kHz samples to `rate` (test fixtures for other client rates).
#[cfg(not(target_arch = "wasm32"))]
pub fn resample_from_16k(samples: &[f32], rate: u32) -> Vec<f32> {
    use audioadapter_buffers::direct::SequentialSliceOfVecs;
    use rubato::{Fft, FixedSync, Resampler};
    if rate == 16_000 {
        return samples.to_vec();
    }
    let mut resampler =
        Fft::<f32>::new(16_000, rate as usize, 1600, 1, FixedSync::Input).expect("resampler");
    let input = vec![samples.to_vec()];
    let input = SequentialSliceOfVecs::new(&input, 1, samples.len()).unwrap();
    let output = resampler
        .process_all(&input, samples.len(), None)
        .expect("resample");
    let out = output.take_data();
    let expected = (samples.len() as u64 * u64::from(rate) / 16_000) as usize;
    out[..expected.min(out.len())].to_vec()
}

/// Speech spans (seconds) of the LibriVox gaps file, and its duration.
pub fn librivox_spans() -> (Vec<(f64, f64)>, f64) {
    let labels: serde_json::Value = serde_json::from_str(LIBRIVOX_GAPS_LABELS).unwrap();
    let spans = labels["speech"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect();
    (spans, labels["duration"].as_f64().unwrap())
}
