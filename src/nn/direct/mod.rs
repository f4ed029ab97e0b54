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
//!
//! At [`Precision::Bf16`], on x86-64 CPUs with AVX-512 BF16, the same
//! kernels take pairs of input channels as one tap: inputs and weights
//! rounded to bfloat16, two to a 32-bit lane, each lane's sum gaining both
//! products of its pair in one instruction (twice the multiplies of a fused
//! multiply-add, half the bytes loaded).

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
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use simd::{CHANNELS, LANES, TAIL_BLOCKS, VECTORS};
pub(crate) use simd::{KERNELS, available};

use super::Precision;
use super::layers::{Activation, Conv, Margins, rows_with_margins};

#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) use avx512::round_to_bf16;
#[cfg(target_arch = "x86_64")]
use avx512::{Bf16Pair, Products as _};

/// Whether this CPU multiplies in bfloat16 at [`Precision::Bf16`].
pub(crate) fn bf16_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return Bf16Pair::available();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// A convolution's weights laid out for the kernels, each arithmetic's once
/// first needed.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackedWeights {
    f32: OnceLock<Vec<f32>>,
    #[cfg(target_arch = "x86_64")]
    bf16: OnceLock<Vec<Bf16Pair>>,
}

/// What the kernels multiply: `f32` values, or (x86-64) pairs of bfloat16
/// holding two input channels each.
trait Word: Copy + Default {
    /// Input channels one value holds.
    const INPUTS: usize;

    /// The value of one group of [`Self::INPUTS`] input channels, whose
    /// `k`-th is `value(k)`.
    fn gather(value: impl Fn(usize) -> f32) -> Self;

    /// The first `channels` channels of `values` (`plane` values each),
    /// [`Self::INPUTS`] to a value (zeros past the last channel).
    fn gathered(values: Cow<'_, [f32]>, channels: usize, plane: usize) -> Cow<'_, [Self]>;

    /// Sums and stores the block `at` (whole vectors).
    fn sum_block(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]);

    /// Sums and stores the tail `at` of the blocks `group`.
    fn sum_tail(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]);
}

impl Word for f32 {
    const INPUTS: usize = 1;

    fn gather(value: impl Fn(usize) -> f32) -> Self {
        value(0)
    }

    fn gathered(values: Cow<'_, [f32]>, _channels: usize, _plane: usize) -> Cow<'_, [f32]> {
        values
    }

    fn sum_block(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]) {
        simd::sum_block(rows, at, out);
    }

    fn sum_tail(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]) {
        simd::sum_tail(group, at, out);
    }
}

/// Whether `conv` can be computed directly: its columns step by 1.
pub(crate) fn applies_to(conv: &Conv) -> bool {
    conv.columns.stride == 1
}

/// The weights of `conv` laid out for the kernels: for each block of
/// [`CHANNELS`] output channels, for each tap (group of input channels,
/// kernel row, kernel column), the block's weights (zeros beyond the last
/// channel, and beyond the last input channel in a group).
fn pack<W: Word>(conv: &Conv) -> Vec<W> {
    let kernel = conv.rows.kernel * conv.columns.kernel;
    let groups = conv.inputs.div_ceil(W::INPUTS);
    let taps = groups * kernel;
    let blocks = conv.outputs.div_ceil(CHANNELS);
    let mut packed = vec![W::default(); blocks * taps * CHANNELS];
    for (o, filter) in conv.weights.chunks_exact(conv.inputs * kernel).enumerate() {
        let block = &mut packed[o / CHANNELS * taps * CHANNELS..][..taps * CHANNELS];
        for tap in 0..taps {
            let (group, position) = (tap / kernel, tap % kernel);
            let weight = |k: usize| {
                let input = group * W::INPUTS + k;
                if input < conv.inputs {
                    filter[input * kernel + position]
                } else {
                    0.0
                }
            };
            block[tap * CHANNELS + o % CHANNELS] = W::gather(weight);
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

/// Convolves the first `conv.inputs` channels of `input` with its weights
/// (laid out in `packed` once first needed), at `precision` where the CPU
/// has its instructions ([`bf16_available`]), every output clamped at 0 as
/// it is stored if `relu`; `input` and the output have `margins`. The CPU
/// must have the vector instructions ([`available`]) and `conv` must be
/// [`applies_to`].
pub(crate) fn apply(
    conv: &Conv,
    packed: &PackedWeights,
    input: &Activation,
    margins: Margins,
    relu: bool,
    precision: Precision,
) -> Activation {
    #[cfg(target_arch = "x86_64")]
    if precision == Precision::Bf16 && bf16_available() {
        let weights = packed.bf16.get_or_init(|| pack(conv));
        return convolve(conv, weights, input, margins, relu);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = precision;
    let weights = packed.f32.get_or_init(|| pack(conv));
    convolve(conv, weights, input, margins, relu)
}

/// [`apply`] with the weights `packed` (= [`pack`]`(conv)`).
fn convolve<W: Word>(
    conv: &Conv,
    packed: &[W],
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
    let groups = conv.inputs.div_ceil(W::INPUTS);
    let taps_per_filter = groups * kh * kw;
    assert_eq!(
        packed.len(),
        conv.outputs.div_ceil(CHANNELS) * taps_per_filter * CHANNELS
    );
    // The padding the margins do not hold is copied in; margins wider than
    // the padding are skipped.
    let missing = padding.saturating_sub(margins.input);
    let padded_width = input.width + 2 * missing;
    let padded = W::gathered(
        padded_columns(input, conv.inputs, missing),
        conv.inputs,
        input.height * padded_width,
    );
    let skipped = margins.input.saturating_sub(padding);
    let row_width = width + 2 * margins.output;
    let plane = height * row_width;
    let mut values = Vec::with_capacity(conv.outputs * plane);
    let output_values: &mut [MaybeUninit<f32>] =
        &mut values.spare_capacity_mut()[..conv.outputs * plane];
    if margins.output > 0 {
        for row in output_values.chunks_exact_mut(row_width) {
            row[..margins.output].fill(MaybeUninit::new(0.0));
            row[margins.output + width..].fill(MaybeUninit::new(0.0));
        }
    }
    let mut taps = Vec::with_capacity(taps_per_filter);
    for r in 0..height {
        taps.clear();
        for i in 0..groups {
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
        let blocks: Vec<Rows<W>> = packed
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
                W::sum_block(rows, place(first, CHANNELS, column, columns), out);
            }
        }
        // The columns left over, channels in the lanes.
        if vectored < width {
            for (group, rows) in blocks.chunks(TAIL_BLOCKS).enumerate() {
                let first = group * TAIL_BLOCKS * CHANNELS;
                let at = place(first, TAIL_BLOCKS * CHANNELS, vectored, width - vectored);
                W::sum_tail(rows, at, &mut output_values[first * plane..]);
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
struct Rows<'a, W = f32> {
    /// The block's packed weights (taps × [`CHANNELS`]).
    weights: &'a [W],
    /// The row's taps.
    taps: &'a [Tap],
    /// The padded input, [`Word::INPUTS`] channels to a value.
    input: &'a [W],
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
