//! The direct convolution's sums with WebAssembly SIMD128: 4 lanes; the
//! columns left over by whole vectors summed with the block's 4 channels in
//! the lanes. A build with the
//! relaxed-SIMD target feature multiplies and adds in one instruction
//! (`f32x4.relaxed_madd`: fused where the CPU can, so its last bits may
//! differ between machines); the package ships both builds.

use std::arch::wasm32::{f32x4_pmax, f32x4_splat, v128, v128_load, v128_store};
use std::mem::MaybeUninit;

use super::{Place, Rows};

/// Output channels summed together (one register each per column vector).
pub(super) const CHANNELS: usize = 4;
/// Column vectors summed together.
pub(super) const VECTORS: usize = 3;
/// Columns in one vector.
pub(super) const LANES: usize = 4;
/// Blocks of channels the tail sums in one vector (`CHANNELS` lanes).
pub(super) const TAIL_BLOCKS: usize = 1;

/// The kernels' name in diagnostics.
#[cfg(target_feature = "relaxed-simd")]
pub(crate) const KERNELS: &str = "relaxed SIMD";
/// The kernels' name in diagnostics.
#[cfg(not(target_feature = "relaxed-simd"))]
pub(crate) const KERNELS: &str = "SIMD128";

/// SIMD128 is part of the build (the crate's wasm target feature).
pub(crate) fn available() -> bool {
    true
}

/// Sums and stores the block `at` (whole vectors, at most `VECTORS`).
pub(super) fn sum_block(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    assert_eq!(at.columns % LANES, 0, "a partial vector");
    match at.columns / LANES {
        1 => sum::<1>(rows, at, out),
        2 => sum::<2>(rows, at, out),
        VECTORS => sum::<VECTORS>(rows, at, out),
        _ => unreachable!("more vectors than a block holds"),
    }
}

/// Sums `N × LANES` output columns of the block's channels over every tap
/// and stores them in `out` (the output from the block's first channel on).
fn sum<const N: usize>(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    let width = N * LANES;
    let mut sums: [[v128; N]; CHANNELS] = rows.start.map(|bias| [f32x4_splat(bias); N]);
    for tap in rows.taps {
        let first = tap.offset + at.column;
        let source = rows.input[first..first + width].as_ptr();
        // SAFETY: every lane read is inside the slice just taken.
        let x: [v128; N] =
            std::array::from_fn(|v| unsafe { v128_load(source.add(v * LANES).cast::<v128>()) });
        let weights = &rows.weights[tap.weight * CHANNELS..][..CHANNELS];
        for (channel, weight) in sums.iter_mut().zip(weights) {
            let weight = f32x4_splat(*weight);
            for (sum, x) in channel.iter_mut().zip(&x) {
                *sum = multiply_add(weight, *x, *sum);
            }
        }
    }
    for (channel, sums) in sums.iter().enumerate().take(at.channels) {
        let first = channel * at.plane + at.output_offset;
        let target = out[first..first + width].as_mut_ptr().cast::<f32>();
        for (v, sum) in sums.iter().enumerate() {
            // SAFETY: every lane stored is inside the slice just taken.
            unsafe { v128_store(target.add(v * LANES).cast::<v128>(), clamp(rows, *sum)) };
        }
    }
}

/// Sums and stores the tail `at` (fewer than `LANES` columns) of the one
/// block in `group`.
pub(super) fn sum_tail(group: &[Rows], at: Place, out: &mut [MaybeUninit<f32>]) {
    let [rows] = group else {
        unreachable!("the tail sums one block at a time")
    };
    match at.columns {
        1 => tail::<1>(rows, at, out),
        2 => tail::<2>(rows, at, out),
        3 => tail::<3>(rows, at, out),
        _ => unreachable!("a tail of a whole vector or more"),
    }
}

/// Sums `T` output columns of the block's channels, in the lanes, over
/// every tap, and stores each column's sums in its channels' rows of `out`
/// (the output from the block's first channel on).
fn tail<const T: usize>(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    // SAFETY: `CHANNELS` (= 4) values read from a 4-value array.
    let start = unsafe { v128_load(rows.start.as_ptr().cast::<v128>()) };
    let mut sums = [start; T];
    for tap in rows.taps {
        let first = tap.offset + at.column;
        let source = &rows.input[first..first + T];
        let weights = &rows.weights[tap.weight * CHANNELS..][..CHANNELS];
        // SAFETY: 4 values read from the 4-value slice just taken.
        let weights = unsafe { v128_load(weights.as_ptr().cast::<v128>()) };
        for (sum, x) in sums.iter_mut().zip(source) {
            *sum = multiply_add(f32x4_splat(*x), weights, *sum);
        }
    }
    for (c, sum) in sums.iter().enumerate() {
        let mut lanes = [0.0f32; CHANNELS];
        // SAFETY: 4 values stored in a 4-value array.
        unsafe { v128_store(lanes.as_mut_ptr().cast::<v128>(), clamp(rows, *sum)) };
        for (channel, value) in lanes.iter().enumerate().take(at.channels) {
            out[channel * at.plane + at.output_offset + c].write(*value);
        }
    }
}

/// `sum` clamped at 0 if the rows' outputs are.
fn clamp(rows: &Rows, sum: v128) -> v128 {
    if rows.relu {
        f32x4_pmax(sum, f32x4_splat(0.0))
    } else {
        sum
    }
}

/// `a × b + c`, fused where the build has relaxed SIMD.
#[inline(always)]
fn multiply_add(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    return std::arch::wasm32::f32x4_relaxed_madd(a, b, c);
    #[cfg(not(target_feature = "relaxed-simd"))]
    return std::arch::wasm32::f32x4_add(c, std::arch::wasm32::f32x4_mul(a, b));
}
