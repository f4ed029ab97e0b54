//! Model bytes → shared, once-read networks.
//!
//! A [`Models`] value holds every model the sessions need; cloning it is cheap
//! (the networks are behind `Arc`), so one copy serves every connection.

use crate::vad::SileroModel;
use crate::voice::{CamPlusModel, VoiceEngine, VoiceError};

/// File name of the shipped VAD model (in `models/`).
pub const VAD_MODEL_FILE: &str = "silero_vad_openvino_16k.onnx";

/// Identifier of the VAD model, reported by build info.
pub const VAD_MODEL_ID: &str = "silero-vad-6.2.3-openvino-16k";

/// File name of the shipped speaker model (in `models/`): CAM++ with f16
/// weights, half the download of the f32 file at the same accuracy.
pub const SPEAKER_MODEL_FILE: &str = "campplus_zh_en_common.f16w.onnx";

/// The models shared by all sessions.
#[derive(Clone)]
pub struct Models {
    /// Silero VAD.
    pub vad: SileroModel,
    /// The voice engine (VAD + speaker model), when the speaker model is loaded.
    pub voice: Option<VoiceEngine>,
}

impl Models {
    /// Loads the models from their file bytes; the speaker model is optional
    /// (only the verify stream and templates need it).
    pub fn from_bytes(vad_onnx: &[u8], speaker_onnx: Option<&[u8]>) -> Result<Self, VoiceError> {
        let vad = SileroModel::from_bytes(vad_onnx)?;
        let voice = speaker_onnx
            .map(|bytes| {
                Ok::<_, VoiceError>(VoiceEngine::new(
                    vad.clone(),
                    CamPlusModel::from_bytes(bytes)?,
                ))
            })
            .transpose()?;
        Ok(Self { vad, voice })
    }

    /// The models with verify streams computed exactly
    /// ([`CamPlusModel::with_exact_streams`]): the same scores natively on
    /// every CPU as in the browser.
    pub fn with_exact_streams(self) -> Self {
        Self {
            voice: self.voice.map(VoiceEngine::with_exact_streams),
            ..self
        }
    }

    /// The voice engine, or an error naming the missing model.
    pub fn voice(&self) -> Result<&VoiceEngine, VoiceError> {
        self.voice
            .as_ref()
            .ok_or_else(|| VoiceError::InvalidModel("the speaker model is not loaded".into()))
    }

    /// The models compiled into the native binary.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn bundled() -> Result<Self, VoiceError> {
        Self::from_bytes(
            include_bytes!("../models/silero_vad_openvino_16k.onnx"),
            Some(include_bytes!("../models/campplus_zh_en_common.f16w.onnx")),
        )
    }
}
