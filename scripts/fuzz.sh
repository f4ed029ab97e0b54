#!/usr/bin/env bash
# Fuzzes the parsers with cargo-fuzz (libFuzzer, nightly): every target, or
# those named, for RUNS executions each (default 10 million), or for at most
# SECONDS seconds each when set. Seeds come from tests/data; crashes are
# written to fuzz/artifacts/<target>/ and must become regression tests.
# SANITIZER=none runs without AddressSanitizer (several times the executions
# per second; Rust's own checks still catch panics and overflows). MAX_LEN caps
# the input size in bytes (default 8192).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10000000}
sanitizer=${SANITIZER:-address}
max_len=${MAX_LEN:-8192}
limit=()
if [ -n "${SECONDS_EACH:-}" ]; then limit=(-max_total_time="$SECONDS_EACH"); fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

seeds=target/fuzz-seeds
mkdir -p "$seeds"/{template,wav,opus_input,session}
cp tests/data/demo/*.wav "$seeds/wav/" 2>/dev/null || true
cargo run --quiet --example fuzz_seeds -- "$seeds"  # dev profile: links in seconds, not minutes of LTO

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(template wav opus_input session); fi
for target in "${targets[@]}"; do
  printf '\n==> fuzz %s\n' "$target"
  mkdir -p "fuzz/corpus/$target"
  log=target/fuzz-$target.log
  if ! cargo +nightly fuzz run -O -s "$sanitizer" "$target" "fuzz/corpus/$target" "$seeds/$target" -- \
    -runs="$runs" "${limit[@]}" -max_len="$max_len" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    printf '==> fuzz %s: FAILED (input saved under fuzz/artifacts/%s/)\n' "$target" "$target"
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log"
done
