"""`haltguard bundle` refuses models the browser worker cannot tokenise, before copying anything."""

from __future__ import annotations

import json

import pytest

from haltguard.bundle import build_bundle
from haltguard.paths import REPO

DEFAULT = REPO / "models" / "default"


def _model(tmp_path, **tokenizer):
    d = tmp_path / "model"
    d.mkdir()
    m = json.loads((DEFAULT / "manifest.json").read_text(encoding="utf-8"))
    m["tokenizer"] = {**m["tokenizer"], **tokenizer}
    (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return d


@pytest.mark.parametrize("tokenizer, why", [
    ({"kind": "bpe", "lowercase": False, "kernel": False, "kernel_mismatch": "tokenizer.json holds a BPE model"}, "BPE"),
    ({"kind": "wordpiece", "lowercase": False, "kernel": False, "kernel_mismatch": "cased (do_lower_case is false)"}, "cased"),
    ({"kind": "unigram"}, "unigram tokenizer"),
])
def test_bundle_refuses_models_the_kernel_tokenizer_cannot_encode(tmp_path, tokenizer, why):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "keep").write_text("x")
    with pytest.raises(SystemExit, match=why):
        build_bundle(out, _model(tmp_path, **tokenizer))
    assert (out / "keep").exists()  # refused before the output folder was cleared


def test_bundle_takes_the_default_model_manifest(tmp_path):
    """The committed manifest passes the check (the browser smoke tests build the whole bundle)."""
    d = _model(tmp_path)
    for f in ("vocab.txt", "model_int8.onnx"):
        (d / f).symlink_to(DEFAULT / f)
    if not (REPO / "wasm" / "node_modules" / "pyodide").exists():
        pytest.fail("wasm/node_modules missing: run scripts/setup.sh")
    info = build_bundle(tmp_path / "bundle", d)
    assert info["model"]["file"] == "model_int8.onnx" and (tmp_path / "bundle" / "model" / "vocab.txt").exists()
