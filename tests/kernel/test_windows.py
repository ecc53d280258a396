"""Pairing a premise and a hypothesis with a model window: windows, hypothesis units, aggregation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haltguard.kernel.heuristic import unsupported_numbers
from haltguard.kernel.windows import NUMBERS_COUNTED, hypothesis_units, penalise_unsupported_numbers


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


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_unsupported_numbers_cost_logits_against_the_whole_premise():
    premise = "Revenue was 1,000 units in 2019. Ten stores opened. Costs were flat."
    items = [(premise, "Revenue was 1000 units in 2019 and 10 stores opened."),  # all stated ("ten" = 10)
             (premise, "Revenue was 1200 units in 2019."),                       # one changed figure
             (premise, "Revenue was 1200 units in 2018 across 12 stores."),      # three: counted as two
             (premise, "Revenue was flat.")]                                      # no numbers at all
    got = penalise_unsupported_numbers([0.8] * 4, items, 1.5)
    assert [len(unsupported_numbers(p, h)) for p, h in items] == [0, 1, 3, 0]
    assert got[0] == got[3] == 0.8
    assert _logit(got[1]) == pytest.approx(_logit(0.8) - 1.5)
    assert _logit(got[2]) == pytest.approx(_logit(0.8) - 1.5 * NUMBERS_COUNTED)
    # no penalty: the very same values; a NaN stays NaN (the kernel fails closed on it)
    assert penalise_unsupported_numbers([0.8, 0.3], items[1:3], 0.0) == [0.8, 0.3]
    assert math.isnan(penalise_unsupported_numbers([float("nan")], items[1:2], 1.0)[0])


TEXT = st.text(alphabet="ab 12.,", max_size=30)


@given(st.lists(st.tuples(st.floats(0, 1), TEXT, TEXT), min_size=1, max_size=8), st.floats(0, 4), st.floats(0, 4))
def test_number_penalty_only_lowers_and_grows_with_the_penalty(rows, a, b):
    supports = [s for s, _, _ in rows]
    items = [(p, h) for _, p, h in rows]
    lo, hi = sorted((a, b))
    weak, strong = (penalise_unsupported_numbers(supports, items, x) for x in (lo, hi))
    for s, w, t, (p, h) in zip(supports, weak, strong, items):
        assert 0.0 <= t <= w <= s
        if not unsupported_numbers(p, h):
            assert w == t == s
