//! The direct convolution's sums with WebAssembly SIMD128: 4 lanes, the
//! columns beyond the last whole vector summed one by one. A build with the
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

/// Sums and stores the block `at` (at most `VECTORS × LANES` columns).
pub(super) fn sum_block(rows: &Rows, at: Place, out: &mut [MaybeUninit<f32>]) {
    let vectors = at.columns / LANES;
    match vectors {
        0 => {}
        1 => sum::<1>(rows, at, out),
        2 => sum::<2>(rows, at, out),
        _ => sum::<VECTORS>(rows, at, out),
    }
    let done = vectors * LANES;
    if done < at.columns {
        let rest = Place {
            column: at.column + done,
            columns: at.columns - done,
            output_offset: at.output_offset + done,
            ..at
        };
        rows.sum_columns(rest, out);
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
            let sum = if rows.relu {
                f32x4_pmax(*sum, f32x4_splat(0.0))
            } else {
                *sum
            };
            // SAFETY: every lane stored is inside the slice just taken.
            unsafe { v128_store(target.add(v * LANES).cast::<v128>(), sum) };
        }
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
