"""The kernel wheel written by haltguard.wheel: installable by pip, and the same files hatchling builds."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from haltguard.kernel.resources import checkout_root
from haltguard.wheel import build_kernel_wheel


def test_same_members_as_the_hatchling_build_of_kernel_pyproject(tmp_path):
    ours = build_kernel_wheel(tmp_path / "ours")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "hatch"),
                           str(checkout_root() / "kernel")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (theirs,) = (tmp_path / "hatch").glob("*.whl")
    assert ours.name == theirs.name

    def code(p):
        z = zipfile.ZipFile(p)
        return {n: z.read(n) for n in z.namelist() if not n.startswith("haltguard_kernel-")}

    assert code(ours) == code(theirs)
    assert build_kernel_wheel(tmp_path / "again").read_bytes() == ours.read_bytes()  # reproducible


def test_pip_installs_it_into_a_target_and_it_imports(tmp_path):
    whl = build_kernel_wheel(tmp_path)
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
                           str(whl)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); "
                          "from haltguard.kernel.detector import detect; print(detect('a@b.io')[0].type)"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "email", out.stderr
