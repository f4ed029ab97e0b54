#!/usr/bin/env bash
# The Python environment the peer benchmarks run onnxruntime in:
# target/bench-venv with onnxruntime (one pinned version) and numpy, from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check onnxruntime==1.30.0 numpy
