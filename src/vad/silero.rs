//! Silero VAD v6 on tract: one shared plan, per-stream recurrent state.

use std::sync::Arc;

use tract_onnx::prelude::*;

use super::VadError;

/// New samples per model call (32 ms at 16 kHz).
pub const MODEL_FRAME_SAMPLES: usize = 512;
/// Samples of the previous frame prepended to each call.
const CONTEXT_SAMPLES: usize = 64;
const STATE_SHAPE: [usize; 3] = [2, 1, 128];

type Plan = TypedSimplePlan;

/// The Silero VAD model, loaded and optimized once; cheap to clone and share.
#[derive(Clone)]
pub struct SileroModel {
    plan: Arc<Plan>,
    input_index: usize,
    state_index: usize,
    prob_output: usize,
    state_output: usize,
}

impl SileroModel {
    /// Builds the plan from the bytes of `silero_vad_openvino_16k.onnx` (inputs
    /// `input` [1,576] and `state` [2,1,128]; outputs a probability and `stateN`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VadError> {
        let invalid = |e: TractError| VadError::InvalidModel(format!("{e:#}"));
        let model = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(invalid)?
            .into_optimized()
            .map_err(invalid)?;
        let input_index = find_port(&model, model.input_outlets(), "input")?;
        let state_index = find_port(&model, model.input_outlets(), "state")?;
        let state_output = find_port(&model, model.output_outlets(), "stateN")?;
        let prob_output = 1 - state_output;
        if model.input_outlets().map_err(invalid)?.len() != 2 {
            return Err(VadError::InvalidModel("expected exactly 2 inputs".into()));
        }
        let plan = model.into_runnable().map_err(invalid)?;
        let loaded = Self {
            plan,
            input_index,
            state_index,
            prob_output,
            state_output,
        };
        loaded
            .stream()
            .push(&[0.0; MODEL_FRAME_SAMPLES], &mut Vec::new())?;
        Ok(loaded)
    }

    /// A new stream at its start (zero state, zero context).
    pub fn stream(&self) -> SileroStream {
        SileroStream {
            model: self.clone(),
            state: Tensor::zero::<f32>(&STATE_SHAPE).expect("static shape"),
            window: vec![0.0; CONTEXT_SAMPLES + MODEL_FRAME_SAMPLES],
            filled: 0,
        }
    }
}

fn find_port(
    model: &TypedModel,
    outlets: TractResult<&[OutletId]>,
    name: &str,
) -> Result<usize, VadError> {
    let outlets = outlets.map_err(|e| VadError::InvalidModel(e.to_string()))?;
    outlets
        .iter()
        .position(|o| {
            let node = &model.nodes()[o.node];
            node.name == name || model.outlet_label(*o) == Some(name)
        })
        .ok_or_else(|| VadError::InvalidModel(format!("no port named `{name}`")))
}

/// Per-stream Silero state: the recurrent state and the 64-sample context.
///
/// Chunking contract: [`Self::push`] takes any number of 16 kHz samples and
/// emits one probability per complete 512-sample frame, independent of how
/// the samples were split.
pub struct SileroStream {
    model: SileroModel,
    state: Tensor,
    /// Context (64 samples) followed by the frame being filled (512 samples).
    window: Vec<f32>,
    filled: usize,
}

impl SileroStream {
    /// Feeds samples; appends the speech probability of every completed frame.
    pub fn push(&mut self, samples: &[f32], probs: &mut Vec<f32>) -> Result<(), VadError> {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (MODEL_FRAME_SAMPLES - self.filled).min(rest.len());
            let at = CONTEXT_SAMPLES + self.filled;
            self.window[at..at + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == MODEL_FRAME_SAMPLES {
                probs.push(self.run_frame()?);
                self.window.copy_within(MODEL_FRAME_SAMPLES.., 0);
                self.filled = 0;
            }
        }
        Ok(())
    }

    fn run_frame(&mut self) -> Result<f32, VadError> {
        let failed = |e: TractError| VadError::Inference(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, CONTEXT_SAMPLES + MODEL_FRAME_SAMPLES], &self.window)
            .map_err(failed)?;
        let state = self.state.clone().into_tvalue();
        let inputs = if self.model.input_index < self.model.state_index {
            tvec![input.into_tvalue(), state]
        } else {
            tvec![state, input.into_tvalue()]
        };
        let mut outputs = self.model.plan.run(inputs).map_err(failed)?;
        let prob = outputs[self.model.prob_output]
            .try_as_plain_ram()
            .and_then(|view| view.as_slice::<f32>())
            .map_err(failed)?
            .first()
            .copied()
            .ok_or_else(|| VadError::Inference("empty probability output".into()))?;
        self.state = outputs.remove(self.model.state_output).into_tensor();
        Ok(prob)
    }
}
