#!/usr/bin/env bash
# The main job: set up (idempotent), build the browser bundle, start the host with the demo.
# Embedded defaults: no config file, no Redis, the shipped int8 model on ONNX Runtime CPU.
# Open http://127.0.0.1:8000/ (override with HALTGUARD_PORT / HALTGUARD_HOST; extra args go to `haltguard serve`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
"$root/.venv/bin/haltguard" bundle
exec "$root/.venv/bin/haltguard" serve --host "${HALTGUARD_HOST:-127.0.0.1}" --port "${HALTGUARD_PORT:-8000}" "$@"
