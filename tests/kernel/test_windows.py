"""Pairing a premise and a hypothesis with a model window: windows, hypothesis units, aggregation."""

from __future__ import annotations

import pytest

from haltguard.kernel.windows import aggregate, hypothesis_units, pair_plan, premise_chunks


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
