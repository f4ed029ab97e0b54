//! The direct convolution's sums with AVX-512: 16 lanes; the columns left
//! over by whole vectors summed with two blocks' channels in the lanes.
//! The same kernels multiply `f32` values with fused multiply-adds, or
//! [`Bf16Pair`]s with AVX-512 BF16's pair dot products (each 32-bit lane
//! holds two inputs or two weights; the lane's sum gains both products).

use std::arch::x86_64::{
    __m512, __m512bh, __m512i, _mm256_castps_pd, _mm256_loadu_ps, _mm512_castpd_ps,
    _mm512_castps_pd, _mm512_castps256_ps512, _mm512_cvtne2ps_pbh, _mm512_dpbf16_ps,
    _mm512_fmadd_ps, _mm512_insertf64x4, _mm512_loadu_ps, _mm512_loadu_si512,
    _mm512_mask_i32scatter_ps, _mm512_max_ps, _mm512_mullo_epi32, _mm512_permutexvar_epi16,
    _mm512_set1_epi32, _mm512_set1_ps, _mm512_setr_epi32, _mm512_setzero_ps, _mm512_storeu_ps,
    _mm512_storeu_si512,
};
use std::borrow::Cow;
use std::mem::MaybeUninit;

use super::{Place, Rows, Word};

/// Output channels summed together (one register each per column vector).
pub(super) const CHANNELS: usize = 8;
/// Column vectors summed together.
pub(super) const VECTORS: usize = 3;
/// Columns in one vector.
pub(super) const LANES: usize = 16;
/// Blocks of channels the tail sums in one vector (8 lanes each).
pub(super) const TAIL_BLOCKS: usize = 2;

/// The kernels' name in diagnostics.
pub(crate) const KERNELS: &str = "AVX-512";

/// Whether this CPU runs the direct convolution.
pub(crate) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// Two values rounded to bfloat16 in one 32-bit lane: the first in the low
/// half, the second in the high half (as AVX-512 BF16 pairs them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(transparent)]
pub(super) struct Bf16Pair(u32);

impl Bf16Pair {
    /// `first` and `second`, each rounded to the nearest bfloat16.
    fn new(first: f32, second: f32) -> Self {
        Self(bf16_bits(first) | (bf16_bits(second) << 16))
    }
}

/// The bfloat16 nearest to `x` (ties to even), in the low 16 bits.
fn bf16_bits(x: f32) -> u32 {
    let bits = x.to_bits();
    if x.is_nan() {
        return (bits >> 16) | 0x40;
    }
    (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
}

/// `x` rounded to the nearest bfloat16, as the bf16 kernels round their
/// inputs and weights.
#[cfg(test)]
pub(crate) fn round_to_bf16(x: f32) -> f32 {
    f32::from_bits(bf16_bits(x) << 16)
}

impl Word for Bf16Pair {
    const INPUTS: usize = 2;

    fn gather(value: impl Fn(usize) -> f32) -> Self {
        Self::new(value(0), value(1))
    }

    fn gathered(values: Cow<'_, [f32]>, channels: usize, plane: usize) -> Cow<'_, [Self]> {
        let mut pairs = Vec::with_capacity(channels.div_ceil(2) * plane);
        let zeros = vec![0.0; if channels % 2 == 1 { plane } else { 0 }];
        for pair in values[..channels * plane].chunks(2 * plane) {
            let (first, second) = pair.split_at(plane);
            let second = if second.is_empty() {
                &zeros[..]
            } else {
                second
            };
            pair_up(first, second, &mut pairs);
        }
        Cow::Owned(pairs)
    }

    fn sum_block(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]) {
        sum_block(rows, at, out);
    }

    fn sum_tail(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]) {
        sum_tail(group, at, out);
    }
}

/// What the kernels multiply, 32 bits per lane, and the instructions they
/// are compiled for.
pub(super) trait Products: Copy {
    /// Whether this CPU has the instructions.
    fn available() -> bool;

