//! Template matching: cosine score and calibrated same-speaker probability.

use serde::Serialize;

use super::{TemplateError, VoiceTemplate};

/// Logistic calibration `p = 1 / (1 + exp(-(SLOPE · score + OFFSET)))`.
///
/// Fitted by `examples/calibrate.rs` on LibriSpeech (one utterance each of
/// 251 speakers; same-speaker pairs: the two halves of one file; different-
/// speaker pairs: halves of different files), whole Rust pipeline; see
/// `docs/calibration.md` for the data, the fit and the score distributions.
pub const CALIBRATION_SLOPE: f64 = 20.8875;
/// See [`CALIBRATION_SLOPE`].
pub const CALIBRATION_OFFSET: f64 = -12.4340;

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
    /// The result for a cosine `score`; both numbers are single-precision
    /// values (as the original server's, which prints them widened).
    pub fn from_score(score: f32) -> Self {
        let score = f64::from(score);
        Self {
            probability: f64::from(probability(score) as f32),
            score,
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

/// Calibrated P(same speaker | cosine score).
pub fn probability(score: f64) -> f64 {
    1.0 / (1.0 + (-(CALIBRATION_SLOPE * score + CALIBRATION_OFFSET)).exp())
}

/// Compares two templates.
pub fn match_templates(a: &VoiceTemplate, b: &VoiceTemplate) -> Result<MatchResult, TemplateError> {
    Ok(MatchResult::from_score(a.cosine(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_rises_with_score() {
        assert!(probability(-1.0) < 0.01);
        assert!(probability(1.0) > 0.99);
        assert!(probability(0.3) < probability(0.6));
    }

    #[test]
    fn identical_templates_match() {
        let t = VoiceTemplate::new("m", 2.0, crate::voice::Band::Wide, &[0.3, 0.4]).unwrap();
        let r = match_templates(&t, &t).unwrap();
        assert!((r.score - 1.0).abs() < 1e-6);
        assert!(r.probability > 0.99);
    }
}
