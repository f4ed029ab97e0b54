//! Silero VAD v6: one shared network, per-stream recurrent state.

mod network;

use std::sync::Arc;

use network::{LstmState, SileroNetwork};

use super::VadError;
use crate::nn::onnx::OnnxParameters;

/// New samples per model call (32 ms at 16 kHz).
pub const MODEL_FRAME_SAMPLES: usize = 512;
/// Samples of the previous frame prepended to each call.
const CONTEXT_SAMPLES: usize = 64;
/// Samples the network sees per call.
const WINDOW_SAMPLES: usize = CONTEXT_SAMPLES + MODEL_FRAME_SAMPLES;

/// The Silero VAD model, read once; cheap to clone and share across threads.
#[derive(Clone)]
pub struct SileroModel {
    network: Arc<SileroNetwork>,
}

impl SileroModel {
    /// Reads the bytes of `silero_vad_openvino_16k.onnx` (the 16 kHz graph of
    /// Silero VAD v6: a 576-sample window and a `[2, 1, 128]` state in, a
    /// probability and the next state out).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VadError> {
        let params = OnnxParameters::from_bytes(bytes)?;
        Ok(Self {
            network: Arc::new(SileroNetwork::from_parameters(&params, WINDOW_SAMPLES)?),
        })
    }

    /// A new stream at its start (zero state, zero context).
    pub fn stream(&self) -> SileroStream {
        SileroStream {
            state: self.network.initial_state(),
            network: Arc::clone(&self.network),
            window: vec![0.0; WINDOW_SAMPLES],
            filled: 0,
        }
    }
}

/// Per-stream Silero state: the recurrent state and the 64-sample context.
///
/// Chunking contract: [`Self::push`] takes any number of 16 kHz samples and
/// emits one probability per complete 512-sample frame, independent of how
/// the samples were split.
pub struct SileroStream {
    network: Arc<SileroNetwork>,
    state: LstmState,
    /// Context (64 samples) followed by the frame being filled (512 samples).
    window: Vec<f32>,
    filled: usize,
}

impl SileroStream {
    /// Feeds samples; appends the speech probability of every completed frame.
    pub fn push(&mut self, samples: &[f32], probs: &mut Vec<f32>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (MODEL_FRAME_SAMPLES - self.filled).min(rest.len());
            let at = CONTEXT_SAMPLES + self.filled;
            self.window[at..at + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == MODEL_FRAME_SAMPLES {
                probs.push(self.network.run(&self.window, &mut self.state));
                self.window.copy_within(MODEL_FRAME_SAMPLES.., 0);
                self.filled = 0;
            }
        }
    }
}
