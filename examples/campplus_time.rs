//! CAM++ alone, timed the way `benches/peers/onnxruntime_bench.py` times
//! onnxruntime: the network over `frames` random feature frames (no
//! filterbank, no normalisation), the best mean of `rounds` rounds of
//! `repeats` calls; prints milliseconds. `scripts/bench-campplus.sh`
//! alternates it with onnxruntime so both see the same host.
//!
//! `cargo run --release --example campplus_time -- [frames] [repeats] [rounds]`
//! (defaults: 300, 20, 5).

use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::SmallRng};
use voiceport::voice::{CamPlusModel, FBANK_BINS, Features};

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a count"))
        .collect();
    let frames = args.first().copied().unwrap_or(300);
    let repeats = args.get(1).copied().unwrap_or(20);
    let rounds = args.get(2).copied().unwrap_or(5);
    let model =
        CamPlusModel::from_bytes(include_bytes!("../models/campplus_zh_en_common.f16w.onnx"))
            .expect("CAM++");
    let mut rng = SmallRng::seed_from_u64(2);
    let features = Features {
        values: (0..frames * FBANK_BINS)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect(),
    };
    let run = || model.embed(&features).expect("embedding");
    run();
    let best = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..repeats {
                std::hint::black_box(run());
            }
            start.elapsed().as_secs_f64() / repeats as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("{:.2}", best * 1e3);
}
