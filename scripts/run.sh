#!/usr/bin/env bash
# The main job: set up (idempotent), then run it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
exec "$root/.venv/bin/haltguard" demo "$@"
