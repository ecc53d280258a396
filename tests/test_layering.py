"""Import layering: kernel <- models <- host <- CLI; no library module imports the CLI folder.

``kernel/`` imports only the standard library and itself (tests/kernel/test_stdlib_only.py);
``models/quantize/`` only the kernel and itself; ``host/`` the kernel, the models' scorer and
itself; the browser worker's Python only the kernel. The CLI folder (``haltguard/``: the
command, benchmarks, bundle, test helpers) sits on top and nothing below imports it, so the
library works from an installed wheel without the source checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from haltguard.kernel.resources import checkout_root
from haltguard.testing import module_imports

ROOT = checkout_root() or Path(__file__).resolve().parent.parent
# folder -> the haltguard packages its modules may import
ALLOWED = {
    "kernel": ("haltguard.kernel",),
    "models/quantize": ("haltguard.kernel", "haltguard.models"),
    "host": ("haltguard.kernel", "haltguard.models", "haltguard.host"),
    "wasm/src": ("haltguard.kernel",),
}


def haltguard_imports(path: Path) -> list[tuple[int, str]]:
    return [(line, m) for line, m in module_imports(path) if m == "haltguard" or m.startswith(("haltguard.", "."))]


def violations(folder: str, root: Path = ROOT) -> list[str]:
    allowed = ALLOWED[folder]
    bad = []
    for path in sorted((root / folder).rglob("*.py")):
        for line, mod in haltguard_imports(path):
            ok = not mod.startswith(".") and any(mod == a or mod.startswith(a + ".") for a in allowed)
            if not ok:
                bad.append(f"{path.relative_to(root)}:{line} imports {mod}")
    return bad


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below(folder):
    assert (ROOT / folder).is_dir()
    assert violations(folder) == []


def test_the_scan_catches_an_import_of_the_cli_folder(tmp_path):
    fake = tmp_path / "host"
    fake.mkdir()
    (fake / "bad.py").write_text("from haltguard.paths import REPO\nimport haltguard.kernel.config\n"
                                 "from . import sibling\nfrom haltguard.host import app\n")
    assert violations("host", tmp_path) == ["host/bad.py:1 imports haltguard.paths", "host/bad.py:3 imports ."]
