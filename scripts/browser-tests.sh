#!/usr/bin/env bash
# Browser end-to-end tests: builds the web package (dev profile, fast) and
# the native server (as the native tests build it: `cargo build` alone would
# resolve features without the dev-dependencies and rebuild a dozen crates
# after them), then drives Debian's headless Chromium with
# playwright-core under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-web.sh --dev
cargo test --locked --no-run
node --test --test-concurrency=1 tests/browser/
