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
/// Most frames run through the network together (bounding its buffers).
const MAX_BATCH_FRAMES: usize = 32;

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
            pending: vec![0.0; CONTEXT_SAMPLES],
        }
    }
}

/// Per-stream Silero state: the recurrent state and the samples not yet run.
///
/// Chunking contract: [`Self::push`] takes any number of 16 kHz samples and
/// emits one probability per complete 512-sample frame, independent of how
/// the samples were split.
pub struct SileroStream {
    network: Arc<SileroNetwork>,
    state: LstmState,
    /// The last 64 samples of the previous frame, then the samples of the
    /// frame being filled.
    pending: Vec<f32>,
}

impl SileroStream {
    /// Feeds samples; appends the speech probability of every completed
    /// frame. The frames completed by one call run through the network
    /// together, up to [`MAX_BATCH_FRAMES`] at a time.
    pub fn push(&mut self, samples: &[f32], probs: &mut Vec<f32>) {
        self.pending.extend_from_slice(samples);
        let frames = (self.pending.len() - CONTEXT_SAMPLES) / MODEL_FRAME_SAMPLES;
        let starts: Vec<usize> = (0..frames).map(|k| k * MODEL_FRAME_SAMPLES).collect();
        for batch in starts.chunks(MAX_BATCH_FRAMES) {
            let windows: Vec<&[f32]> = batch
                .iter()
                .map(|&start| &self.pending[start..start + WINDOW_SAMPLES])
                .collect();
            self.network.run(&windows, &mut self.state, probs);
        }
        self.pending.drain(..frames * MODEL_FRAME_SAMPLES);
    }
}
