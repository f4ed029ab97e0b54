#!/usr/bin/env bash
# Hostile soak: starts the release server on a loopback port and runs
# examples/soak.rs against it (attacks beside 20 real-time streams for
# SOAK_SECONDS, default 180), printing memory, latency and cancelled work.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SOAK_SECONDS:-180}
cargo build --locked --release --bin voiceport-server --example soak
mkdir -p target/soak
ulimit -n 4096
target/release/voiceport-server --addr 127.0.0.1:18081 --www /nonexistent >target/soak/server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:18081/health >/dev/null; do sleep 0.2; done
target/release/examples/soak 127.0.0.1:18081 "$server" "$seconds" | tee target/soak/result.md
