#!/usr/bin/env bash
# Style and types, zero findings: ruff over the repository, mypy over the package as installed.
# mypy cannot follow setuptools' package-dir mapping (haltguard.kernel = kernel/, haltguard.host =
# host/, haltguard.models = models/quantize/, haltguard.wasm = wasm/), so it reads the package
# through a tree of links in build/typecheck laid out as the wheel is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
.venv/bin/ruff check .
tree="build/typecheck/haltguard"
rm -rf build/typecheck
mkdir -p "$tree"
for f in haltguard/*; do ln -s "$root/$f" "$tree/$(basename "$f")"; done
ln -s "$root/kernel" "$tree/kernel"
ln -s "$root/host" "$tree/host"
ln -s "$root/models/quantize" "$tree/models"
ln -s "$root/wasm" "$tree/wasm"
(cd build/typecheck && "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" --cache-dir "$root/build/.mypy_cache" -p haltguard)
