//! Template matching: cosine score and calibrated same-speaker probability.

use serde::Serialize;

use super::{Band, Cohort, TemplateError, VoiceTemplate, dot};

/// A logistic calibration `p = 1 / (1 + exp(-(slope · s + offset)))` of the
/// cohort-normalised score `s` (`super::Cohort::normalised_score`).
///
/// Fitted by `examples/calibrate.rs` on LibriSpeech (one utterance each of
/// 251 speakers; same-speaker pairs: the two halves of one file; different-
/// speaker pairs: halves of different files), heard at 16 and 8 kHz, whole
/// Rust pipeline, each speaker normalised against a cohort of the others,
/// both classes weighted equally; one fit per pairing of bands, so that a
/// probability makes the same balanced decision in each (see
/// `docs/calibration.md` for the data, the fits and their reliability).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Weight of the normalised score.
    pub slope: f64,
    /// The offset added to it.
    pub offset: f64,
}

/// The calibration of two voices heard in the wide band (16 kHz or more).
pub const WIDE_BAND_CALIBRATION: Calibration = Calibration {
    slope: 3.5283,
    offset: -12.2675,
};
/// The calibration of two voices heard in the narrow band (under 16 kHz).
pub const NARROW_BAND_CALIBRATION: Calibration = Calibration {
    slope: 2.9692,
    offset: -7.5202,
};
/// The calibration of a voice heard in the wide band against one heard in
/// the narrow band (a web enrollment, a telephone probe).
pub const CROSS_BAND_CALIBRATION: Calibration = Calibration {
    slope: 4.0929,
    offset: -11.8117,
};

impl Calibration {
    /// The calibration of comparisons between voices heard in bands `a`
    /// and `b` (in either order).
    pub fn of_bands(a: Band, b: Band) -> Self {
        match (a, b) {
            (Band::Wide, Band::Wide) => WIDE_BAND_CALIBRATION,
            (Band::Narrow, Band::Narrow) => NARROW_BAND_CALIBRATION,
            _ => CROSS_BAND_CALIBRATION,
        }
    }

    /// Calibrated P(same speaker | cohort-normalised score).
    pub fn probability(&self, normalised_score: f64) -> f64 {
        1.0 / (1.0 + (-(self.slope * normalised_score + self.offset)).exp())
    }
}

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
        let calibration = Calibration::of_bands(enrolled.1, probe.1);
        Self {
            probability: f64::from(calibration.probability(normalised) as f32),
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
    fn probability_rises_with_the_normalised_score_in_every_band() {
        for calibration in [
            WIDE_BAND_CALIBRATION,
            NARROW_BAND_CALIBRATION,
            CROSS_BAND_CALIBRATION,
        ] {
            assert!(calibration.probability(-5.0) < 0.01);
            assert!(calibration.probability(10.0) > 0.99);
            assert!(calibration.probability(1.0) < calibration.probability(2.0));
        }
    }

    #[test]
    fn each_pairing_of_bands_has_its_calibration_in_either_order() {
        use Band::{Narrow, Wide};
        assert_eq!(Calibration::of_bands(Wide, Wide), WIDE_BAND_CALIBRATION);
        assert_eq!(
            Calibration::of_bands(Narrow, Narrow),
            NARROW_BAND_CALIBRATION
        );
        assert_eq!(Calibration::of_bands(Wide, Narrow), CROSS_BAND_CALIBRATION);
        assert_eq!(Calibration::of_bands(Narrow, Wide), CROSS_BAND_CALIBRATION);
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
