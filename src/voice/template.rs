//! Voice templates: a versioned, checksummed binary format, base64 on the wire.
//!
//! Layout (little-endian), version 2:
//! `"VPVT"` magic · u16 version · u8 model-id length · model id (UTF-8) ·
//! u16 dimension · f32 speech seconds · u8 band (0 wide, 1 narrow) ·
//! dimension × f32 unit embedding · u32 CRC-32 of everything before it.
//!
//! Version 1 (before templates recorded their band) is the same without the
//! band byte; it is still read, as a wide-band template: every client of
//! that time was scored as one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use thiserror::Error;

use super::Band;
use super::bytes::{ByteReader, Truncated};

const MAGIC: &[u8; 4] = b"VPVT";
/// The format version written by this build.
pub const TEMPLATE_VERSION: u16 = 2;

/// The first format version, still read (without a band: wide).
const TEMPLATE_VERSION_WITHOUT_BAND: u16 = 1;

/// Most speech a template may stand for, in seconds (about 278 hours): more
/// is no enrollment but a forged or overflowing length.
pub const MAX_TEMPLATE_SPEECH_SECONDS: f32 = 1.0e6;

/// What a template must have been made by to be used: a model and the
/// dimension of its embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateModel {
    /// The model's identifier, written into its templates.
    pub id: &'static str,
    /// The dimension of the model's embeddings.
    pub dimension: usize,
}

/// Why a template was rejected.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TemplateError {
    /// Not base64 text.
    #[error("template is not valid base64: {0}")]
    NotBase64(String),
    /// Does not start with the template magic.
    #[error("not a voiceport voice template (bad magic)")]
    BadMagic,
    /// Written by a newer or unknown format version.
    #[error("unsupported template version {0} (this build reads versions 1 to {TEMPLATE_VERSION})")]
    UnsupportedVersion(u16),
    /// Shorter than its header says.
    #[error("template is truncated")]
    Truncated,
    /// Longer than its header says.
    #[error("template has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A band code no version of the format has.
    #[error("template has an unknown band code {0}")]
    UnknownBand(u8),
    /// The checksum does not match the content.
    #[error("template is corrupted (checksum mismatch)")]
    Corrupted,
    /// Made with a different speaker model.
    #[error("template was made by model `{found}`, this server uses `{expected}`")]
    ForeignModel {
        /// Model of the template.
        found: String,
        /// Model in use.
        expected: String,
    },
    /// Values that cannot be an embedding (non-finite, zero, wrong size).
    #[error("template holds an invalid embedding: {0}")]
    InvalidEmbedding(String),
    /// The embedding's dimension is not the model's.
    #[error("template has {found} embedding values, the model makes {expected}")]
    WrongDimension {
        /// Dimension of the template.
        found: usize,
        /// Dimension of the model's embeddings.
        expected: usize,
    },
    /// A speech length that no enrollment has (negative, non-finite, huge).
    #[error(
        "template speech length {0} s is invalid (0 to {MAX_TEMPLATE_SPEECH_SECONDS} s expected)"
    )]
    InvalidSpeechLength(f64),
    /// Merge asked for no templates.
    #[error("no templates to merge")]
    NothingToMerge,
}

/// A speaker's voice: unit embedding plus how much speech it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceTemplate {
    /// Identifier of the model that made the embedding.
    pub model_id: String,
    /// Seconds of speech the embedding was computed from.
    pub speech_seconds: f32,
    /// The band the speech was heard in.
    pub band: Band,
    /// L2-normalized embedding.
    pub embedding: Vec<f32>,
}

impl VoiceTemplate {
    /// A template from a raw embedding (normalized here) of speech heard in
    /// `band`; the speech length must be within 0..=[`MAX_TEMPLATE_SPEECH_SECONDS`].
    pub fn new(
        model_id: &str,
        speech_seconds: f32,
        band: Band,
        embedding: &[f32],
    ) -> Result<Self, TemplateError> {
        if !(0.0..=MAX_TEMPLATE_SPEECH_SECONDS).contains(&speech_seconds) {
            return Err(TemplateError::InvalidSpeechLength(speech_seconds.into()));
        }
        Ok(Self {
            model_id: model_id.to_string(),
            speech_seconds,
            band,
            embedding: normalized(embedding)?,
        })
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = self.model_id.as_bytes();
        let id_len = u8::try_from(id.len()).expect("model ids are short");
        let dim = u16::try_from(self.embedding.len()).expect("embedding dimension fits u16");
        let mut out = Vec::with_capacity(17 + id.len() + 4 * self.embedding.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&TEMPLATE_VERSION.to_le_bytes());
        out.push(id_len);
        out.extend_from_slice(id);
        out.extend_from_slice(&dim.to_le_bytes());
        out.extend_from_slice(&self.speech_seconds.to_le_bytes());
        out.push(self.band.code());
        for v in &self.embedding {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&crc32fast::hash(&out).to_le_bytes());
        out
    }

