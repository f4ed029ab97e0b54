#!/usr/bin/env bash
# Builds the wasm engine (wasm-pack, --target web) and assembles:
#   dist/pkg/  the publishable npm package (pkg-template + wasm-pack output + models)
#   dist/      the demo page (www/) next to it, served by voiceport-server
# Default: size-optimized build plus `wasm-opt -Oz` (npm binaryen; about 3 min,
# skipped when up to date). `--dev`: fast unoptimized build for tests.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:---profile=wasm-release}

# build <out dir> <extra wasm-opt flags> [cargo env…]: the engine with wasm-pack,
# then (unless --dev) `wasm-opt -Oz` when out of date; prints the wasm file to ship.
build() {
  local out=$1 extra=$2; shift 2
  env "$@" wasm-pack --quiet build --target web "$profile" --no-opt --out-dir "$out" \
    --out-name voiceport --no-pack >&2
  local wasm=$out/voiceport_bg.wasm
  if [ "$profile" != "--dev" ]; then
    local optimized=$out/voiceport_bg.opt.wasm
    if [ ! -f "$optimized" ] || [ "$wasm" -nt "$optimized" ]; then
      echo "wasm-opt -Oz ($out)" >&2
      # shellcheck disable=SC2086 # $extra: zero or more flags
      node_modules/.bin/wasm-opt -Oz --enable-simd $extra --enable-bulk-memory --enable-sign-ext \
        --enable-nontrapping-float-to-int --enable-mutable-globals "$wasm" -o "$optimized.tmp"
      mv "$optimized.tmp" "$optimized"
    fi
    wasm=$optimized
  fi
  echo "$wasm"
}
# Two builds of one engine: SIMD128 for every browser with WebAssembly SIMD,
# and relaxed SIMD (fused multiply-add in the convolutions) for those that
# have it; the worker picks one (wasm-feature-detect). Their JavaScript glue
# is the same code, so the package ships it once.
wasm=$(build target/wasm-pkg "")
# (its own target directory, so that neither build's flags rebuild the other's)
relaxed=$(build target/wasm-pkg-relaxed --enable-relaxed-simd CARGO_TARGET_DIR=target/relaxed-simd \
  RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd")
cmp -s target/wasm-pkg/voiceport.js target/wasm-pkg-relaxed/voiceport.js ||
  { echo "the two wasm builds' glue differs" >&2; exit 1; }
rm -rf dist
mkdir -p dist/pkg/models
cp pkg-template/*.* dist/pkg/
cp -r pkg-template/bin dist/pkg/bin
# WebAssembly SIMD detection (npm wasm-feature-detect), beside the package's modules.
cp node_modules/wasm-feature-detect/dist/esm/index.js dist/pkg/wasm-feature-detect.js
# The classic-script integration: one file, the shim installed as it runs.
cp -r pkg-template/classic dist/pkg/classic
node_modules/.bin/esbuild dist/pkg/classic/entry.js --bundle --format=iife \
  --inject:dist/pkg/classic/script-url.js --define:import.meta.url=scriptUrl \
  --log-level=warning --outfile=dist/pkg/voiceport-shim.js
rm -r dist/pkg/classic
cp target/wasm-pkg/voiceport.js target/wasm-pkg/voiceport.d.ts target/wasm-pkg/voiceport_bg.wasm.d.ts dist/pkg/
cp "$wasm" dist/pkg/voiceport_bg.wasm
cp "$relaxed" dist/pkg/voiceport_relaxed_bg.wasm
cp models/silero_vad_openvino_16k.onnx models/campplus_zh_en_common.f16w.onnx dist/pkg/models/
cp -r models/licenses dist/pkg/models/
cp LICENSE dist/pkg/
cp -r www/. dist/
# Swagger UI for /swagger-ui.html (the page itself is served by the server).
mkdir -p dist/swagger-ui
cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js \
  node_modules/swagger-ui-dist/LICENSE dist/swagger-ui/
for file in dist/pkg/voiceport_bg.wasm dist/pkg/voiceport_relaxed_bg.wasm; do
  printf '%s: %s bytes raw, %s bytes gzip\n' "$(basename "$file")" "$(stat -c %s "$file")" \
    "$(gzip -9c "$file" | wc -c)"
done
