//! CAM++ speaker embeddings, computed directly from the ONNX export's weights.
//!
//! The network is small and fixed, so instead of a general graph runtime it is
//! written out here: loading is reading the weights (no graph analysis or
//! planning), any input length runs without preparation, and the convolutions
//! are matrix products.

mod network;

use std::sync::Arc;

use network::CamPlusNetwork;

use crate::nn::onnx::OnnxParameters;

use super::{FBANK_BINS, Features, VoiceError};

/// Size of a CAM++ embedding.
pub const EMBEDDING_DIM: usize = 192;

/// The CAM++ model (`feats` [T, 80] → 192 values). Cheap to clone and share
/// across threads.
#[derive(Clone)]
pub struct CamPlusModel {
    network: Arc<CamPlusNetwork>,
}

impl CamPlusModel {
    /// Reads the ONNX bytes of a 3D-Speaker CAM++ export (f32 or f16 weights).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VoiceError> {
        let params = OnnxParameters::from_bytes(bytes)?;
        Ok(Self {
            network: Arc::new(CamPlusNetwork::from_parameters(&params)?),
        })
    }

    /// The raw (not normalized) embedding of exactly these features.
    pub fn embed(&self, features: &Features) -> Result<Vec<f32>, VoiceError> {
        let frames = features.frames();
        self.network.check_frames(frames)?;
        debug_assert_eq!(features.values.len(), frames * FBANK_BINS);
        Ok(self.network.embed(&features.values, frames))
    }
}
