#!/usr/bin/env bash
# CAM++ beside onnxruntime (one thread, the same f16w file, 300 frames) in
# alternating rounds, so that a host whose speed drifts slows both alike: each
# round times voiceport's network (examples/campplus_time.rs), then
# onnxruntime's (benches/peers/onnxruntime_bench.py), each the best mean of
# 5 × 20 calls on features alone. Prints each round and the median ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-8}
venv=target/bench-venv
scripts/onnxruntime-venv.sh
cargo build --locked --release --example campplus_time
echo "| round | voiceport ms | onnxruntime ms | ratio |"
echo "|---|---|---|---|"
ratios=()
for round in $(seq "$rounds"); do
  ours=$(target/release/examples/campplus_time)
  theirs=$("$venv/bin/python" benches/peers/onnxruntime_bench.py --campplus-ms)
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$ratio")
  echo "| $round | $ours | $theirs | $ratio |"
done
printf '%s\n' "${ratios[@]}" | sort -n |
  awk '{ r[NR] = $1 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "median ratio: %.3f\n", m }'
