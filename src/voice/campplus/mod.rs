//! CAM++ speaker embeddings, computed directly from the ONNX export's weights.
//!
//! The network is small and fixed, so instead of a general graph runtime it is
//! written out here: loading is reading the weights (no graph analysis or
//! planning), any input length runs without preparation, and the convolutions
//! are matrix products.

mod network;

use std::sync::Arc;

use network::CamPlusNetwork;

use crate::nn::Precision;
use crate::nn::layers::Activation;
use crate::nn::onnx::OnnxParameters;

use super::{FBANK_BINS, Features, VoiceError};

/// Size of a CAM++ embedding.
pub const EMBEDDING_DIM: usize = 192;

/// The CAM++ model (`feats` [T, 80] → 192 values). Cheap to clone and share
/// across threads.
#[derive(Clone)]
pub struct CamPlusModel {
    network: Arc<CamPlusNetwork>,
    /// How the network multiplies for a stream's parts
    /// ([`Self::frame_statistics`]); whole embeddings are always exact.
    stream_precision: Precision,
}

impl CamPlusModel {
    /// Reads the ONNX bytes of a 3D-Speaker CAM++ export (f32 or f16 weights).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VoiceError> {
        let params = OnnxParameters::from_bytes(bytes)?;
        Ok(Self {
            network: Arc::new(CamPlusNetwork::from_parameters(&params)?),
            stream_precision: Precision::Bf16,
        })
    }

    /// The model with its stream parts computed in `f32`, as whole
    /// embeddings are: the same statistics on every CPU and in the browser,
    /// at the cost of the bfloat16 products where the CPU has them (about
    /// 1.3× a verify stream's time on x86-64 with AVX-512 BF16).
    pub fn with_exact_streams(self) -> Self {
        Self {
            stream_precision: Precision::Exact,
            ..self
        }
    }

    /// Whether stream parts are computed with bfloat16 products here (x86-64
    /// with AVX-512 BF16, unless [`Self::with_exact_streams`]); elsewhere
    /// they are exact.
    pub fn streams_in_bf16(&self) -> bool {
        self.stream_precision.here() == Precision::Bf16
    }

    /// The statistics of the last layer's frames that come from the last
    /// `last_features` of these features: a part of a stream, to be merged
    /// with its other parts' and embedded by [`Self::embed_statistics`] —
    /// with the front end's output over these features, for the next part.
    ///
    /// `earlier` is the front end's output over an earlier part and which of
    /// its frames is these features' first (the same speech, normalised by
    /// that part's mean): its columns for the frames both hold, but those the
    /// front end's reach at its end touched, are reused instead of computed
    /// again (an approximation: they differ by the two parts' feature means,
    /// and by up to half a frame of their frame grids).
    ///
    /// The network multiplies in bfloat16 where the CPU can (unless
    /// [`Self::with_exact_streams`]): the statistics approximate a window
    /// already, and a verify stream computes a part every half second.
    pub fn frame_statistics(
        &self,
        features: &Features,
        last_features: usize,
        earlier: Option<(&FrontEndColumns, usize)>,
    ) -> Result<(FrameStatistics, FrontEndColumns), VoiceError> {
        let precision = self.stream_precision;
        let frames = features.frames();
        self.network.check_frames(frames)?;
        let reach = self.network.front_end_reach();
        let reused = earlier.map_or(0, |(earlier, shift)| {
            let interior = earlier.columns.width.saturating_sub(reach);
            interior
                .saturating_sub(shift)
                .min(frames.saturating_sub(last_features))
        });
        let first_input = reused.saturating_sub(reach);
        let fresh = self.network.front_end_columns(
            &features.values[first_input * FBANK_BINS..],
            frames - first_input,
            precision,
        );
        let columns = match earlier {
            Some((earlier, shift)) if reused > 0 => joined_columns(
                &earlier.columns,
                shift..shift + reused,
                &fresh,
                reused - first_input,
            ),
            _ => fresh,
        };
        let outputs = self.network.outputs_of_columns(&columns, precision);
        let step = self.network.features_per_output();
        let kept = last_features.div_ceil(step).min(outputs.width);
        let mut statistics = FrameStatistics::default();
        statistics.add(&outputs, outputs.width - kept);
        Ok((statistics, FrontEndColumns { columns }))
    }

    /// The raw embedding of merged frame statistics (at least two frames).
    pub fn embed_statistics(&self, statistics: &FrameStatistics) -> Result<Vec<f32>, VoiceError> {
        if statistics.frames < 2 {
            return Err(VoiceError::Inference(format!(
                "{} network frames are too few for an embedding",
                statistics.frames
            )));
        }
        Ok(self.network.embed_statistics(&statistics.pooled()))
    }

    /// The raw (not normalized) embedding of exactly these features.
    pub fn embed(&self, features: &Features) -> Result<Vec<f32>, VoiceError> {
        let frames = features.frames();
        self.network.check_frames(frames)?;
        debug_assert_eq!(features.values.len(), frames * FBANK_BINS);
        Ok(self.network.embed(&features.values, frames))
    }
}

