"""The browser bundle in Node (Pyodide + onnxruntime-web), the way an edge function runs it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_browser import PAIRS, model_parity

from haltguard.kernel.parity import run_cases
from haltguard.paths import REPO

pytestmark = pytest.mark.node


def _node(bundle, pairs, tmp):  # one Node process: boot, golden, parity, scores
    if shutil.which("node") is None:
        pytest.fail("node is required: run scripts/setup.sh")
    f = tmp / "pairs.json"
    f.write_text(json.dumps(pairs))
    proc = subprocess.run(["node", str(REPO / "web_smoke" / "node" / "edge_smoke.mjs"), bundle["out"], str(f)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def edge_run(bundle, tmp_path_factory):
    return _node(bundle, PAIRS, tmp_path_factory.mktemp("edge"))


def test_golden_vectors_and_parity_in_node(edge_run):
    assert edge_run["python"].startswith("3.14")
    assert edge_run["info"]["backend"] == "onnx"
    assert edge_run["golden"]["n"] >= 50 and edge_run["golden"]["failures"] == []
    assert edge_run["parity"] == json.loads(json.dumps(run_cases(), sort_keys=True, ensure_ascii=False))


def test_onnxruntime_web_in_node_equals_python(edge_run):
    def ours(pairs):
        return edge_run["scores"] if pairs == PAIRS else [edge_run["single"][PAIRS.index(pairs[0])]]

    model_parity(ours, PAIRS)
