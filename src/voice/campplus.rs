//! CAM++ speaker embeddings on tract, one plan per input length.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tract_onnx::prelude::*;

use super::{FBANK_BINS, Features, VoiceError};

/// Size of a CAM++ embedding.
pub const EMBEDDING_DIM: usize = 192;

type Plan = TypedSimplePlan;

/// The CAM++ model: analysed and simplified once for any input length (a
/// symbolic time axis), then a plan is built (and kept) for each length asked
/// for — about a quarter of the work of planning each length from the ONNX
/// graph. Cheap to clone and share across threads.
#[derive(Clone)]
pub struct CamPlusModel {
    graph: Arc<TypedModel>,
    frames_symbol: Symbol,
    plans: Arc<Mutex<HashMap<usize, Arc<Plan>>>>,
}

impl CamPlusModel {
    /// Parses the ONNX bytes of a CAM++ model (`feats` [B, T, 80] → [B, 192])
    /// and simplifies it for a batch of one and any number of frames.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VoiceError> {
        let invalid = |e: TractError| VoiceError::InvalidModel(format!("{e:#}"));
        let graph = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(invalid)?;
        if graph.input_outlets().map(<[_]>::len).ok() != Some(1) {
            return Err(VoiceError::InvalidModel("expected exactly 1 input".into()));
        }
        let frames_symbol = graph.symbols.sym("frames");
        let shape: [TDim; 3] = [1.into(), frames_symbol.clone().into(), FBANK_BINS.into()];
        let graph = graph
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(invalid)?;
        Ok(Self {
            graph: Arc::new(graph),
            frames_symbol,
            plans: Arc::default(),
        })
    }

    /// Builds (or finds) the plan for `frames` input frames.
    pub fn prepare(&self, frames: usize) -> Result<(), VoiceError> {
        self.plan(frames).map(drop)
    }

    fn plan(&self, frames: usize) -> Result<Arc<Plan>, VoiceError> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(plan) = plans.get(&frames) {
            return Ok(plan.clone());
        }
        let invalid = |e: TractError| VoiceError::InvalidModel(format!("{e:#}"));
        let length = HashMap::from([(self.frames_symbol.clone(), TDim::from(frames))]);
        let plan = self
            .graph
            .set_symbols(&length)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(invalid)?;
        plans.insert(frames, plan.clone());
        Ok(plan)
    }

    /// The raw (not normalized) embedding of exactly these features.
    pub fn embed(&self, features: &Features) -> Result<Vec<f32>, VoiceError> {
        let failed = |e: TractError| VoiceError::Inference(format!("{e:#}"));
        let frames = features.frames();
        if frames == 0 {
            return Err(VoiceError::Inference("no feature frames".into()));
        }
        let plan = self.plan(frames)?;
        let input =
            Tensor::from_shape(&[1, frames, FBANK_BINS], &features.values).map_err(failed)?;
        let outputs = plan.run(tvec![input.into_tvalue()]).map_err(failed)?;
        let embedding = outputs[0]
            .try_as_plain_ram()
            .and_then(|view| view.as_slice::<f32>())
            .map_err(failed)?
            .to_vec();
        if embedding.len() != EMBEDDING_DIM {
            return Err(VoiceError::InvalidModel(format!(
                "embedding has {} values, expected {EMBEDDING_DIM}",
                embedding.len()
            )));
        }
        Ok(embedding)
    }
}
