#!/usr/bin/env bash
# Makes the Opus test fixtures with libopus (Debian opus-tools and libopus0)
# from the repository's test speech:
#   tests/data/opus/<name>.opus          Ogg Opus files made by opusenc (several
#                                        bitrates, frame sizes, mono/stereo, 16 and 48 kHz input)
#   tests/data/opus/<name>.16000.wav     libopus's own mono decode at 16 kHz (the engine rate)
#                                        (scripts/libopus_decode.py)
# The decoder-quality test compares voiceport's decode with these.
# With ALL_RATES=1, libopus decodes at 8, 12, 24 and 48 kHz too go to
# target/opus-rates/ for the decoder comparison (examples/opus_compare.rs).
# (opusdec is not used for references: it always decodes at 48 kHz and resamples.)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v opusenc >/dev/null || { echo "needs opusenc/opusdec: apt-get install opus-tools" >&2; exit 1; }
out=tests/data/opus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/*.opus "$out"/*.wav

# Sources: 2 s of speaker A (16 kHz mono); the same at 48 kHz (decoded by
# opusdec from a 128 kb/s encode); a stereo version (right channel delayed
# 5 ms and attenuated); 12 s of the LibriVox file with pauses.
cargo run --quiet --example cut_wav -- tests/data/librispeech/103-1240-0000.flac 1 2 "$work/mono16k.wav"
opusenc --quiet --bitrate 128 "$work/mono16k.wav" "$work/hi.opus"
opusdec --quiet --rate 48000 --no-dither --force-wav "$work/hi.opus" "$work/mono48k.wav"
python3 - "$work/mono16k.wav" "$work/stereo16k.wav" <<'PY'
import struct, sys, wave
src = wave.open(sys.argv[1])
n = src.getnframes()
left = struct.unpack(f"<{n}h", src.readframes(n))
right = [0] * 80 + [int(0.6 * s) for s in left[:-80]]
dst = wave.open(sys.argv[2], "wb")
dst.setnchannels(2); dst.setsampwidth(2); dst.setframerate(16000)
dst.writeframes(b"".join(struct.pack("<hh", l, r) for l, r in zip(left, right)))
PY
python3 - tests/data/librivox/librivox_concat_gaps.wav "$work/librivox12s.wav" <<'PY'
import sys, wave
src = wave.open(sys.argv[1])
dst = wave.open(sys.argv[2], "wb")
dst.setparams(src.getparams())
dst.writeframes(src.readframes(12 * src.getframerate()))
PY

encode() { # name source kbps framesize [extra opusenc flags]
  local name=$1 source=$2 kbps=$3 frames=$4; shift 4
  opusenc --quiet --bitrate "$kbps" --framesize "$frames" "$@" "$source" "$out/$name.opus"
}
encode mono16k_8kbps_20ms "$work/mono16k.wav" 8 20        # SILK narrowband
encode mono16k_16kbps_60ms "$work/mono16k.wav" 16 60      # SILK wideband, 60 ms (multi-frame packets)
encode mono16k_32kbps_10ms "$work/mono16k.wav" 32 10 --music   # CELT / hybrid, 10 ms
encode mono48k_64kbps_20ms "$work/mono48k.wav" 64 20      # fullband
encode mono48k_24kbps_2.5ms "$work/mono48k.wav" 24 2.5 --music # CELT 2.5 ms
encode stereo16k_32kbps_20ms "$work/stereo16k.wav" 32 20  # stereo, mixed to mono on decode
encode librivox_64kbps_20ms "$work/librivox12s.wav" 64 20  # equivalence with the PCM endpoints

for file in "$out"/*.opus; do
  name=$(basename "${file%.opus}")
  [ "$name" = librivox_64kbps_20ms ] && continue # equivalence only: no reference needed
  python3 scripts/libopus_decode.py "$file" 16000 "$out/$name.16000.wav"
  if [ "${ALL_RATES:-}" = 1 ]; then
    mkdir -p target/opus-rates
    for rate in 8000 12000 24000 48000; do
      python3 scripts/libopus_decode.py "$file" "$rate" "target/opus-rates/$name.$rate.wav"
    done
  fi
done
ls -l "$out"
