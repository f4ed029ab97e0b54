//! Template matching: cosine score and calibrated same-speaker probability.

use serde::Serialize;

use super::{Band, Cohort, TemplateError, VoiceTemplate, dot};

/// Logistic calibration `p = 1 / (1 + exp(-(SLOPE · s + OFFSET)))` of the
/// cohort-normalised score `s` (`super::Cohort::normalised_score`).
///
/// Fitted by `examples/calibrate.rs` on LibriSpeech (one utterance each of
/// 251 speakers; same-speaker pairs: the two halves of one file; different-
/// speaker pairs: halves of different files), heard at 16 and 8 kHz, whole
/// Rust pipeline, each speaker normalised against a cohort of the others;
/// see `docs/calibration.md` for the data, the fit and its reliability.
pub const CALIBRATION_SLOPE: f64 = 3.0846;
/// See [`CALIBRATION_SLOPE`].
pub const CALIBRATION_OFFSET: f64 = -8.6558;

/// Result of comparing two voices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct MatchResult {
    /// Calibrated probability that both are the same speaker.
    pub probability: f64,
    /// Cosine similarity of the embeddings.
    pub score: f64,
}

impl MatchResult {
    /// The result of comparing two unit embeddings, each with the band it
    /// was heard in: the cosine, and the probability of its score
    /// normalised against the shipped cohort. Both numbers are
    /// single-precision values (as the original server's, which prints them
    /// widened).
    pub fn between(enrolled: (&[f32], Band), probe: (&[f32], Band)) -> Self {
        let cosine = f64::from(dot(enrolled.0, probe.0));
        let normalised = Cohort::bundled().normalised_score(cosine, enrolled, probe);
        Self {
            probability: f64::from(probability(normalised) as f32),
            score: cosine,
        }
    }

    /// The result when there was too little speech to judge: nothing matches.
    pub fn no_speech() -> Self {
        Self {
            probability: 0.0,
            score: 0.0,
        }
    }
}

/// Calibrated P(same speaker | cohort-normalised score).
pub fn probability(normalised_score: f64) -> f64 {
    1.0 / (1.0 + (-(CALIBRATION_SLOPE * normalised_score + CALIBRATION_OFFSET)).exp())
}

/// Compares two templates of the same model (the result does not depend on
/// their order).
pub fn match_templates(a: &VoiceTemplate, b: &VoiceTemplate) -> Result<MatchResult, TemplateError> {
    a.check_comparable(b)?;
    Ok(MatchResult::between(
        (&a.embedding, a.band),
        (&b.embedding, b.band),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::voice::{EMBEDDING_DIM, SPEAKER_MODEL_ID};

    #[test]
    fn probability_rises_with_the_normalised_score() {
        assert!(probability(-5.0) < 0.01);
        assert!(probability(10.0) > 0.99);
        assert!(probability(1.0) < probability(2.0));
    }

    fn template(band: Band, seed: f32) -> VoiceTemplate {
        let embedding: Vec<f32> = (0..EMBEDDING_DIM)
            .map(|i| (i as f32 * seed).sin())
            .collect();
        VoiceTemplate::new(SPEAKER_MODEL_ID, 2.0, band, &embedding).unwrap()
    }

    #[test]
    fn identical_templates_match_in_either_band() {
        for band in [Band::Wide, Band::Narrow] {
            let t = template(band, 0.37);
            let r = match_templates(&t, &t).unwrap();
            assert!((r.score - 1.0).abs() < 1e-6);
            assert!(r.probability > 0.99, "{band:?}: {}", r.probability);
        }
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_of_the_templates() {
        let (a, b) = (template(Band::Wide, 0.37), template(Band::Narrow, 0.41));
        assert_eq!(
            match_templates(&a, &b).unwrap(),
            match_templates(&b, &a).unwrap()
        );
    }

    #[test]
    fn the_probability_depends_on_the_bands_not_only_the_cosine() {
        let (a, b) = (template(Band::Wide, 0.37), template(Band::Wide, 0.41));
        let narrow = |t: &VoiceTemplate| VoiceTemplate {
            band: Band::Narrow,
            ..t.clone()
        };
        let wide = match_templates(&a, &b).unwrap();
        let heard_narrow = match_templates(&narrow(&a), &narrow(&b)).unwrap();
        assert_eq!(wide.score, heard_narrow.score);
        assert_ne!(wide.probability, heard_narrow.probability);
    }

    #[test]
    fn templates_of_other_models_are_not_compared() {
        let a = template(Band::Wide, 0.37);
        let other = VoiceTemplate {
            model_id: "other".into(),
            ..a.clone()
        };
        assert!(match_templates(&a, &other).is_err());
    }
}
