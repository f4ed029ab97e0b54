//! The CAM++ network: a 2-D convolutional front end, densely connected TDNN
//! blocks with context-aware masking, statistics pooling and the embedding
//! layer — built from an ONNX export's parameters, run with plain loops and
//! matrix products.

use crate::nn::layers::{Activation, BatchNorm, Conv, sigmoid};
use crate::nn::onnx::OnnxParameters;
use crate::voice::{EMBEDDING_DIM, FBANK_BINS, VoiceError};

/// Two 3×3 convolutions with a skip connection.
struct ResidualBlock {
    conv1: Conv,
    conv2: Conv,
    shortcut: Option<Conv>,
}

/// One layer of a dense block: normalize, project, then a local convolution
/// masked by the context of the whole segment and utterance.
struct CamDenseLayer {
    norm: BatchNorm,
    linear: Conv,
    local: Conv,
    context_in: Conv,
    context_out: Conv,
}

/// Normalize and project between dense blocks.
struct Transit {
    norm: BatchNorm,
    linear: Conv,
}

/// The whole CAM++ network.
pub(super) struct CamPlusNetwork {
    head_in: Conv,
    head_blocks: Vec<ResidualBlock>,
    head_out: Conv,
    tdnn: Conv,
    blocks: Vec<(Vec<CamDenseLayer>, Transit)>,
    /// Frames per segment of the context pooling.
    segment: usize,
    dense: Conv,
    dense_norm: BatchNorm,
}

fn invalid(message: impl Into<String>) -> VoiceError {
    VoiceError::InvalidModel(message.into())
}

/// The indices `first, first + 1, …` for as long as `exists` holds (numbered layers).
fn numbered(first: usize, exists: impl Fn(usize) -> bool) -> impl Iterator<Item = usize> {
    (first..).take_while(move |&i| exists(i))
}

impl CamPlusNetwork {
    /// Reads the network from the parameters of a 3D-Speaker CAM++ export.
    pub fn from_parameters(params: &OnnxParameters) -> Result<Self, VoiceError> {
        let mut head_blocks = Vec::new();
        for layer in numbered(1, |l| {
            params.has(&format!("/head/layer{l}/layer{l}.0/conv1/Conv"))
        }) {
            for block in numbered(0, |b| {
                params.has(&format!("/head/layer{layer}/layer{layer}.{b}/conv1/Conv"))
            }) {
                let path = format!("/head/layer{layer}/layer{layer}.{block}");
                let shortcut = format!("{path}/shortcut/shortcut.0/Conv");
                head_blocks.push(ResidualBlock {
                    conv1: params.conv(&format!("{path}/conv1/Conv"))?,
                    conv2: params.conv(&format!("{path}/conv2/Conv"))?,
                    shortcut: params
                        .has(&shortcut)
                        .then(|| params.conv(&shortcut))
                        .transpose()?,
                });
            }
        }
        let mut blocks = Vec::new();
        for b in numbered(1, |b| {
            params.has(&format!("/xvector/transit{b}/linear/Conv"))
        }) {
            let layers = numbered(1, |i| {
                params.has(&format!("/xvector/block{b}/tdnnd{i}/linear1/Conv"))
            })
            .map(|i| {
                let path = format!("/xvector/block{b}/tdnnd{i}");
                Ok(CamDenseLayer {
                    norm: params
                        .batch_norm(&format!("{path}/nonlinear1/batchnorm/BatchNormalization"))?,
                    linear: params.conv(&format!("{path}/linear1/Conv"))?,
                    local: params.conv(&format!("{path}/cam_layer/linear_local/Conv"))?,
                    context_in: params.conv(&format!("{path}/cam_layer/linear1/Conv"))?,
                    context_out: params.conv(&format!("{path}/cam_layer/linear2/Conv"))?,
                })
            })
            .collect::<Result<Vec<_>, VoiceError>>()?;
            let transit = Transit {
                norm: params.batch_norm(&format!(
                    "/xvector/transit{b}/nonlinear/batchnorm/BatchNormalization"
                ))?,
                linear: params.conv(&format!("/xvector/transit{b}/linear/Conv"))?,
            };
            blocks.push((layers, transit));
        }
        let network = Self {
            head_in: params.conv("/head/conv1/Conv")?,
            head_blocks,
            head_out: params.conv("/head/conv2/Conv")?,
            tdnn: params.conv("/xvector/tdnn/linear/Conv")?,
            blocks,
            segment: params.pool_length("/xvector/block1/tdnnd1/cam_layer/AveragePool")?,
            dense: params.conv("/xvector/dense/linear/Conv")?,
            dense_norm: params
                .batch_norm("/xvector/dense/nonlinear/batchnorm/BatchNormalization")?,
        };
        network.check_shapes()?;
        Ok(network)
    }

