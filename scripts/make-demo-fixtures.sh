#!/usr/bin/env bash
# Makes the WAV fixtures of the demo's end-to-end test from the LibriSpeech
# test files: speaker A's enrollment and a later stretch of the same
# recording, and speaker B; the verify recordings end with 1 s of silence so
# the endpoint detector fires when the fake microphone loops them.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p tests/data/demo
cut() { cargo run --quiet --example cut_wav -- "$@"; }
cut tests/data/librispeech/103-1240-0000.flac 0 6 tests/data/demo/speaker_a_enroll.wav
cut tests/data/librispeech/103-1240-0000.flac 7 5 tests/data/demo/speaker_a_verify.wav 1
cut tests/data/librispeech/1069-133699-0000.flac 0.5 5 tests/data/demo/speaker_b_verify.wav 1
