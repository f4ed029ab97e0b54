//! Direct convolution: no unfolded (im2col) input and no packing of the
//! input per call — with AVX-512 on x86-64 CPUs that have it, with SIMD128
//! in WebAssembly.
//!
//! An output row of a block of channels × a few column vectors is summed in
//! vector registers (8 × 3 of 16 lanes with AVX-512, 4 × 3 of 4 in wasm),
//! tap after tap (input channel, kernel row, kernel column): each tap loads
//! the columns it reads straight from the (zero-padded) input and multiplies
//! them by the block's weights, which are laid out once per convolution so
//! that a tap's weights are adjacent (fused multiply-adds with AVX-512, and
//! in wasm builds with relaxed SIMD; a multiply and an add with SIMD128).
//! The columns a row has beyond its last whole vector (6 of CAM++'s 150,
//! 12 of 300) are summed the other way round, a few output channels in the
//! lanes and each column in its own register, so that no lane is wasted on
//! columns that do not exist. It applies to convolutions whose columns (time) step by 1, at any
//! dilation — every convolution of CAM++ but its strided TDNN layer.

#![cfg(direct_kernels)]

#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
use avx512 as simd;

#[cfg(target_arch = "wasm32")]
mod simd128;
#[cfg(target_arch = "wasm32")]
use simd128 as simd;

use std::borrow::Cow;

use simd::{CHANNELS, LANES, TAIL_BLOCKS, VECTORS};
pub(crate) use simd::{KERNELS, available};

use super::layers::{Activation, Conv, Margins, rows_with_margins};

/// Whether `conv` can be computed directly: its columns step by 1.
pub(crate) fn applies_to(conv: &Conv) -> bool {
    conv.columns.stride == 1
}

/// The weights of `conv` laid out for [`apply`]: for each block of
/// [`CHANNELS`] output channels, for each tap, the block's weights (zeros
/// beyond the last channel).
pub(crate) fn pack(conv: &Conv) -> Vec<f32> {
    let taps = conv.weights.len() / conv.outputs;
    let blocks = conv.outputs.div_ceil(CHANNELS);
    let mut packed = vec![0.0; blocks * taps * CHANNELS];
    for (o, filter) in conv.weights.chunks_exact(taps).enumerate() {
        let block = &mut packed[o / CHANNELS * taps * CHANNELS..][..taps * CHANNELS];
        for (tap, weight) in filter.iter().enumerate() {
            block[tap * CHANNELS + o % CHANNELS] = *weight;
        }
    }
    packed
}

/// One tap of one output row: where its input row starts (in the padded
/// input) and which weight of each filter it multiplies.
#[derive(Clone, Copy)]
struct Tap {
    offset: usize,
    weight: usize,
}