    /// Checks that every layer takes what the one before gives.
    fn check_shapes(&self) -> Result<(), VoiceError> {
        let link = |what: &str, given: usize, taken: usize| {
            (given == taken)
                .then_some(())
                .ok_or_else(|| invalid(format!("{what}: takes {taken} channels, given {given}")))
        };
        let mut channels = 1;
        let mut height = FBANK_BINS;
        let mut convs = vec![&self.head_in];
        for block in &self.head_blocks {
            convs.extend([&block.conv1, &block.conv2]);
        }
        convs.push(&self.head_out);
        for conv in convs {
            link("front end", channels, conv.inputs)?;
            channels = conv.outputs;
            height = conv
                .output_size(height, 1)
                .ok_or_else(|| invalid("front end kernel larger than the fbank"))?
                .0;
        }
        for block in &self.head_blocks {
            if let Some(shortcut) = &block.shortcut {
                link("shortcut", block.conv1.inputs, shortcut.inputs)?;
                link("shortcut", block.conv2.outputs, shortcut.outputs)?;
            }
        }
        link("tdnn", channels * height, self.tdnn.inputs)?;
        channels = self.tdnn.outputs;
        for (layers, transit) in &self.blocks {
            for layer in layers {
                link("dense layer norm", channels, layer.norm.channels())?;
                link("dense layer", channels, layer.linear.inputs)?;
                link("local", layer.linear.outputs, layer.local.inputs)?;
                link("context", layer.linear.outputs, layer.context_in.inputs)?;
                link(
                    "context",
                    layer.context_in.outputs,
                    layer.context_out.inputs,
                )?;
                link("mask", layer.local.outputs, layer.context_out.outputs)?;
                channels += layer.local.outputs;
            }
            link("transit norm", channels, transit.norm.channels())?;
            link("transit", channels, transit.linear.inputs)?;
            channels = transit.linear.outputs;
        }
        link("statistics", 2 * channels, self.dense.inputs)?;
        link("embedding", EMBEDDING_DIM, self.dense.outputs)?;
        link("embedding norm", EMBEDDING_DIM, self.dense_norm.channels())
    }

    /// Frames the front end and the TDNN turn `frames` input frames into.
    pub fn pooled_frames(&self, frames: usize) -> usize {
        self.tdnn
            .output_size(1, frames)
            .map_or(0, |(_, width)| width)
    }

    /// The embedding of `frames` fbank frames (`frames × FBANK_BINS`, time-major).
    /// Needs at least two pooled frames (see [`Self::pooled_frames`]).
    pub fn embed(&self, features: &[f32], frames: usize) -> Vec<f32> {
        assert!(self.pooled_frames(frames) >= 2, "too few frames");
        let mut image = Activation::zeros(1, FBANK_BINS, frames);
        for (t, frame) in features.chunks_exact(FBANK_BINS).enumerate() {
            for (bin, value) in frame.iter().enumerate() {
                image.values[bin * frames + t] = *value;
            }
        }
        let mut x = self.front_end(&image);
        // [channels][height][time] read as [channels · height][1][time].
        x.channels *= x.height;
        x.height = 1;
        let mut x = self.tdnn.apply(&x);
        x.relu();
        for (layers, transit) in &self.blocks {
            let added: usize = layers.iter().map(|layer| layer.local.outputs).sum();
            x.values.reserve(added * x.width);
            for layer in layers {
                let new = layer.apply(&x, self.segment);
                x.values.extend(new.values);
                x.channels += new.channels;
            }
            x = transit.linear.apply(&transit.norm.relu(&x));
        }
        x.relu();
        let embedding = self.dense.apply(&statistics(&x));
        self.dense_norm.relu(&embedding).values
    }

    fn front_end(&self, image: &Activation) -> Activation {
        let mut x = self.head_in.apply(image);
        x.relu();
        for block in &self.head_blocks {
            let mut inner = block.conv1.apply(&x);
            inner.relu();
            let mut out = block.conv2.apply(&inner);
            match &block.shortcut {
                Some(shortcut) => out.add(&shortcut.apply(&x)),
                None => out.add(&x),
            }
            out.relu();
            x = out;
        }
        let mut x = self.head_out.apply(&x);
        x.relu();
        x
    }
}

impl CamDenseLayer {
    /// The channels this layer adds.
    fn apply(&self, input: &Activation, segment: usize) -> Activation {
        let mut hidden = self.linear.apply(&self.norm.relu(input));
        hidden.relu();
        let mut local = self.local.apply(&hidden);
        let mut mask = self.context_in.apply(&context(&hidden, segment));
        mask.relu();
        let mask = self.context_out.apply(&mask);
        let width = local.width;
        for (out, gates) in local
            .values
            .chunks_exact_mut(width)
            .zip(mask.values.chunks_exact(mask.width))
        {
            for (segment_values, gate) in out.chunks_mut(segment).zip(gates) {
                let gate = sigmoid(*gate);
                segment_values.iter_mut().for_each(|x| *x *= gate);
            }
        }
        local
    }
}

/// Per channel and segment: the mean over the whole signal plus the mean over
/// the segment (`segment` frames, the last one possibly shorter).
fn context(input: &Activation, segment: usize) -> Activation {
    let segments = input.width.div_ceil(segment);
    let mut out = Activation::zeros(input.channels, 1, segments);
    for (row, context) in input
        .values
        .chunks_exact(input.width)
        .zip(out.values.chunks_exact_mut(segments))
    {
        let mean = row.iter().sum::<f32>() / row.len() as f32;
        for (slot, part) in context.iter_mut().zip(row.chunks(segment)) {
            *slot = mean + part.iter().sum::<f32>() / part.len() as f32;
        }
    }
    out
}

/// Mean and unbiased standard deviation of each channel over time.
fn statistics(input: &Activation) -> Activation {
    let n = input.width as f32;
    let mut out = Activation::zeros(2 * input.channels, 1, 1);
    for (c, row) in input.values.chunks_exact(input.width).enumerate() {
        let mean = row.iter().sum::<f32>() / n;
        let variance = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / (n - 1.0);
        out.values[c] = mean;
        out.values[input.channels + c] = variance.sqrt();
    }
    out
}
