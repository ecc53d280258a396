"""The unseen-source dev sets: what they hold, and that `eval nli --unseen` reports them beside the references."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from haltguard.models.evaluate import eval_unseen
from haltguard.models.unseen import SOURCES, unseen_rows

BIN = Path(sys.executable).parent / "haltguard"


@pytest.fixture(scope="module")
def rows():
    return unseen_rows()


def test_sources_labels_and_determinism(rows):
    counts = Counter(r["source"] for r in rows)
    assert set(counts) == set(SOURCES)
    assert counts["fm2"] == counts["fm2_multi"] == 1169  # every FM2 dev claim, once alone and once among pages
    assert counts["faithdial"] == counts["faithdial_multi"] > 2000
    for s in SOURCES:
        pos = sum(r["label"] for r in rows if r["source"] == s)
        assert 0 < pos < counts[s], s  # both classes
    assert unseen_rows() == rows


def test_multi_premises_hold_the_evidence_among_others(rows):
    alone = [r for r in rows if r["source"] in ("faithdial", "fm2")]
    among = [r for r in rows if r["source"] in ("faithdial_multi", "fm2_multi")]
    assert len(alone) == len(among)
    for a, m in zip(alone, among):  # each row alone, then among other documents
        assert m["source"] == a["source"] + "_multi" and m["hypothesis"] == a["hypothesis"] and m["label"] == a["label"]
        if a["source"] == "faithdial":
            parts = m["premise"].split("\n\n")
            assert len(parts) == 4 and a["premise"] in parts
        else:
            assert a["premise"] in m["premise"] and len(m["premise"]) > len(a["premise"])


def test_no_faithdial_response_is_a_begin_training_pair(rows):
    from haltguard.models.datasets import data_dir
    from haltguard.models.unseen import _begin_pairs

    begin = _begin_pairs(data_dir() / "nli")
    assert begin
    assert not [r for r in rows if r["source"].startswith("faithdial") and (r["premise"], r["hypothesis"]) in begin]


def test_eval_unseen_reports_references_per_source():
    out = eval_unseen(backend="heuristic", sources=["fm2", "faithdial"], limit=60)
    assert set(out["sources"]) == {"fm2", "faithdial"}
    for res in out["sources"].values():
        assert res["n"] == 120 and res["supported"] == 60 and 0 <= res["heuristic"] <= 100 and 0 <= res["word_overlap"] <= 100
    assert set(out["macro"]) == {"heuristic", "word_overlap"}
    assert 0 < out["overlap_threshold"] < 1
    with pytest.raises(ValueError, match="unknown unseen source"):
        eval_unseen(backend="heuristic", sources=["wice"])


def test_cli_unseen_with_the_model():
    r = subprocess.run([str(BIN), "eval", "nli", "--unseen", "--limit", "8"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["backend"] == "onnx-int8" and set(out["sources"]) == set(SOURCES)
    assert {"onnx-int8", "heuristic", "word_overlap"} <= set(out["macro"])
    bad = subprocess.run([str(BIN), "eval", "nli"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--data" in bad.stderr


def test_fm2_pages_split_training_from_dev():
    from haltguard.models.unseen import fm2_trained_page, fm2_training_rows

    train = fm2_training_rows(0.5)
    dev = [r for r in unseen_rows(fm2_pages=0.5) if r["source"] == "fm2"]
    assert 400 < len(train) < 800 and len(train) + len(dev) == 1169
    trained_pages = {r["group"] for r in train}
    assert trained_pages and all(g.startswith("fm2:") for g in trained_pages)
    assert not {r["hypothesis"] for r in train} & {r["hypothesis"] for r in dev}  # no claim on both sides
    assert fm2_training_rows(0.0) == [] and not fm2_trained_page("Gandhi (film)", 0.0)
    assert len(fm2_training_rows(1.0)) == 1169