/// Convolves the first `conv.inputs` channels of `input` with `packed`
/// (= [`pack`]`(conv)`), every output clamped at 0 as it is stored if
/// `relu`; `input` and the output have `margins`. The CPU must have the
/// vector instructions ([`available`]) and `conv` must be [`applies_to`].
pub(crate) fn apply(
    conv: &Conv,
    packed: &[f32],
    input: &Activation,
    margins: Margins,
    relu: bool,
) -> Activation {
    assert!(
        available() && applies_to(conv),
        "direct convolution used where it does not apply"
    );
    assert!(input.channels >= conv.inputs, "too few input channels");
    let padding = conv.columns.padding;
    let input_width = input.width - 2 * margins.input;
    let (height, width) = conv
        .output_size(input.height, input_width)
        .expect("input smaller than the kernel");
    let (kh, kw) = (conv.rows.kernel, conv.columns.kernel);
    let taps_per_filter = conv.inputs * kh * kw;
    assert_eq!(
        packed.len(),
        conv.outputs.div_ceil(CHANNELS) * taps_per_filter * CHANNELS
    );
    // The padding the margins do not hold is copied in; margins wider than
    // the padding are skipped.
    let missing = padding.saturating_sub(margins.input);
    let padded = padded_columns(input, conv.inputs, missing);
    let padded_width = input.width + 2 * missing;
    let skipped = margins.input.saturating_sub(padding);
    let row_width = width + 2 * margins.output;
    let plane = height * row_width;
    let mut values = Vec::with_capacity(conv.outputs * plane);
    let output_values = &mut values.spare_capacity_mut()[..conv.outputs * plane];
    if margins.output > 0 {
        for row in output_values.chunks_exact_mut(row_width) {
            row[..margins.output].fill(std::mem::MaybeUninit::new(0.0));
            row[margins.output + width..].fill(std::mem::MaybeUninit::new(0.0));
        }
    }
    let mut taps = Vec::with_capacity(taps_per_filter);
    for r in 0..height {
        taps.clear();
        for i in 0..conv.inputs {
            for kr in 0..kh {
                let Some(source_row) = conv.rows.source(r, kr, input.height) else {
                    continue;
                };
                let row_start = (i * input.height + source_row) * padded_width;
                taps.extend((0..kw).map(|kc| Tap {
                    offset: row_start + skipped + kc * conv.columns.dilation,
                    weight: (i * kh + kr) * kw + kc,
                }));
            }
        }
        let blocks: Vec<Rows> = packed
            .chunks_exact(taps_per_filter * CHANNELS)
            .enumerate()
            .map(|(block, weights)| {
                let first = block * CHANNELS;
                let channels = (conv.outputs - first).min(CHANNELS);
                let mut start = [0.0; CHANNELS];
                if let Some(bias) = &conv.bias {
                    start[..channels].copy_from_slice(&bias[first..first + channels]);
                }
                Rows {
                    weights,
                    taps: &taps,
                    input: &padded,
                    start,
                    relu,
                }
            })
            .collect();
        // The place of `columns` from `column` on, for at most `channels`
        // output channels from `first_channel` on.
        let place = |first_channel: usize, channels: usize, column: usize, columns: usize| Place {
            column,
            columns,
            channels: (conv.outputs - first_channel).min(channels),
            output_offset: r * row_width + margins.output + column,
            plane,
        };
        // Whole vectors of columns, time in the lanes.
        let vectored = width - width % LANES;
        let block_width = LANES * VECTORS;
        for (block, rows) in blocks.iter().enumerate() {
            let first = block * CHANNELS;
            let out = &mut output_values[first * plane..];
            for column in (0..vectored).step_by(block_width) {
                let columns = (vectored - column).min(block_width);
                simd::sum_block(rows, place(first, CHANNELS, column, columns), out);
            }
        }
        // The columns left over, channels in the lanes.
        if vectored < width {
            for (group, rows) in blocks.chunks(TAIL_BLOCKS).enumerate() {
                let first = group * TAIL_BLOCKS * CHANNELS;
                let at = place(first, TAIL_BLOCKS * CHANNELS, vectored, width - vectored);
                simd::sum_tail(rows, at, &mut output_values[first * plane..]);
            }
        }
    }
    // SAFETY: the blocks above stored every output value: each row of each
    // block of channels, its whole vectors of columns and then (the tail's
    // groups cover every block) the columns left over; the margins were
    // zeroed before.
    unsafe { values.set_len(conv.outputs * plane) };
    Activation {
        channels: conv.outputs,
        height,
        width: row_width,
        values,
    }
}

/// The first `channels` channels of `input` with `padding` zeros on both
/// sides of every row (borrowed as they are when there is no padding).
fn padded_columns(input: &Activation, channels: usize, padding: usize) -> Cow<'_, [f32]> {
    let used = &input.values[..channels * input.plane()];
    if padding == 0 {
        return Cow::Borrowed(used);
    }
    Cow::Owned(rows_with_margins(
        used,
        channels * input.height,
        input.width,
        padding,
    ))
}

/// What one block of output channels sums for one output row.
struct Rows<'a> {
    /// The block's packed weights (taps × [`CHANNELS`]).
    weights: &'a [f32],
    /// The row's taps.
    taps: &'a [Tap],
    /// The padded input.
    input: &'a [f32],
    /// Each channel's bias (0 without).
    start: [f32; CHANNELS],
    /// Whether the sums are clamped at 0 as they are stored.
    relu: bool,
}

/// Where one block of sums goes (in an output not yet initialised: the
/// kernels store each value once, never read it).
#[derive(Clone, Copy)]
struct Place {
    /// First output column.
    column: usize,
    /// Output columns summed: whole vectors (at most `VECTORS × LANES`),
    /// or in the tail fewer than `LANES`.
    columns: usize,
    /// Output channels of the block (of the tail's blocks) that exist.
    channels: usize,
    /// Index of the first value in the block's first channel.
    output_offset: usize,
    /// Values per output channel.
    plane: usize,
}