    /// Reads the binary form, checking magic, version, length and checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TemplateError> {
        let mut reader = ByteReader::new(bytes);
        if reader.take(4).map_err(|_| TemplateError::BadMagic)? != MAGIC {
            return Err(TemplateError::BadMagic);
        }
        let version = reader.u16()?;
        if !(TEMPLATE_VERSION_WITHOUT_BAND..=TEMPLATE_VERSION).contains(&version) {
            return Err(TemplateError::UnsupportedVersion(version));
        }
        let model_id = String::from_utf8(reader.short_bytes()?.to_vec())
            .map_err(|_| TemplateError::Corrupted)?;
        let dim = usize::from(reader.u16()?);
        let speech_seconds = reader.f32()?;
        let band = if version == TEMPLATE_VERSION_WITHOUT_BAND {
            Band::Wide
        } else {
            let code = reader.u8()?;
            Band::from_code(code).ok_or(TemplateError::UnknownBand(code))?
        };
        let embedding = (0..dim)
            .map(|_| reader.f32())
            .collect::<Result<Vec<_>, _>>()?;
        let content_len = reader.position();
        let checksum = reader.u32()?;
        if reader.remaining() != 0 {
            return Err(TemplateError::TrailingBytes(reader.remaining()));
        }
        if crc32fast::hash(&bytes[..content_len]) != checksum {
            return Err(TemplateError::Corrupted);
        }
        Self::new(&model_id, speech_seconds, band, &embedding)
    }

    /// The base64 text form.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.to_bytes())
    }

    /// Reads the base64 text form (surrounding whitespace and JSON string
    /// quotes allowed) and checks it was made by `expected` (model id and
    /// embedding dimension).
    pub fn from_base64(text: &str, expected: TemplateModel) -> Result<Self, TemplateError> {
        let text = text.trim();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text)
            .trim();
        let bytes = BASE64
            .decode(text)
            .map_err(|e| TemplateError::NotBase64(e.to_string()))?;
        let template = Self::from_bytes(&bytes)?;
        if template.model_id != expected.id {
            return Err(TemplateError::ForeignModel {
                found: template.model_id,
                expected: expected.id.to_string(),
            });
        }
        if template.embedding.len() != expected.dimension {
            return Err(TemplateError::WrongDimension {
                found: template.embedding.len(),
                expected: expected.dimension,
            });
        }
        Ok(template)
    }

    /// Merges templates of one speaker: the speech-length-weighted mean of
    /// their unit embeddings, normalized. All must come from one model. The
    /// merged template's band is the one most of the speech was heard in
    /// (wide on a tie).
    pub fn merge(templates: &[VoiceTemplate]) -> Result<Self, TemplateError> {
        let first = templates.first().ok_or(TemplateError::NothingToMerge)?;
        let mut sum = vec![0.0f64; first.embedding.len()];
        for t in templates {
            if t.model_id != first.model_id {
                return Err(TemplateError::ForeignModel {
                    found: t.model_id.clone(),
                    expected: first.model_id.clone(),
                });
            }
            if t.embedding.len() != sum.len() {
                return Err(TemplateError::InvalidEmbedding("dimensions differ".into()));
            }
            // Weight ≥ a tiny floor so zero-length templates still count.
            let weight = f64::from(t.speech_seconds.max(1e-3));
            for (s, v) in sum.iter_mut().zip(&t.embedding) {
                *s += weight * f64::from(*v);
            }
        }
        let merged: Vec<f32> = sum.iter().map(|v| *v as f32).collect();
        let speech: f64 = templates.iter().map(|t| f64::from(t.speech_seconds)).sum();
        if speech > f64::from(MAX_TEMPLATE_SPEECH_SECONDS) {
            return Err(TemplateError::InvalidSpeechLength(speech));
        }
        let narrow: f64 = templates
            .iter()
            .filter(|t| t.band == Band::Narrow)
            .map(|t| f64::from(t.speech_seconds))
            .sum();
        let band = if narrow > speech - narrow {
            Band::Narrow
        } else {
            Band::Wide
        };
        Self::new(&first.model_id, speech as f32, band, &merged)
    }

    /// Checks that `other` was made by the same model, with embeddings of
    /// the same dimension, so that the two can be compared.
    pub fn check_comparable(&self, other: &VoiceTemplate) -> Result<(), TemplateError> {
        if self.model_id != other.model_id {
            return Err(TemplateError::ForeignModel {
                found: other.model_id.clone(),
                expected: self.model_id.clone(),
            });
        }
        if self.embedding.len() != other.embedding.len() {
            return Err(TemplateError::InvalidEmbedding("dimensions differ".into()));
        }
        Ok(())
    }
}

