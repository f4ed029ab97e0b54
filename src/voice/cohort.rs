//! Score normalisation against a cohort of other speakers (adaptive
//! symmetric normalisation, AS-norm).
//!
//! A cosine score means different things in different conditions: voices
//! heard through a telephone's band score higher against every other voice,
//! and a short window's embedding scores lower against its own speaker. So
//! each side of a comparison is also scored against a cohort of other
//! speakers heard in the other side's band, and the score is measured in
//! units of how the side's [`COHORT_TOP_SHARE`] closest cohort speakers
//! score: `½ · ((s − μ₁)/σ₁ + (s − μ₂)/σ₂)`. The calibrations of
//! `super::matching` are fitted on this normalised score, one per pairing
//! of bands (docs/calibration.md).
//!
//! The shipped cohort (`models/campplus_cohort.bin`, written by
//! `examples/cohort.rs`) holds one whole-recording embedding of each of
//! 247 LibriSpeech speakers, heard wide (16 kHz) and narrow (8 kHz).
//!
//! Layout (little-endian): `"VPCH"` magic · u16 version · u8 model-id length
//! · model id (UTF-8) · u16 dimension · u16 wide count · u16 narrow count ·
//! (wide + narrow) × dimension × f16 unit embeddings · u32 CRC-32 of
//! everything before it.

use std::sync::OnceLock;

use half::f16;

use super::bytes::{ByteReader, Truncated};
use super::{Band, SPEAKER_MODEL, TemplateModel, VoiceError, dot};

const MAGIC: &[u8; 4] = b"VPCH";
/// The cohort format version written and read by this build.
const COHORT_VERSION: u16 = 1;

/// The share of the cohort, closest first, a side's statistics are taken
/// over: the cohort speakers most like it (the "adaptive" of AS-norm), a
/// share rather than a count so that the half-size cohorts the evaluation
/// uses stand for the whole one shipped.
pub const COHORT_TOP_SHARE: f64 = 0.8;

/// The least spread a side's cohort scores are taken to have: keeps a
/// degenerate cohort from dividing by zero.
const MIN_DEVIATION: f64 = 1e-3;

/// Unit embeddings of other speakers, heard in each band.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    dimension: usize,
    wide: Vec<Vec<f32>>,
    narrow: Vec<Vec<f32>>,
}

/// How one side of a comparison scores against the cohort.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortStatistics {
    /// Mean of the closest cohort scores.
    pub mean: f64,
    /// Their standard deviation (at least [`MIN_DEVIATION`]).
    pub deviation: f64,
}

impl CohortStatistics {
    /// `score` in units of this side's cohort scores.
    pub fn standardise(&self, score: f64) -> f64 {
        (score - self.mean) / self.deviation
    }
}

impl Cohort {
    /// A cohort of unit embeddings heard wide and narrow, all of `dimension`.
    pub fn new(
        dimension: usize,
        wide: Vec<Vec<f32>>,
        narrow: Vec<Vec<f32>>,
    ) -> Result<Self, VoiceError> {
        if dimension == 0 || dimension > usize::from(u16::MAX) {
            return Err(invalid(format!("{dimension} values per speaker")));
        }
        for band in [&wide, &narrow] {
            if band.is_empty() || band.len() > usize::from(u16::MAX) {
                return Err(invalid(format!("{} speakers in a band", band.len())));
            }
            if band.iter().any(|e| e.len() != dimension) {
                return Err(invalid("an embedding of another dimension".into()));
            }
        }
        Ok(Self {
            dimension,
            wide,
            narrow,
        })
    }

