#!/usr/bin/env bash
# Sets everything up, builds, and runs the server on :8080 (WebSocket and
# REST endpoints plus the demo page). Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -x scripts/build-web.sh ]; then
  scripts/build-web.sh
fi
exec cargo run --release --locked --bin voiceport-server -- "$@"
