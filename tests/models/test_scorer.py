"""A model scorer pairs and aggregates through the kernel's one scoring path (haltguard.kernel.scoring)."""

from __future__ import annotations

import math

import pytest

from haltguard.kernel.resources import model_dir
from haltguard.kernel.scoring import OperatingPoint
from haltguard.models.scorer import _Base

DEFAULT_MODEL_DIR = model_dir()

np = pytest.importorskip("numpy")


class _VerbatimScorer(_Base):
    """Support 0.9 when the hypothesis occurs verbatim in the premise window, else 0.1."""

    def __init__(self, mode: str, number_penalty: float = 0.0) -> None:
        self._tokenizer_setup(DEFAULT_MODEL_DIR)
        self.point = OperatingPoint(max_length=48, hypothesis_mode=mode, number_penalty=number_penalty)
        self._setup_documents()
        self.calls = []

    def logits(self, pairs):
        self.calls += list(pairs)
        return np.array([[0.0, math.log(9)] if h in p else [0.0, -math.log(9)] for p, h in pairs])


def test_score_many_takes_min_over_sentences_max_over_windows():
    premise = " ".join(f"Fact {i} says the river is {i} metres deep." for i in range(20))
    good = "Fact 2 says the river is 2 metres deep. Fact 17 says the river is 17 metres deep."
    bad = "Fact 2 says the river is 2 metres deep. Fact 17 says the river is 71 metres deep."
    whole, by_sentence = _VerbatimScorer("whole"), _VerbatimScorer("sentences")
    # whole: the two facts sit in different windows, so no single window holds the hypothesis
    assert whole.score_many([(premise, good)]) == pytest.approx([0.1])
    assert by_sentence.score_many([(premise, good), (premise, bad)]) == pytest.approx([0.9, 0.1])
    # the shared first sentence is scored once per window, not once per row
    assert by_sentence.calls and len(by_sentence.calls) == len(set(by_sentence.calls))
    assert by_sentence.score(premise, bad) == pytest.approx(0.1)


def test_number_penalty_counts_numbers_the_whole_premise_never_states():
    premise = " ".join(f"Fact {i} says the river is {i} metres deep." for i in range(20))
    stated_elsewhere = "Fact 2 says the river is 17 metres deep."  # 17 is in another window: no penalty
    invented = "Fact 2 says the river is 71 metres deep."
    sc = _VerbatimScorer("whole", number_penalty=2.0)
    plain, other, new = sc.score_many([(premise, "Fact 2 says the river is 2 metres deep."),
                                       (premise, stated_elsewhere), (premise, invented)])
    assert plain == pytest.approx(0.9) and other == pytest.approx(0.1)
    assert new == pytest.approx(1 / (1 + 9 * math.exp(2.0)))  # 0.1 lowered by 2 logits


def test_onnx_scorer_reads_the_number_penalty_from_its_manifest():
    import json

    from haltguard.models.scorer import OnnxNliScorer

    want = float(json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text()).get("number_penalty", 0.0))
    assert OnnxNliScorer(DEFAULT_MODEL_DIR).number_penalty == want
    assert OnnxNliScorer(DEFAULT_MODEL_DIR, number_penalty=0.25).number_penalty == 0.25
