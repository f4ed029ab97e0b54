//! The direct convolution's sums with AVX-512: 16 lanes; the columns left
//! over by whole vectors summed with two blocks' channels in the lanes.

use std::arch::x86_64::{
    __m512, _mm256_castps_pd, _mm256_loadu_ps, _mm512_castpd_ps, _mm512_castps_pd,
    _mm512_castps256_ps512, _mm512_fmadd_ps, _mm512_insertf64x4, _mm512_loadu_ps,
    _mm512_mask_i32scatter_ps, _mm512_max_ps, _mm512_mullo_epi32, _mm512_set1_epi32,
    _mm512_set1_ps, _mm512_setr_epi32, _mm512_setzero_ps, _mm512_storeu_ps,
};
use std::mem::MaybeUninit;

use super::{Place, Rows};

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

/// Sums and stores the block `at` (whole vectors, at most `VECTORS`).
pub(super) fn sum_block(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    assert!(available(), "AVX-512 sums on a CPU without AVX-512");
    assert_eq!(at.columns % LANES, 0, "a partial vector");
    // SAFETY: AVX-512 was just checked; `sum` stays inside its slices.
    unsafe {
        match at.columns / LANES {
            1 => sum::<1>(rows, at, out),
            2 => sum::<2>(rows, at, out),
            VECTORS => sum::<VECTORS>(rows, at, out),
            _ => unreachable!("more vectors than a block holds"),
        }
    }
}

/// Sums `N × LANES` output columns of the block's channels over every tap
/// and stores them in `out` (the output from the block's first channel on).
///
/// # Safety
/// The CPU must have AVX-512F. (Loads and stores are checked against
/// their slices.)
#[target_feature(enable = "avx512f")]
unsafe fn sum<const N: usize>(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    let mut sums: [[__m512; N]; CHANNELS] = rows.start.map(|bias| [_mm512_set1_ps(bias); N]);
    for tap in rows.taps {
        let first = tap.offset + at.column;
        let source = rows.input[first..first + N * LANES].as_ptr();
        // SAFETY: every lane read is inside the slice just taken.
        let x: [__m512; N] =
            std::array::from_fn(|v| unsafe { _mm512_loadu_ps(source.add(v * LANES)) });
        let weights = &rows.weights[tap.weight * CHANNELS..][..CHANNELS];
        for (channel, weight) in sums.iter_mut().zip(weights) {
            let weight = _mm512_set1_ps(*weight);
            for (sum, x) in channel.iter_mut().zip(&x) {
                *sum = _mm512_fmadd_ps(weight, *x, *sum);
            }
        }
    }
    for (channel, sums) in sums.iter().enumerate().take(at.channels) {
        let first = channel * at.plane + at.output_offset;
        let target = out[first..first + N * LANES].as_mut_ptr().cast::<f32>();
        for (v, sum) in sums.iter().enumerate() {
            // SAFETY: the lanes stored are inside the slice just taken.
            unsafe { _mm512_storeu_ps(target.add(v * LANES), clamp(rows, *sum)) };
        }
    }
}

/// Sums and stores the tail `at` (fewer than `LANES` columns) of the
/// blocks `group` (one or `TAIL_BLOCKS`, sharing their taps).
pub(super) fn sum_tail(group: &[Rows], at: Place, out: &mut [MaybeUninit<f32>]) {
    assert!(available(), "AVX-512 sums on a CPU without AVX-512");
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
    // SAFETY: AVX-512 and the stores' reach were just checked.
    unsafe {
        match at.columns {
            1 => tail::<1>(group, at, out),
            2 => tail::<2>(group, at, out),
            3 => tail::<3>(group, at, out),
            4 => tail::<4>(group, at, out),
            5 => tail::<5>(group, at, out),
            6 => tail::<6>(group, at, out),
            7 => tail::<7>(group, at, out),
            8 => tail::<8>(group, at, out),
            9 => tail::<9>(group, at, out),
            10 => tail::<10>(group, at, out),
            11 => tail::<11>(group, at, out),
            12 => tail::<12>(group, at, out),
            13 => tail::<13>(group, at, out),
            14 => tail::<14>(group, at, out),
            15 => tail::<15>(group, at, out),
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
/// The CPU must have AVX-512F, and every channel's column
/// `at.output_offset + T - 1` must be inside `out` (at.channels of them,
/// `at.plane` apart). Loads are checked against their slices.
#[target_feature(enable = "avx512f")]
unsafe fn tail<const T: usize>(group: &[Rows], at: Place, out: &mut [MaybeUninit<f32>]) {
    let low = &group[0];
    let high = group.get(1).unwrap_or(low);
    let mut start = [0.0; 2 * CHANNELS];
    start[..CHANNELS].copy_from_slice(&low.start);
    start[CHANNELS..].copy_from_slice(&high.start);
    // SAFETY: 16 values read from a 16-value array.
    let mut sums = [unsafe { _mm512_loadu_ps(start.as_ptr()) }; T];
    for tap in low.taps {
        let first = tap.offset + at.column;
        let source = &low.input[first..first + T];
        let weights = |rows: &Rows| rows.weights[tap.weight * CHANNELS..][..CHANNELS].as_ptr();
        // SAFETY: 8 values read from each 8-value slice just taken.
        let weights = unsafe {
            _mm512_castpd_ps(_mm512_insertf64x4::<1>(
                _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(weights(low)))),
                _mm256_castps_pd(_mm256_loadu_ps(weights(high))),
            ))
        };
        for (sum, x) in sums.iter_mut().zip(source) {
            *sum = _mm512_fmadd_ps(_mm512_set1_ps(*x), weights, *sum);
        }
    }
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let channel_offsets = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(at.plane as i32));
    let stored = ((1u32 << at.channels.min(2 * CHANNELS)) - 1) as u16;
    let target = out[at.output_offset..].as_mut_ptr().cast::<f32>();
    for (c, sum) in sums.iter().enumerate() {
        // SAFETY: lane `l < at.channels` stores at `l × plane` past the
        // column, inside `out` (the caller's contract); the others are masked.
        unsafe {
            _mm512_mask_i32scatter_ps::<4>(target.add(c), stored, channel_offsets, clamp(low, *sum))
        };
    }
}

/// `sum` clamped at 0 if the rows' outputs are.
#[target_feature(enable = "avx512f")]
fn clamp(rows: &Rows, sum: __m512) -> __m512 {
    if rows.relu {
        _mm512_max_ps(sum, _mm512_setzero_ps())
    } else {
        sum
    }
}
