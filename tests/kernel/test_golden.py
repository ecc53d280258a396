"""Golden vectors under CPython (Pyodide runs the same file in web_smoke/test_node_kernel.py)."""

from __future__ import annotations

import json

import pytest

from haltguard.kernel import golden
from haltguard.kernel.events import ReasonCode

VECTORS = golden.load_vectors()


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vec):
    assert golden.check_vectors([vec]) == []


def test_vectors_cover_every_rule_mode_and_failure():
    text = json.dumps(VECTORS)
    for reason in ReasonCode:
        assert f'"H", "{reason.value}"' in text, f"no vector halts with {reason.value}"
    for code in ("soft_limit", "soft_halt_pending", "invalid_score", "scorer_error", "deadline_missed"):
        assert f'"W", "{code}"' in text, f"no vector warns with {code}"
    configs = [v["config"] for v in VECTORS]
    assert any(c.get("release") == "optimistic" for c in configs)
    assert any(c.get("soft_mode", {}).get("enabled") for c in configs)
    assert {c.get("cadence", {}).get("mode", "every_n") for c in configs} == {"every_n", "sentence", "adaptive"}
    names = {v["name"] for v in VECTORS}
    assert {"empty_stream", "window_not_full_no_halt", "window_tie_passes", "trend_tie_passes_then_halts",
            "hard_limit_tie_passes"} <= names


def test_a_wrong_expectation_is_reported():
    vec = json.loads(json.dumps(next(v for v in VECTORS if v["name"] == "hard_limit_halts_holdback")))
    vec["expect"]["events"][-1][1] = "window_mean"
    vec["expect"]["record"]["token_index"] = 2
    fails = golden.check_vectors([vec])
    assert {f["field"] for f in fails} == {"events", "record.token_index"}
