#!/usr/bin/env bash
# The whole test suite: set up (idempotent), style and types (ruff, mypy: zero findings), then
# pytest over tests/ and web_smoke/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
bash scripts/lint.sh
exec .venv/bin/python -m pytest "$@"
