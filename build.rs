//! Names the build conditions that the source tests in several places.

fn main() {
    // Without this, Cargo reruns the script (and rebuilds the crate) whenever
    // any file of the package changes, a test file included.
    println!("cargo::rerun-if-changed=build.rs");
    cfg_aliases::cfg_aliases! {
        // CAM++'s direct convolution kernels are built: AVX-512 on x86-64
        // (used where the CPU has it), SIMD128 in wasm.
        direct_kernels: {
            any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))
        },
    }
}
