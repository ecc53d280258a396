"""How a scorer pairs premise windows with hypothesis units and aggregates their scores."""

from __future__ import annotations

import math

import pytest

from haltguard.models.evaluate import DEFAULT_MODEL_DIR
from haltguard.models.scorer import _Base, aggregate, hypothesis_units, pair_plan, premise_chunks

np = pytest.importorskip("numpy")


def count_words(text: str) -> int:
    return len(text.split())


def test_hypothesis_units():
    text = "The cat sat on the mat. It rained. Then the dog came in and barked."
    assert hypothesis_units(text) == [text]
    # sentences of fewer than three words are too short to judge alone and are dropped
    assert hypothesis_units(text, "sentences") == ["The cat sat on the mat.", "Then the dog came in and barked."]
    assert hypothesis_units("Yes. No.", "sentences") == ["Yes. No."]
    with pytest.raises(ValueError, match="hypothesis mode"):
        hypothesis_units(text, "words")


def test_pair_plan_windows_each_unit():
    premise = " ".join(f"Sentence number {i} is here." for i in range(30))
    plan = pair_plan(premise, "Sentence number 3 is here. Sentence number 29 is here.", count_words, 40, "sentences")
    assert [len({h for _, h in unit}) for unit in plan] == [1, 1]
    for unit in plan:
        windows = [w for w, _ in unit]
        assert windows == premise_chunks(premise, unit[0][1], count_words, 40) and len(windows) > 3
    assert pair_plan("Short premise.", "A b c.", count_words, 40) == [[("Short premise.", "A b c.")]]


def test_aggregate_is_weakest_unit_by_best_window():
    assert aggregate([[0.1, 0.9, 0.3], [0.2, 0.6]]) == 0.6
    assert aggregate([[0.4]]) == 0.4


class _VerbatimScorer(_Base):
    """Support 0.9 when the hypothesis occurs verbatim in the premise window, else 0.1."""

    supported_index = 1

    def __init__(self, mode: str) -> None:
        self._tokenizer_setup(DEFAULT_MODEL_DIR)
        self.max_length, self.hypothesis_mode, self.calls = 48, mode, []

    def logits(self, pairs):
        self.calls += list(pairs)
        return np.array([[0.0, math.log(9)] if h in p else [0.0, -math.log(9)] for p, h in pairs])


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "vocab.txt").exists(), reason="default model not built")
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