    /// The cohort shipped for the speaker model, read once.
    pub fn bundled() -> &'static Cohort {
        static COHORT: OnceLock<Cohort> = OnceLock::new();
        COHORT.get_or_init(|| {
            Cohort::from_bytes(
                include_bytes!("../../models/campplus_cohort.bin"),
                SPEAKER_MODEL,
            )
            .expect("the shipped cohort is valid")
        })
    }

    /// The cohort speakers heard in `band`.
    pub fn speakers(&self, band: Band) -> &[Vec<f32>] {
        match band {
            Band::Wide => &self.wide,
            Band::Narrow => &self.narrow,
        }
    }

    /// How `embedding` scores against the cohort speakers heard in `band`:
    /// the statistics of its closest [`COHORT_TOP_SHARE`] of scores.
    pub fn statistics(&self, embedding: &[f32], band: Band) -> CohortStatistics {
        let mut scores: Vec<f64> = self
            .speakers(band)
            .iter()
            .map(|speaker| f64::from(dot(embedding, speaker)))
            .collect();
        scores.sort_unstable_by(|a, b| b.total_cmp(a));
        let top = ((scores.len() as f64 * COHORT_TOP_SHARE).round() as usize).max(1);
        let closest = &scores[..top.min(scores.len())];
        let mean = closest.iter().sum::<f64>() / closest.len() as f64;
        let variance =
            closest.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / closest.len() as f64;
        CohortStatistics {
            mean,
            deviation: variance.sqrt().max(MIN_DEVIATION),
        }
    }

    /// The normalised score of two unit embeddings whose cosine is `cosine`:
    /// the enrolled side against the cohort heard in the probe's band, the
    /// probe against the cohort heard in the enrolled side's band (the
    /// impostors each side would meet), the two standardised scores averaged.
    pub fn normalised_score(
        &self,
        cosine: f64,
        enrolled: (&[f32], Band),
        probe: (&[f32], Band),
    ) -> f64 {
        let enrolled_side = self.statistics(enrolled.0, probe.1);
        let probe_side = self.statistics(probe.0, enrolled.1);
        0.5 * (enrolled_side.standardise(cosine) + probe_side.standardise(cosine))
    }

    /// The binary form (f16 values).
    pub fn to_bytes(&self, model_id: &str) -> Vec<u8> {
        let id = model_id.as_bytes();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&COHORT_VERSION.to_le_bytes());
        out.push(u8::try_from(id.len()).expect("model ids are short"));
        out.extend_from_slice(id);
        let count = |n: usize| u16::try_from(n).expect("checked by new");
        out.extend_from_slice(&count(self.dimension).to_le_bytes());
        out.extend_from_slice(&count(self.wide.len()).to_le_bytes());
        out.extend_from_slice(&count(self.narrow.len()).to_le_bytes());
        for value in self.wide.iter().chain(&self.narrow).flatten() {
            out.extend_from_slice(&f16::from_f32(*value).to_le_bytes());
        }
        out.extend_from_slice(&crc32fast::hash(&out).to_le_bytes());
        out
    }

    /// Reads the binary form, checking it was made for `expected`.
    pub fn from_bytes(bytes: &[u8], expected: TemplateModel) -> Result<Self, VoiceError> {
        let (content, checksum) = bytes
            .split_last_chunk::<4>()
            .ok_or_else(|| invalid("truncated".into()))?;
        if crc32fast::hash(content) != u32::from_le_bytes(*checksum) {
            return Err(invalid("checksum mismatch".into()));
        }
        let mut reader = ByteReader::new(content);
        if reader.take(4).map_err(truncated)? != MAGIC {
            return Err(invalid("bad magic".into()));
        }
        let version = reader.u16().map_err(truncated)?;
        if version != COHORT_VERSION {
            return Err(invalid(format!("unsupported version {version}")));
        }
        if reader.short_bytes().map_err(truncated)? != expected.id.as_bytes() {
            return Err(invalid("made for another speaker model".into()));
        }
        let dimension = usize::from(reader.u16().map_err(truncated)?);
        if dimension != expected.dimension {
            return Err(invalid(format!("{dimension} values per speaker")));
        }
        let wide = usize::from(reader.u16().map_err(truncated)?);
        let narrow = usize::from(reader.u16().map_err(truncated)?);
        let mut band = |count: usize| -> Result<Vec<Vec<f32>>, Truncated> {
            (0..count)
                .map(|_| {
                    let values = reader.take(2 * dimension)?;
                    Ok(values
                        .chunks_exact(2)
                        .map(|v| f16::from_le_bytes([v[0], v[1]]).to_f32())
                        .collect())
                })
                .collect()
        };
        let wide = band(wide).map_err(truncated)?;
        let narrow = band(narrow).map_err(truncated)?;
        if reader.remaining() != 0 {
            return Err(invalid("trailing bytes".into()));
        }
        Self::new(dimension, wide, narrow)
    }
}

fn invalid(reason: String) -> VoiceError {
    VoiceError::InvalidModel(format!("speaker cohort: {reason}"))
}

