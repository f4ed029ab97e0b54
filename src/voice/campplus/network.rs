//! The CAM++ network: a 2-D convolutional front end, densely connected TDNN
//! blocks with context-aware masking, statistics pooling and the embedding
//! layer — built from an ONNX export's parameters, run with plain loops and
//! matrix products.

use crate::nn::Precision;
use crate::nn::layers::{Activation, BatchNorm, Conv, Margins, sigmoid, sum};
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

    /// Checks, without computing anything, that `frames` input frames pass
    /// through every layer: each convolution has room for its kernel, the two
    /// paths of every residual block and every dense layer's output keep the
    /// sizes they are added or joined to, and at least two frames reach the
    /// statistics pooling. A model whose layers do not fit together is an
    /// `InvalidModel`; too few frames, `Inference`.
    pub fn check_frames(&self, frames: usize) -> Result<(), VoiceError> {
        let too_few = || {
            VoiceError::Inference(format!(
                "{frames} feature frames are too few for an embedding"
            ))
        };
        let size = |conv: &Conv, (height, width): (usize, usize)| {
            conv.output_size(height, width).ok_or_else(too_few)
        };
        let mut shape = size(&self.head_in, (FBANK_BINS, frames))?;
        for block in &self.head_blocks {
            let out = size(&block.conv2, size(&block.conv1, shape)?)?;
            let skipped = match &block.shortcut {
                Some(shortcut) => size(shortcut, shape)?,
                None => shape,
            };
            if out != skipped {
                return Err(invalid(format!(
                    "a residual block gives {out:?} but its skip path {skipped:?}"
                )));
            }
            shape = out;
        }
        let (_, mut width) = size(&self.tdnn, (1, size(&self.head_out, shape)?.1))?;
        for (layers, transit) in &self.blocks {
            for layer in layers {
                let (_, hidden) = size(&layer.linear, (1, width))?;
                let (_, local) = size(&layer.local, (1, hidden))?;
                let segments = hidden.div_ceil(self.segment);
                let (_, gates) = size(&layer.context_out, size(&layer.context_in, (1, segments))?)?;
                if local != width || gates != local.div_ceil(self.segment) {
                    return Err(invalid(format!(
                        "a dense layer turns {width} frames into {local} with {gates} gates"
                    )));
                }
            }
            width = size(&transit.linear, (1, width))?.1;
        }
        if width < 2 {
            return Err(too_few());
        }
        size(&self.dense, (1, 1)).map(|_| ())
    }

    /// The embedding of `frames` fbank frames (`frames × FBANK_BINS`, time-major),
    /// which [`Self::check_frames`] must have accepted.
    pub fn embed(&self, features: &[f32], frames: usize) -> Vec<f32> {
        self.embed_statistics(&statistics(&self.frame_outputs(features, frames)))
    }

    /// The embedding of pooled statistics of the last layer's frames:
    /// `2 × channels` values, every channel's mean, then its deviation.
    pub fn embed_statistics(&self, statistics: &Activation) -> Vec<f32> {
        let embedding = self.dense.apply(statistics, Precision::Exact);
        self.dense_norm.relu(&embedding).values
    }

    /// Feature frames per frame of the last layer: the product of the time
    /// steps of the front end and the TDNN layer (the dense layers keep the
    /// frame rate, as [`Self::check_frames`] checks).
    pub fn features_per_output(&self) -> usize {
        let blocks = self.head_blocks.iter().flat_map(|b| [&b.conv1, &b.conv2]);
        [&self.head_in, &self.head_out, &self.tdnn]
            .into_iter()
            .chain(blocks)
            .map(|conv| conv.columns.stride)
            .product()
    }

    /// The last layer's output frames (`channels × time`) before the
    /// statistics pooling, for `frames` fbank frames that
    /// [`Self::check_frames`] accepted, computed exactly.
    pub fn frame_outputs(&self, features: &[f32], frames: usize) -> Activation {
        let columns = self.front_end_columns(features, frames, Precision::Exact);
        self.outputs_of_columns(&columns, Precision::Exact)
    }

    /// The front end's output for `frames` fbank frames that
    /// [`Self::check_frames`] accepted: one column per frame (the front end
    /// keeps the frame rate), its channels and frequency rows as rows;
    /// computed at `precision`.
    pub fn front_end_columns(
        &self,
        features: &[f32],
        frames: usize,
        precision: Precision,
    ) -> Activation {
        let margin = self.front_end_margin();
        let row = frames + 2 * margin;
        let mut image = Activation::zeros(1, FBANK_BINS, row);
        for (t, frame) in features.chunks_exact(FBANK_BINS).enumerate() {
            for (bin, value) in frame.iter().enumerate() {
                image.values[bin * row + margin + t] = *value;
            }
        }
        let mut x = self.front_end(&image, margin, precision);
        assert_eq!(x.width, frames, "the front end changed the frame rate");
        // [channels][height][time] read as [channels · height][1][time].
        x.channels *= x.height;
        x.height = 1;
        x
    }

    /// The widest column padding of the front end's convolutions: the zero
    /// columns its activations keep on both sides of their rows, so that no
    /// convolution copies its input to pad it.
    fn front_end_margin(&self) -> usize {
        self.front_end_convs()
            .map(|conv| conv.columns.padding)
            .max()
            .unwrap_or(0)
    }

    /// Every convolution of the front end.
    fn front_end_convs(&self) -> impl Iterator<Item = &Conv> {
        let blocks = self
            .head_blocks
            .iter()
            .flat_map(|b| [&b.conv1, &b.conv2].into_iter().chain(b.shortcut.as_ref()));
        [&self.head_in, &self.head_out].into_iter().chain(blocks)
    }

    /// Frames on each side of a frame that its front-end column depends on
    /// (the zero padding at a signal's ends reaches as far into it).
    pub fn front_end_reach(&self) -> usize {
        self.front_end_convs()
            .map(|conv| conv.columns.dilation * (conv.columns.kernel - 1) / 2)
            .sum()
    }

    /// The last layer's output frames from the front end's columns,
    /// computed at `precision`.
    pub fn outputs_of_columns(&self, columns: &Activation, precision: Precision) -> Activation {
        let mut x = self.tdnn.apply_relu(columns, precision);
        // Every dense layer normalizes all the channels before it: into one
        // buffer that they share.
        let mut normalized = Activation::zeros(0, 0, 0);
        for (layers, transit) in &self.blocks {
            let added: usize = layers.iter().map(|layer| layer.local.outputs).sum();
            x.values.reserve(added * x.width);
            for layer in layers {
                let new = layer.apply(&x, &mut normalized, self.segment, precision);
                x.values.extend(new.values);
                x.channels += new.channels;
            }
            x = transit.linear.apply(&transit.norm.relu(&x), precision);
        }
        x.relu();
        x
    }

    /// The front end over `image`, whose rows have `margin` zero columns on
    /// each side, as its activations keep them (the output has none);
    /// computed at `precision`.
    fn front_end(&self, image: &Activation, margin: usize, precision: Precision) -> Activation {
        let kept = Margins {
            input: margin,
            output: margin,
        };
        let mut x = self
            .head_in
            .apply_with_margins(image, kept, true, precision);
        for block in &self.head_blocks {
            let inner = block.conv1.apply_with_margins(&x, kept, true, precision);
            let mut out = block
                .conv2
                .apply_with_margins(&inner, kept, false, precision);
            match &block.shortcut {
                Some(shortcut) => {
                    out.add_relu(&shortcut.apply_with_margins(&x, kept, false, precision))
                }
                None => out.add_relu(&x),
            }
            x = out;
        }
        let last = Margins {
            input: margin,
            output: 0,
        };
        self.head_out.apply_with_margins(&x, last, true, precision)
    }
}

