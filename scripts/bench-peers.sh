#!/usr/bin/env bash
# Native engine benchmarks beside onnxruntime on the same models, one run:
# criterion (`cargo bench --bench vad`), then onnxruntime in one thread, then
# a table with ratios. Installs onnxruntime, numpy and the official Silero v6
# file (PyPI silero-vad, no dependencies) into target/bench-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
scripts/onnxruntime-venv.sh
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps silero-vad==6.2.3
cargo bench --locked --bench vad
silero_v6=$("$venv/bin/python" -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("silero_vad").origin).parent / "data" / "silero_vad.onnx")')
"$venv/bin/python" benches/peers/onnxruntime_bench.py "$silero_v6"