/// The front end's output over a part of a stream (one column per feature
/// frame), for [`CamPlusModel::frame_statistics`] of the part after it.
#[derive(Debug, Clone)]
pub struct FrontEndColumns {
    columns: Activation,
}

impl FrontEndColumns {
    /// Feature frames covered.
    pub fn frames(&self) -> usize {
        self.columns.width
    }

    /// Drops the columns of the first `frames` frames (all of them if there
    /// are fewer); returns how many were dropped.
    pub fn drop_first(&mut self, frames: usize) -> usize {
        let frames = frames.min(self.columns.width);
        if frames > 0 {
            self.columns = joined_columns(&self.columns, 0..0, &self.columns, frames);
        }
        frames
    }
}

/// The columns `range` of `earlier` followed by those of `fresh` from
/// `from` on, row by row.
fn joined_columns(
    earlier: &Activation,
    range: std::ops::Range<usize>,
    fresh: &Activation,
    from: usize,
) -> Activation {
    assert_eq!(earlier.channels, fresh.channels, "columns of two networks");
    let width = range.len() + fresh.width - from;
    let mut values = Vec::with_capacity(fresh.channels * width);
    for (old, new) in earlier
        .values
        .chunks_exact(earlier.width)
        .zip(fresh.values.chunks_exact(fresh.width))
    {
        values.extend_from_slice(&old[range.clone()]);
        values.extend_from_slice(&new[from..]);
    }
    Activation {
        channels: fresh.channels,
        height: 1,
        width,
        values,
    }
}

/// Per-channel sums over frames of the network's last layer: what its
/// statistics pooling needs, gathered a part of a stream at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameStatistics {
    frames: usize,
    sums: Vec<f64>,
    squares: Vec<f64>,
}

impl FrameStatistics {
    /// Frames summed.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Adds the other part's frames.
    pub fn merge(&mut self, other: &FrameStatistics) {
        if other.frames == 0 {
            return;
        }
        if self.frames == 0 {
            *self = other.clone();
            return;
        }
        self.frames += other.frames;
        self.sums
            .iter_mut()
            .zip(&other.sums)
            .for_each(|(a, b)| *a += b);
        let squares = self.squares.iter_mut().zip(&other.squares);
        squares.for_each(|(a, b)| *a += b);
    }

    /// Adds the frames of `outputs` (`channels × time`) from `first` on.
    fn add(&mut self, outputs: &Activation, first: usize) {
        let channels = outputs.channels;
        self.sums.resize(channels, 0.0);
        self.squares.resize(channels, 0.0);
        for (c, row) in outputs.values.chunks_exact(outputs.width).enumerate() {
            for &x in &row[first..] {
                self.sums[c] += f64::from(x);
                self.squares[c] += f64::from(x) * f64::from(x);
            }
        }
        self.frames += outputs.width - first;
    }

    /// Every channel's mean, then its unbiased deviation (as the network pools).
    fn pooled(&self) -> Activation {
        let channels = self.sums.len();
        let n = self.frames as f64;
        let mut out = Activation::zeros(2 * channels, 1, 1);
        for (c, (sum, squares)) in self.sums.iter().zip(&self.squares).enumerate() {
            let mean = sum / n;
            let variance = ((squares - n * mean * mean) / (n - 1.0)).max(0.0);
            out.values[c] = mean as f32;
            out.values[channels + c] = variance.sqrt() as f32;
        }
        out
    }
}