impl CamDenseLayer {
    /// The channels this layer adds to `input`, computed at `precision`;
    /// `normalized` is scratch space for the input's normalization.
    fn apply(
        &self,
        input: &Activation,
        normalized: &mut Activation,
        segment: usize,
        precision: Precision,
    ) -> Activation {
        self.norm.relu_into(input, normalized);
        let hidden = self.linear.apply_relu(normalized, precision);
        let mut local = self.local.apply(&hidden, precision);
        let mask = self
            .context_in
            .apply_relu(&context(&hidden, segment), precision);
        let mask = self.context_out.apply(&mask, precision);
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
        for (slot, part) in context.iter_mut().zip(row.chunks(segment)) {
            *slot = sum(part);
        }
        let mean = context.iter().sum::<f32>() / row.len() as f32;
        for (slot, part) in context.iter_mut().zip(row.chunks(segment)) {
            *slot = mean + *slot / part.len() as f32;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layers::Axis;

    fn axis(kernel: usize, stride: usize, padding: usize) -> Axis {
        Axis {
            kernel,
            stride,
            padding,
            dilation: 1,
        }
    }

    fn conv(inputs: usize, outputs: usize, rows: Axis, columns: Axis) -> Conv {
        let len = outputs * inputs * rows.kernel * columns.kernel;
        let weights = (0..len).map(|i| (i as f32 * 0.37).sin() * 0.1).collect();
        Conv::new((outputs, inputs), (rows, columns), weights, None)
    }

    fn identity_norm(channels: usize) -> BatchNorm {
        let (ones, zeros) = (vec![1.0; channels], vec![0.0; channels]);
        BatchNorm::fold(&ones, &zeros, &zeros, &ones, 0.0)
    }

    /// A tiny network of CAM++'s shape whose residual block's second
    /// convolution has a row stride of `stride`.
    fn tiny(stride: usize) -> CamPlusNetwork {
        let (same, point) = (axis(3, 1, 1), axis(1, 1, 0));
        CamPlusNetwork {
            head_in: conv(1, 2, same, same),
            head_blocks: vec![ResidualBlock {
                conv1: conv(2, 2, same, same),
                conv2: conv(2, 2, axis(3, stride, 1), same),
                shortcut: None,
            }],
            head_out: conv(2, 2, point, point),
            tdnn: conv(2 * FBANK_BINS.div_ceil(stride), 4, point, point),
            blocks: vec![(
                vec![CamDenseLayer {
                    norm: identity_norm(4),
                    linear: conv(4, 3, point, point),
                    local: conv(3, 2, point, same),
                    context_in: conv(3, 3, point, point),
                    context_out: conv(3, 2, point, point),
                }],
                Transit {
                    norm: identity_norm(6),
                    linear: conv(6, 4, point, point),
                },
            )],
            segment: 4,
            dense: conv(8, 5, point, point),
            dense_norm: identity_norm(5),
        }
    }

    #[test]
    fn fitting_layers_embed_and_too_few_frames_are_refused() {
        let network = tiny(1);
        network.check_frames(10).unwrap();
        let embedding = network.embed(&vec![0.5; 10 * FBANK_BINS], 10);
        assert_eq!(embedding.len(), 5);
        assert!(embedding.iter().all(|x| x.is_finite()));
        assert!(matches!(
            network.check_frames(1),
            Err(VoiceError::Inference(_))
        ));
    }

    #[test]
    fn a_residual_block_that_changes_the_size_is_an_invalid_model() {
        match tiny(2).check_frames(10) {
            Err(VoiceError::InvalidModel(reason)) => {
                assert!(reason.contains("residual"), "{reason}")
            }
            other => panic!("expected InvalidModel, got {other:?}"),
        }
    }
}
