//! Model bytes → shared, once-built plans.
//!
//! A [`Models`] value holds every plan the sessions need; cloning it is cheap
//! (the plans are behind `Arc`), so one copy serves every connection.

use crate::vad::{SileroModel, VadError};

/// File name of the shipped VAD model (in `models/`).
pub const VAD_MODEL_FILE: &str = "silero_vad_openvino_16k.onnx";

/// Identifier of the VAD model, reported by build info.
pub const VAD_MODEL_ID: &str = "silero-vad-6.2.3-openvino-16k";

/// The plans shared by all sessions.
#[derive(Clone)]
pub struct Models {
    /// Silero VAD.
    pub vad: SileroModel,
}

impl Models {
    /// Builds the plans from model file bytes.
    pub fn from_bytes(vad_onnx: &[u8]) -> Result<Self, VadError> {
        Ok(Self {
            vad: SileroModel::from_bytes(vad_onnx)?,
        })
    }

    /// The models compiled into the native binary.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn bundled() -> Result<Self, VadError> {
        Self::from_bytes(include_bytes!("../models/silero_vad_openvino_16k.onnx"))
    }
}
