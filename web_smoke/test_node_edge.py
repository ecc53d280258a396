"""The browser bundle in Node (Pyodide + onnxruntime-web), the way an edge function runs it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from haltguard.kernel.parity import run_cases
from haltguard.paths import REPO
from test_browser import PAIRS

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def edge_run(bundle, tmp_path_factory):
    if shutil.which("node") is None:
        pytest.fail("node is required: run scripts/setup.sh")
    pairs = tmp_path_factory.mktemp("edge") / "pairs.json"
    pairs.write_text(json.dumps(PAIRS))
    proc = subprocess.run(["node", str(REPO / "web_smoke" / "node" / "edge_smoke.mjs"), bundle["out"], str(pairs)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_golden_vectors_and_parity_in_node(edge_run):
    assert edge_run["python"].startswith("3.14")
    assert edge_run["info"]["backend"] == "onnx"
    assert edge_run["golden"]["n"] >= 50 and edge_run["golden"]["failures"] == []
    assert edge_run["parity"] == json.loads(json.dumps(run_cases(), sort_keys=True, ensure_ascii=False))


def test_onnxruntime_web_in_node_equals_python(edge_run):
    from haltguard.models.scorer import OnnxNliScorer

    ref = OnnxNliScorer(REPO / "models" / "default").score_pairs([tuple(p) for p in PAIRS])
    assert max(abs(a - b) for a, b in zip(edge_run["scores"], ref)) <= 1e-5
