#!/usr/bin/env bash
# Server capacity on this machine: starts the release server on a loopback
# port, runs examples/load.rs (real-time streams, 100 ms messages) at rising
# stream counts for summary and verify streams, writes target/load/*.csv and
# plots p99 latency against streams into docs/load.png.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_EACH:-15}
summary_counts=${SUMMARY_STREAMS:-"50 100 200 300 400 500"}
verify_counts=${VERIFY_STREAMS:-"10 20 40 60 80"}
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check matplotlib==3.10.7
cargo build --locked --release --bin voiceport-server --example load
mkdir -p target/load
ulimit -n 4096
target/release/voiceport-server --addr 127.0.0.1:18080 --www /nonexistent >target/load/server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:18080/health >/dev/null; do sleep 0.2; done
# shellcheck disable=SC2086
target/release/examples/load 127.0.0.1:18080 "$server" summary "$seconds" $summary_counts |
  tee target/load/summary.csv
# shellcheck disable=SC2086
target/release/examples/load 127.0.0.1:18080 "$server" verify "$seconds" $verify_counts |
  tee target/load/verify.csv
"$venv/bin/python" benches/peers/plot_load.py target/load/summary.csv target/load/verify.csv docs/load.png