/// Dot product (the cosine of two unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `v / |v|`, rejecting empty, non-finite and zero vectors.
pub fn normalized(v: &[f32]) -> Result<Vec<f32>, TemplateError> {
    if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
        return Err(TemplateError::InvalidEmbedding(
            "empty or non-finite values".into(),
        ));
    }
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if norm < 1e-12 {
        return Err(TemplateError::InvalidEmbedding("zero vector".into()));
    }
    Ok(v.iter().map(|x| (f64::from(*x) / norm) as f32).collect())
}

impl From<Truncated> for TemplateError {
    fn from(_: Truncated) -> Self {
        TemplateError::Truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL_A: TemplateModel = TemplateModel {
        id: "model-a",
        dimension: 192,
    };

    fn sample() -> VoiceTemplate {
        let embedding: Vec<f32> = (0..192).map(|i| (i as f32 * 0.37).sin()).collect();
        VoiceTemplate::new("model-a", 4.5, Band::Wide, &embedding).unwrap()
    }

    #[test]
    fn round_trips_through_base64() {
        let t = sample();
        let text = t.to_base64();
        assert_eq!(VoiceTemplate::from_base64(&text, MODEL_A).unwrap(), t);
        let quoted = format!(" \"{text}\"\n");
        assert_eq!(VoiceTemplate::from_base64(&quoted, MODEL_A).unwrap(), t);
    }

    #[test]
    fn rejects_foreign_truncated_corrupted_and_future_templates() {
        let t = sample();
        let bytes = t.to_bytes();
        let b64 = |b: &[u8]| BASE64.encode(b);
        assert!(matches!(
            VoiceTemplate::from_base64(
                &t.to_base64(),
                TemplateModel {
                    id: "model-b",
                    ..MODEL_A
                }
            ),
            Err(TemplateError::ForeignModel { .. })
        ));
        for cut in [0, 3, 10, bytes.len() - 1] {
            let r = VoiceTemplate::from_bytes(&bytes[..cut]);
            assert!(r.is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[40] ^= 0x10;
        assert_eq!(
            VoiceTemplate::from_bytes(&flipped),
            Err(TemplateError::Corrupted)
        );
        let mut future = bytes.clone();
        future[4] = 3;
        assert_eq!(
            VoiceTemplate::from_bytes(&future),
            Err(TemplateError::UnsupportedVersion(3))
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            VoiceTemplate::from_bytes(&longer),
            Err(TemplateError::TrailingBytes(1))
        );
        assert!(matches!(
            VoiceTemplate::from_base64("not base64!", MODEL_A),
            Err(TemplateError::NotBase64(_))
        ));
        assert_eq!(
            VoiceTemplate::from_base64(&b64(b"RIFF...."), MODEL_A),
            Err(TemplateError::BadMagic)
        );
    }

    /// The version 1 bytes of `template`, written as builds before the
    /// band wrote them.
    fn version_1_bytes(template: &VoiceTemplate) -> Vec<u8> {
        let mut bytes = template.to_bytes();
        bytes.truncate(bytes.len() - 4);
        bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
        let band_at = 4 + 2 + 1 + template.model_id.len() + 2 + 4;
        bytes.remove(band_at);
        let checksum = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    #[test]
    fn templates_record_their_band_and_version_1_reads_as_wide() {
        let narrow = VoiceTemplate {
            band: Band::Narrow,
            ..sample()
        };
        let read = VoiceTemplate::from_bytes(&narrow.to_bytes()).unwrap();
        assert_eq!(read, narrow);
        let old = VoiceTemplate::from_bytes(&version_1_bytes(&narrow)).unwrap();
        assert_eq!(old.band, Band::Wide);
        assert_eq!(old.embedding, narrow.embedding);
        assert_eq!(old.speech_seconds, narrow.speech_seconds);
    }

    #[test]
    fn an_unknown_band_code_is_rejected() {
        let mut bytes = sample().to_bytes();
        let band_at = 4 + 2 + 1 + "model-a".len() + 2 + 4;
        bytes[band_at] = 7;
        let content = bytes.len() - 4;
        let checksum = crc32fast::hash(&bytes[..content]);
        bytes[content..].copy_from_slice(&checksum.to_le_bytes());
        assert_eq!(
            VoiceTemplate::from_bytes(&bytes),
            Err(TemplateError::UnknownBand(7))
        );
    }

    #[test]
    fn a_merged_template_takes_the_band_of_most_of_its_speech() {
        let wide = VoiceTemplate::new("m", 3.0, Band::Wide, &[1.0, 0.0]).unwrap();
        let narrow = VoiceTemplate::new("m", 2.0, Band::Narrow, &[0.0, 1.0]).unwrap();
        let longer_narrow = VoiceTemplate::new("m", 4.0, Band::Narrow, &[0.0, 1.0]).unwrap();
        let merged = |ts: &[VoiceTemplate]| VoiceTemplate::merge(ts).unwrap().band;
        assert_eq!(merged(&[wide.clone(), narrow.clone()]), Band::Wide);
        assert_eq!(merged(&[wide.clone(), longer_narrow]), Band::Narrow);
        assert_eq!(merged(&[narrow.clone(), narrow]), Band::Narrow);
        assert_eq!(merged(&[wide.clone(), wide]), Band::Wide);
    }

    #[test]
    fn merge_weights_by_speech_length() {
        let a = VoiceTemplate::new("m", 3.0, Band::Wide, &[1.0, 0.0]).unwrap();
        let b = VoiceTemplate::new("m", 1.0, Band::Wide, &[0.0, 1.0]).unwrap();
        let merged = VoiceTemplate::merge(&[a.clone(), b]).unwrap();
        assert!((merged.embedding[0] / merged.embedding[1] - 3.0).abs() < 1e-5);
        assert_eq!(merged.speech_seconds, 4.0);
        let other = VoiceTemplate::new("n", 1.0, Band::Wide, &[0.0, 1.0]).unwrap();
        assert!(VoiceTemplate::merge(&[a, other]).is_err());
        assert_eq!(
            VoiceTemplate::merge(&[]),
            Err(TemplateError::NothingToMerge)
        );
    }

    #[test]
    fn a_template_of_another_dimension_is_rejected() {
        let short = VoiceTemplate::new("model-a", 4.5, Band::Wide, &[0.6, 0.8]).unwrap();
        assert_eq!(
            VoiceTemplate::from_base64(&short.to_base64(), MODEL_A),
            Err(TemplateError::WrongDimension {
                found: 2,
                expected: 192
            })
        );
    }

    #[test]
    fn speech_lengths_are_checked_on_decode_and_merge() {
        for bad in [-1.0, f32::NAN, f32::INFINITY, 3e38] {
            let mut forged = sample();
            forged.speech_seconds = bad;
            assert!(
                matches!(
                    VoiceTemplate::from_bytes(&forged.to_bytes()),
                    Err(TemplateError::InvalidSpeechLength(_))
                ),
                "{bad}"
            );
        }
        let mut big = sample();
        big.speech_seconds = MAX_TEMPLATE_SPEECH_SECONDS;
        let big = VoiceTemplate::from_bytes(&big.to_bytes()).unwrap();
        assert!(matches!(
            VoiceTemplate::merge(&[big.clone(), big]),
            Err(TemplateError::InvalidSpeechLength(_))
        ));
    }

    #[test]
    fn invalid_embeddings_are_rejected() {
        assert!(VoiceTemplate::new("m", 1.0, Band::Wide, &[0.0, 0.0]).is_err());
        assert!(VoiceTemplate::new("m", 1.0, Band::Wide, &[f32::NAN, 1.0]).is_err());
        assert!(VoiceTemplate::new("m", 1.0, Band::Wide, &[]).is_err());
    }
}
