"""`pip install 'haltguard[server]'` outside the checkout serves the shipped model, the same numbers.

Builds the three wheels (haltguard, haltguard-model-default, and the kernel wheel the bundle
carries), installs haltguard[server] into a fresh venv in a temporary folder (dependencies
from the package index, the two project wheels from the build folder), starts `haltguard
serve` from there with no model configured, and checks it found the installed model, scores
like the checkout, and serves the demo built by `haltguard bundle` from the installed package
(which fetches its npm packages from the registry into the cache it is given).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import httpx
import pytest

from haltguard.kernel._version import __version__
from haltguard.kernel.resources import checkout_root
from haltguard.testing import HostProcess

ROOT = checkout_root()
KEY = "packaging-test-key-0123456789"
pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_server_extra_pins_the_model_wheel_of_this_version():
    main = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert f"haltguard-model-default=={__version__}" in main["project"]["optional-dependencies"]["server"]
    model = tomllib.loads((ROOT / "models" / "package" / "pyproject.toml").read_text())
    assert model["project"]["name"] == "haltguard-model-default"
    assert "torch" not in " ".join(main["project"]["optional-dependencies"]["host"])  # training stays in [models]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("packaging")
    assert not str(tmp).startswith(str(ROOT))
    dist = tmp / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    _run(build + [str(ROOT / "models" / "package")])
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)])
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    _run([py, "-m", "pip", "install", "-q", "--find-links", str(dist), "haltguard[server]"], cwd=tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HALTGUARD_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(HOME=str(tmp / "home"), XDG_CACHE_HOME=str(tmp / "cache"), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return {"tmp": tmp, "venv": venv, "py": py, "env": env, "dist": dist}


def test_installed_package_knows_no_checkout_and_finds_the_installed_model(installed):
    code = ("from haltguard.kernel.resources import checkout_root, locate_model, bundle_dir; import haltguard; "
            "loc = locate_model(); print(checkout_root(), loc.source, loc.path, bundle_dir(), haltguard.__file__)")
    out = _run([installed["py"], "-c", code], cwd=installed["tmp"], env=installed["env"]).stdout.split()
    assert out[0] == "None" and out[1] == "installed"
    assert out[2].startswith(str(installed["venv"])) and out[4].startswith(str(installed["venv"]))
    assert out[3] == str(installed["tmp"] / "cache" / "haltguard" / "wasm-bundle")


def test_serve_from_the_installed_package_scores_like_the_checkout(installed):
    from haltguard.kernel.resources import model_dir
    from haltguard.models.scorer import OnnxNliScorer

    env = {**installed["env"], "HALTGUARD_API_KEYS": f"pk:{KEY}"}
    _run([installed["py"], "-m", "haltguard.cli", "bundle", "--json"], cwd=installed["tmp"], env=env)
    pairs = [("The Eiffel Tower is in Paris and was finished in 1889.", "The tower was finished in 1889."),
             ("The Eiffel Tower is in Paris.", "The tower is in Rome."),
             ("The meeting was moved from Monday to Friday.", "The meeting is on Friday, 3 May.")]
    with HostProcess({}, env=env, python=installed["py"], cwd=installed["tmp"], log=installed["tmp"] / "host.log") as h:
        with httpx.Client(base_url=h.url, timeout=60) as c:
            ready = c.get("/v1/ready").json()
            got = c.post("/v1/score", json={"pairs": [{"premise": p, "hypothesis": q} for p, q in pairs]},
                         headers={"authorization": f"Bearer {KEY}"}).json()
            page = c.get("/", follow_redirects=True)
            demo = c.get("/bundle/demo.mjs")
            worker = c.get("/bundle/worker.mjs")
    assert ready["ready"] and ready["model"]["engine"] == "onnx" and ready["model"]["source"] == "installed"
    assert ready["model"]["model_dir"].startswith(str(installed["venv"])) and ready["model"]["fallback_reason"] is None
    # the name model comes with the same wheel
    assert ready["names"]["loaded"] and ready["names"]["source"] == "installed"
    assert ready["names"]["model"].startswith(str(installed["venv"]))
    ref = OnnxNliScorer(model_dir()).score_many(pairs)
    assert got["scores"] == pytest.approx(ref, abs=1e-6)
    # the demo page, the module it loads and the worker, built from the installed package
    assert page.status_code == 200 and "demo.mjs" in page.text and str(page.url).endswith("/bundle/index.html")
    assert demo.status_code == 200 and "createGuard" in demo.text and worker.status_code == 200


def test_a_model_that_cannot_load_stops_serve_with_one_line(installed, tmp_path):
    env = {**installed["env"], "HALTGUARD_MODEL": str(tmp_path / "missing")}
    proc = subprocess.run([installed["py"], "-m", "haltguard.cli", "serve", "--port", "0"], cwd=installed["tmp"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("haltguard:")]
    assert len(lines) == 1 and "HALTGUARD_MODEL" in lines[0] and "scorer.fallback: heuristic" in lines[0]
    assert "Traceback" not in proc.stderr
