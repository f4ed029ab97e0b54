"""Times the same models under onnxruntime (one thread), beside voiceport's
criterion benchmarks, and prints both with their ratio.

Run by scripts/bench-peers.sh, which installs onnxruntime and the official
Silero file (PyPI silero-vad, without its dependencies) into a venv.
"""
import json
import pathlib
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
# CAM++ as both sides time it: the shipped f16w file over 3 s of feature frames.
CAMPPLUS_F16W = ROOT / "models/campplus_zh_en_common.f16w.onnx"
CAMPPLUS_FRAMES = 300


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def best_of(run, repeats, rounds=5):
    """Best mean seconds per call over `rounds` rounds of `repeats` calls."""
    run()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def silero_frame(path, with_sr):
    model = session(path)
    rng = np.random.default_rng(1)
    feeds = {
        "input": (rng.standard_normal((1, 576)) * 0.1).astype(np.float32),
        "state": np.zeros((2, 1, 128), np.float32),
    }
    if with_sr:
        feeds["sr"] = np.array(16000, np.int64)
    return best_of(lambda: model.run(None, feeds), 2000)


def campplus(path, frames):
    model = session(path)
    feats = np.random.default_rng(2).standard_normal((1, frames, 80)).astype(np.float32)
    return best_of(lambda: model.run(None, {"feats": feats}), 20)


def criterion(name):
    """Mean seconds of a criterion benchmark of `cargo bench --bench vad`."""
    directory = name.replace(":", "_")
    estimates = ROOT / "target" / "criterion" / directory / "new" / "estimates.json"
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["mean"]["point_estimate"] * 1e-9


def main():
    if sys.argv[1] == "--campplus-ms":
        # One figure for scripts/bench-campplus.sh's alternating rounds.
        print(f"{campplus(CAMPPLUS_F16W, CAMPPLUS_FRAMES) * 1e3:.2f}")
        return
    silero_v6 = pathlib.Path(sys.argv[1])
    rows = [
        ("Silero VAD, one 32 ms frame (µs)", 1e6, criterion("vad: one 32 ms frame"),
         silero_frame(silero_v6, True), "silero_vad.onnx v6"),
        ("Silero VAD, one 32 ms frame (µs)", 1e6, criterion("vad: one 32 ms frame"),
         silero_frame(ROOT / "models/silero_vad_openvino_16k.onnx", False), "silero_vad_openvino_16k.onnx"),
        ("CAM++ f16w, 3 s of speech (ms)", 1e3, criterion("campplus f16w: embed 3 s of speech"),
         campplus(CAMPPLUS_F16W, CAMPPLUS_FRAMES), f"same file, {CAMPPLUS_FRAMES} frames"),
    ]
    print("| measure | voiceport | onnxruntime 1 thread | ratio | onnxruntime ran |")
    print("|---|---|---|---|---|")
    for label, scale, ours, theirs, what in rows:
        ours_text = "n/a" if ours is None else f"{ours * scale:.1f}"
        ratio = "n/a" if ours is None else f"{ours / theirs:.2f}"
        print(f"| {label} | {ours_text} | {theirs * scale:.1f} | {ratio} | {what} |")


if __name__ == "__main__":
    main()
