#!/usr/bin/env bash
# Sets everything up, then runs every check and test: formatting, clippy
# (native and wasm32), native unit/integration tests, wasm tests in headless
# Chromium (in a dedicated worker; the parity tests again with the relaxed-SIMD
# build), the browser end-to-end tests, and the
# npm package under Node.js (API and command line).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A one-off (CI) build gains nothing from incremental compilation's bookkeeping.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

stage() {
  local name=$1; shift
  printf '\n==> %s\n' "$name"
  local start=$SECONDS
  "$@"
  printf '==> %s: ok (%ds)\n' "$name" $((SECONDS - start))
}

stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo fmt --check (fuzz targets)" cargo fmt --manifest-path fuzz/Cargo.toml -- --check
stage "clippy (native)" cargo clippy --all-targets --locked -- -D warnings
stage "clippy (wasm32)" cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
stage "deployment files (hadolint, Kubernetes schemas, nginx -t)" scripts/check-deploy.sh
stage "native tests" cargo test --locked
stage "wasm tests (headless Chromium)" env CHROMEDRIVER="$(command -v chromedriver)" \
  wasm-pack test --headless --chrome
# The package's second engine build (relaxed SIMD: fused multiply-adds) holds the same
# parity; its own target directory keeps either build from rebuilding the other.
stage "wasm parity, relaxed-SIMD build (headless Chromium)" env CHROMEDRIVER="$(command -v chromedriver)" \
  CARGO_TARGET_DIR=target/relaxed-simd RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack test --headless --chrome -- --test voice_parity --test session_parity
if [ -x scripts/browser-tests.sh ]; then
  stage "browser end-to-end tests" scripts/browser-tests.sh
fi
# The package built for the browser tests, under Node.js: its API and command line.
stage "Node.js package and command line" node --test --test-concurrency=1 tests/node/
printf '\nAll tests passed in %d min %d s.\n' $((SECONDS / 60)) $((SECONDS % 60))