    /// The value's 32 bits, as the kernels load them.
    fn bits(self) -> f32;

    /// `sum + x × w`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instructions ([`Self::available`]).
    unsafe fn multiply_add(sum: __m512, x: __m512, w: __m512) -> __m512;

    /// [`sum`] compiled for these instructions.
    ///
    /// # Safety
    /// As [`sum`]'s, with these instructions.
    unsafe fn sum<const N: usize>(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]);

    /// [`tail`] compiled for these instructions.
    ///
    /// # Safety
    /// As [`tail`]'s, with these instructions.
    unsafe fn tail<const T: usize>(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]);
}

impl Products for f32 {
    fn available() -> bool {
        available()
    }

    #[inline(always)]
    fn bits(self) -> f32 {
        self
    }

    #[inline(always)]
    unsafe fn multiply_add(sum: __m512, x: __m512, w: __m512) -> __m512 {
        // SAFETY: the caller's contract (AVX-512F).
        unsafe { _mm512_fmadd_ps(x, w, sum) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn sum<const N: usize>(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]) {
        // SAFETY: compiled for AVX-512F, which the caller checked.
        unsafe { sum::<Self, N>(rows, at, out) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn tail<const T: usize>(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]) {
        // SAFETY: compiled for AVX-512F; the caller's contract.
        unsafe { tail::<Self, T>(group, at, out) }
    }
}

impl Products for Bf16Pair {
    fn available() -> bool {
        available()
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    }

    #[inline(always)]
    fn bits(self) -> f32 {
        f32::from_bits(self.0)
    }

    #[inline(always)]
    unsafe fn multiply_add(sum: __m512, x: __m512, w: __m512) -> __m512 {
        // SAFETY: the caller's contract (AVX-512 BF16); the casts only
        // rename the 512 bits.
        let pairs = |v: __m512| unsafe { std::mem::transmute::<__m512, __m512bh>(v) };
        unsafe { _mm512_dpbf16_ps(sum, pairs(x), pairs(w)) }
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn sum<const N: usize>(rows: &Rows<Self>, at: Place, out: &mut [MaybeUninit<f32>]) {
        // SAFETY: compiled for AVX-512 BF16, which the caller checked.
        unsafe { sum::<Self, N>(rows, at, out) }
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn tail<const T: usize>(group: &[Rows<Self>], at: Place, out: &mut [MaybeUninit<f32>]) {
        // SAFETY: compiled for AVX-512 BF16; the caller's contract.
        unsafe { tail::<Self, T>(group, at, out) }
    }
}

/// `first` and `second` (of one length) rounded to bfloat16 and paired
/// value by value, appended to `pairs`. The CPU must have AVX-512 BF16
/// ([`Products::available`] of [`Bf16Pair`]).
fn pair_up(first: &[f32], second: &[f32], pairs: &mut Vec<Bf16Pair>) {
    assert!(
        Bf16Pair::available(),
        "bfloat16 pairs on a CPU without them"
    );
    assert_eq!(first.len(), second.len(), "pairs of rows of two lengths");
    // SAFETY: the instructions were just checked.
    unsafe { pair_up_bf16(first, second, pairs) }
}

/// [`pair_up`], 16 pairs per instruction.
///
/// # Safety
/// The CPU must have AVX-512 BF16 (and BW).
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn pair_up_bf16(first: &[f32], second: &[f32], pairs: &mut Vec<Bf16Pair>) {
    // Rounded, the 16 firsts are the low 16 halves, the seconds the high
    // ones: lane `i` takes halves `i` and `16 + i`.
    let interleave: [u32; LANES] = std::array::from_fn(|i| (i | ((LANES + i) << 16)) as u32);
    // SAFETY: 16 values read from a 16-value array.
    let interleave = unsafe { _mm512_loadu_si512(interleave.as_ptr().cast::<__m512i>()) };
    let whole = first.len() - first.len() % LANES;
    pairs.reserve(first.len());
    let start = pairs.len();
    // SAFETY: `whole` pairs were reserved past `start`; every load reads 16
    // values at `i < whole` of a slice of at least `whole`.
    unsafe {
        let target = pairs.as_mut_ptr().add(start);
        for i in (0..whole).step_by(LANES) {
            let low = _mm512_loadu_ps(first.as_ptr().add(i));
            let high = _mm512_loadu_ps(second.as_ptr().add(i));
            let rounded: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
            let paired = _mm512_permutexvar_epi16(interleave, rounded);
            _mm512_storeu_si512(target.add(i).cast::<__m512i>(), paired);
        }
        pairs.set_len(start + whole);
    }
    let rest = first[whole..].iter().zip(&second[whole..]);
    pairs.extend(rest.map(|(&x, &y)| Bf16Pair::new(x, y)));
}

/// Sums and stores the block `at` (whole vectors, at most `VECTORS`).
pub(super) fn sum_block<W: Products>(rows: &Rows<W>, at: Place, out: &mut [MaybeUninit<f32>]) {
    assert!(W::available(), "AVX-512 sums on a CPU without them");
    assert_eq!(at.columns % LANES, 0, "a partial vector");
    // SAFETY: the instructions were just checked; `sum` stays inside its slices.
    unsafe {
        match at.columns / LANES {
            1 => W::sum::<1>(rows, at, out),
            2 => W::sum::<2>(rows, at, out),
            VECTORS => W::sum::<VECTORS>(rows, at, out),
            _ => unreachable!("more vectors than a block holds"),
        }
    }
}

/// Sums `N × LANES` output columns of the block's channels over every tap
/// and stores them in `out` (the output from the block's first channel on).
///
/// # Safety
/// The CPU must have `W`'s instructions, and the caller must be compiled
/// for them (this is inlined into it). Loads and stores are checked
/// against their slices.
#[inline(always)]
unsafe fn sum<W: Products, const N: usize>(
    rows: &Rows<W>,
    at: Place,
    out: &mut [MaybeUninit<f32>],
) {
    // SAFETY (whole body): the caller's contract; every pointer read or
    // written is inside the slice taken just before.
    unsafe {
        let mut sums: [[__m512; N]; CHANNELS] = rows.start.map(|bias| [_mm512_set1_ps(bias); N]);
        for tap in rows.taps {
            let first = tap.offset + at.column;
            let source = rows.input[first..first + N * LANES].as_ptr().cast::<f32>();
            let x: [__m512; N] = std::array::from_fn(|v| _mm512_loadu_ps(source.add(v * LANES)));
            let weights = &rows.weights[tap.weight * CHANNELS..][..CHANNELS];
            for c in 0..CHANNELS {
                let weight = _mm512_set1_ps(weights[c].bits());
                for v in 0..N {
                    sums[c][v] = W::multiply_add(sums[c][v], x[v], weight);
                }
            }
        }
        for (channel, sums) in sums.iter().enumerate().take(at.channels) {
            let first = channel * at.plane + at.output_offset;
            let target = out[first..first + N * LANES].as_mut_ptr().cast::<f32>();
            for (v, sum) in sums.iter().enumerate() {
                _mm512_storeu_ps(target.add(v * LANES), clamp(rows.relu, *sum));
            }
        }
    }
}

/// Sums and stores the tail `at` (fewer than `LANES` columns) of the
/// blocks `group` (one or `TAIL_BLOCKS`, sharing their taps).
pub(super) fn sum_tail<W: Products>(group: &[Rows<W>], at: Place, out: &mut [MaybeUninit<f32>]) {
    assert!(W::available(), "AVX-512 sums on a CPU without them");
    // Each column's vector is scattered to its channels' rows: the last
    // value stored must be inside `out`.
    assert!(
        at.channels > 0
            && (at.channels - 1) * at.plane + at.output_offset + at.columns <= out.len()
    );
    assert!(
        at.plane * LANES <= i32::MAX as usize,
        "a plane too large to scatter"
    );
    // SAFETY: the instructions and the stores' reach were just checked.
    unsafe {
        match at.columns {
            1 => W::tail::<1>(group, at, out),
            2 => W::tail::<2>(group, at, out),
            3 => W::tail::<3>(group, at, out),
            4 => W::tail::<4>(group, at, out),
            5 => W::tail::<5>(group, at, out),
            6 => W::tail::<6>(group, at, out),
            7 => W::tail::<7>(group, at, out),
            8 => W::tail::<8>(group, at, out),
            9 => W::tail::<9>(group, at, out),
            10 => W::tail::<10>(group, at, out),
            11 => W::tail::<11>(group, at, out),
            12 => W::tail::<12>(group, at, out),
            13 => W::tail::<13>(group, at, out),
            14 => W::tail::<14>(group, at, out),
            15 => W::tail::<15>(group, at, out),
            _ => unreachable!("a tail of a whole vector or more"),
        }
    }
}

/// Sums `T` output columns of two blocks' channels (the first block's in
/// the low 8 lanes, the second's — or the first's again if there is none —
/// in the high 8) over every tap, and scatters each column's sums to its
/// channels' rows in `out` (from the group's first channel on).
///
/// # Safety
/// The CPU must have `W`'s instructions and the caller must be compiled
/// for them (this is inlined into it); every channel's column
/// `at.output_offset + T - 1` must be inside `out` (at.channels of them,
/// `at.plane` apart). Loads are checked against their slices.
#[inline(always)]
unsafe fn tail<W: Products, const T: usize>(
    group: &[Rows<W>],
    at: Place,
    out: &mut [MaybeUninit<f32>],
) {
    let low = &group[0];
    let high = group.get(1).unwrap_or(low);
    let mut start = [0.0; 2 * CHANNELS];
    start[..CHANNELS].copy_from_slice(&low.start);
    start[CHANNELS..].copy_from_slice(&high.start);
    // SAFETY (whole body): the caller's contract; 16 values read from a
    // 16-value array, 8 from each 8-value slice taken just before.
    unsafe {
        let mut sums = [_mm512_loadu_ps(start.as_ptr()); T];
        for tap in low.taps {
            let first = tap.offset + at.column;
            let source = &low.input[first..first + T];
            let weights = |rows: &Rows<W>| {
                let block = &rows.weights[tap.weight * CHANNELS..][..CHANNELS];
                _mm256_loadu_ps(block.as_ptr().cast::<f32>())
            };
            let weights = _mm512_castpd_ps(_mm512_insertf64x4::<1>(
                _mm512_castps_pd(_mm512_castps256_ps512(weights(low))),
                _mm256_castps_pd(weights(high)),
            ));
            for (sum, x) in sums.iter_mut().zip(source) {
                *sum = W::multiply_add(*sum, _mm512_set1_ps(x.bits()), weights);
            }
        }
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let channel_offsets = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(at.plane as i32));
        let stored = ((1u32 << at.channels.min(2 * CHANNELS)) - 1) as u16;
        let target = out[at.output_offset..].as_mut_ptr().cast::<f32>();
        for (c, sum) in sums.iter().enumerate() {
            // Lane `l < at.channels` stores at `l × plane` past the column,
            // inside `out` (the caller's contract); the others are masked.
            _mm512_mask_i32scatter_ps::<4>(
                target.add(c),
                stored,
                channel_offsets,
                clamp(low.relu, *sum),
            );
        }
    }
}

/// `sum` clamped at 0 if `relu`.
#[inline(always)]
unsafe fn clamp(relu: bool, sum: __m512) -> __m512 {
    // SAFETY: the caller's contract (AVX-512F).
    unsafe {
        if relu {
            _mm512_max_ps(sum, _mm512_setzero_ps())
        } else {
            sum
        }
    }
}
