//! The direct convolution's sums with AVX-512: 16 lanes, the last vector of
//! a row masked.

use std::arch::x86_64::{
    __m512, __mmask16, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_max_ps, _mm512_set1_ps, _mm512_setzero_ps,
};
use std::mem::MaybeUninit;

use super::{Place, Rows};

/// Output channels summed together (one register each per column vector).
pub(super) const CHANNELS: usize = 8;
/// Column vectors summed together.
pub(super) const VECTORS: usize = 3;
/// Columns in one vector.
pub(super) const LANES: usize = 16;

/// The kernels' name in diagnostics.
pub(crate) const KERNELS: &str = "AVX-512";

/// Whether this CPU runs the direct convolution.
pub(crate) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// Sums and stores the block `at` (at most `VECTORS × LANES` columns).
pub(super) fn sum_block(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    assert!(available(), "AVX-512 sums on a CPU without AVX-512");
    // SAFETY: AVX-512 was just checked; `sum` stays inside its slices.
    unsafe {
        match at.columns.div_ceil(LANES) {
            1 => sum::<1>(rows, at, out),
            2 => sum::<2>(rows, at, out),
            _ => sum::<VECTORS>(rows, at, out),
        }
    }
}

/// Sums `at.columns` (≤ `N × LANES`) output columns of the block's channels
/// over every tap and stores them in `out` (the output from the block's
/// first channel on).
///
/// # Safety
/// The CPU must have AVX-512F. (Loads and stores are checked against
/// their slices; lanes past `at.columns` are masked, so never touched.)
#[target_feature(enable = "avx512f")]
unsafe fn sum<const N: usize>(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    let masks: [__mmask16; N] = std::array::from_fn(|v| {
        let lanes = at.columns.saturating_sub(v * LANES).min(LANES);
        ((1u32 << lanes) - 1) as __mmask16
    });
    let mut sums: [[__m512; N]; CHANNELS] = rows.start.map(|bias| [_mm512_set1_ps(bias); N]);
    for tap in rows.taps {
        let first = tap.offset + at.column;
        let source = rows.input[first..first + at.columns].as_ptr();
        // SAFETY: lanes up to `at.columns` are inside the input (the slice
        // just taken); masked lanes are not read.
        let x: [__m512; N] = std::array::from_fn(|v| unsafe {
            _mm512_maskz_loadu_ps(masks[v], source.add(v * LANES))
        });
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
        let target = out[first..first + at.columns].as_mut_ptr().cast::<f32>();
        for (v, sum) in sums.iter().enumerate() {
            let sum = if rows.relu {
                _mm512_max_ps(*sum, _mm512_setzero_ps())
            } else {
                *sum
            };
            // SAFETY: the lanes stored are inside the slice just taken.
            unsafe { _mm512_mask_storeu_ps(target.add(v * LANES), masks[v], sum) };
        }
    }
}
