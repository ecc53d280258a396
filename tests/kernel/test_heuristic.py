from __future__ import annotations

from haltguard.kernel import HeuristicScorer, heuristic_support, overlap_support
from haltguard.kernel.heuristic import CONTRADICTION_CAP, DEFAULT_THRESHOLD, content_words

FACTS = (
    "The Eiffel Tower is in Paris. It was completed in 1889 and is 330 metres tall. "
    "Gustave Eiffel's company built it. The tower is not open at night in winter."
)


def test_supported_sentence_scores_high():
    s, ev = heuristic_support(FACTS, "The Eiffel Tower in Paris is 330 metres tall.")
    assert s > 0.8 and ev["unsupported_numbers"] == []


def test_changed_number_is_caught_where_overlap_is_blind():
    hyp = "The Eiffel Tower in Paris is 300 metres tall."
    s, ev = heuristic_support(FACTS, hyp)
    assert ev["unsupported_numbers"] == ["300"]
    assert s < DEFAULT_THRESHOLD < overlap_support(FACTS, hyp)


def test_negation_flip_is_penalised():
    pos, ev_pos = heuristic_support(FACTS, "The tower is open at night in winter.")
    neg, ev = heuristic_support(FACTS, "The tower is not open at night in winter.")
    assert ev["negation_flip"] is False and ev_pos["negation_flip"] is True and neg > pos
    assert pos <= CONTRADICTION_CAP < DEFAULT_THRESHOLD < neg


def test_unsupported_names_and_months():
    s, ev = heuristic_support(FACTS, "The tower was built by Napoleon in March.")
    assert "Napoleon" in ev["unsupported_names"] and "March" in ev["unsupported_dates"]
    assert s < DEFAULT_THRESHOLD


def test_number_words_and_formats_normalise():
    s, ev = heuristic_support("Sales rose to 1,000 units, about ten percent.", "Sales rose to 1000 units, about 10 percent.")
    assert ev["unsupported_numbers"] == [] and s > 0.8


def test_scorer_scores_the_sentence_being_generated():
    scorer = HeuristicScorer(FACTS)

    class View:
        text = "The tower is in Paris. Napoleon built it in 1925"
        segment = " in 1925"
        context = None

    value, ev = scorer(View())
    assert value < DEFAULT_THRESHOLD and ev["sentence"] == "Napoleon built it in 1925"


def test_content_words_drop_stopwords_and_stem():
    assert content_words("The towers were built by engineers") == ["tower", "built", "engineer"]
