#!/usr/bin/env bash
# Browser benchmarks in headless Chromium: voiceport's release wasm beside
# onnxruntime-web running vad-web's silero_vad_v6.onnx, CAM++ in wasm, and
# the package's cold start. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-web.sh
node benches/browser/run.mjs
