#!/usr/bin/env bash
# Checks the deployment files: the Dockerfile with hadolint, the Kubernetes
# manifests against the Kubernetes schemas (kubernetes-validate, strict: an
# unknown field fails), every manifest listed in the kustomization, and the
# nginx configuration with `nginx -t`. Tools come from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/ops-venv
"$venv/bin/hadolint" Dockerfile
manifests=()
for manifest in deploy/kubernetes/*.yaml; do
  [ "$(basename "$manifest")" = kustomization.yaml ] && continue
  manifests+=("$manifest")
  if ! grep -qx "  - $(basename "$manifest")" deploy/kubernetes/kustomization.yaml; then
    echo "$manifest is not listed in deploy/kubernetes/kustomization.yaml" >&2
    exit 1
  fi
done
"$venv/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
# nginx -t on the reference configuration, inside a minimal main file.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  include %s/deploy/nginx/voiceport.conf;\n}\n' \
  "$scratch" "$scratch" "$PWD" >"$scratch/nginx.conf"
/usr/sbin/nginx -t -q -p "$scratch" -c "$scratch/nginx.conf" -e "$scratch/error.log"
echo "Dockerfile, ${#manifests[@]} Kubernetes manifests and the nginx configuration are valid."
