#!/usr/bin/env bash
# Browser end-to-end tests: builds the web package (dev profile, fast) and
# the native server, then drives Debian's headless Chromium with
# playwright-core under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-web.sh --dev
cargo build --locked --bin voiceport-server
node --test --test-concurrency=1 tests/browser/