fn truncated(_: Truncated) -> VoiceError {
    invalid("truncated".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: TemplateModel = TemplateModel {
        id: "model-a",
        dimension: 2,
    };

    fn unit(angle: f32) -> Vec<f32> {
        vec![angle.cos(), angle.sin()]
    }

    fn cohort() -> Cohort {
        let wide = (0..10).map(|i| unit(0.3 * i as f32)).collect();
        let narrow = (0..5).map(|i| unit(0.1 * i as f32)).collect();
        Cohort::new(2, wide, narrow).unwrap()
    }

    #[test]
    fn statistics_are_over_the_closest_share_of_the_band() {
        let cohort = cohort();
        let probe = unit(0.0);
        let mut scores: Vec<f64> = (0..10)
            .map(|i| f64::from(dot(&probe, &unit(0.3 * i as f32))))
            .collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        let closest = &scores[..8];
        let mean = closest.iter().sum::<f64>() / 8.0;
        let deviation = (closest.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 8.0).sqrt();
        let stats = cohort.statistics(&probe, Band::Wide);
        assert!((stats.mean - mean).abs() < 1e-6);
        assert!((stats.deviation - deviation).abs() < 1e-6);
        // The narrow cohort is another set of speakers.
        assert!(cohort.statistics(&probe, Band::Narrow).mean > stats.mean);
    }

    #[test]
    fn each_side_is_normalised_against_the_other_sides_band() {
        let cohort = cohort();
        let (a, b) = (unit(0.2), unit(0.5));
        let cosine = f64::from(dot(&a, &b));
        let expected = 0.5
            * (cohort.statistics(&a, Band::Narrow).standardise(cosine)
                + cohort.statistics(&b, Band::Wide).standardise(cosine));
        let score = cohort.normalised_score(cosine, (&a, Band::Wide), (&b, Band::Narrow));
        assert!((score - expected).abs() < 1e-12);
        // Same band on both sides: symmetric.
        let ab = cohort.normalised_score(cosine, (&a, Band::Wide), (&b, Band::Wide));
        let ba = cohort.normalised_score(cosine, (&b, Band::Wide), (&a, Band::Wide));
        assert!((ab - ba).abs() < 1e-12);
    }

    #[test]
    fn a_degenerate_cohort_does_not_divide_by_zero() {
        let same = vec![unit(0.0); 4];
        let cohort = Cohort::new(2, same.clone(), same).unwrap();
        let stats = cohort.statistics(&unit(0.0), Band::Wide);
        assert_eq!(stats.deviation, MIN_DEVIATION);
        assert!(stats.standardise(0.5).is_finite());
    }

    #[test]
    fn round_trips_and_rejects_damaged_or_foreign_bytes() {
        let cohort = cohort();
        let bytes = cohort.to_bytes(MODEL.id);
        let read = Cohort::from_bytes(&bytes, MODEL).unwrap();
        for (a, b) in read.wide.iter().flatten().zip(cohort.wide.iter().flatten()) {
            assert!((a - b).abs() < 1e-3);
        }
        assert_eq!(read.narrow.len(), 5);
        let foreign = TemplateModel {
            id: "model-b",
            ..MODEL
        };
        assert!(Cohort::from_bytes(&bytes, foreign).is_err());
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(Cohort::from_bytes(&flipped, MODEL).is_err());
        for cut in [0, 3, 12, bytes.len() - 1] {
            assert!(Cohort::from_bytes(&bytes[..cut], MODEL).is_err(), "{cut}");
        }
        assert!(Cohort::new(2, vec![], vec![unit(0.0)]).is_err());
        assert!(Cohort::new(2, vec![vec![1.0]], vec![unit(0.0)]).is_err());
        assert!(Cohort::new(0, vec![vec![]], vec![vec![]]).is_err());
    }

    #[test]
    fn the_shipped_cohort_has_both_bands_of_unit_embeddings() {
        let cohort = Cohort::bundled();
        for band in [Band::Wide, Band::Narrow] {
            let speakers = cohort.speakers(band);
            assert!(speakers.len() >= 200, "{band:?}: {}", speakers.len());
            for speaker in speakers {
                let norm = dot(speaker, speaker).sqrt();
                assert!((norm - 1.0).abs() < 1e-2, "{norm}");
            }
        }
    }
}
