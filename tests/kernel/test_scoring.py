"""The one scoring path: operating point from a manifest, plan → unique pairs → score → aggregate → penalty."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haltguard.kernel.scoring import (
    CONTRADICTION_CAP,
    DocumentScorer,
    OperatingPoint,
    heuristic_document_scorer,
    heuristic_pair_scores,
    read_manifest,
    softmax_support,
    verdict_of,
)
from haltguard.kernel.windows import premise_chunks
from haltguard.testing import run_coroutine


def count_words(text: str) -> int:
    return len(text.split())


def verbatim(pairs):
    """0.9 when the hypothesis occurs verbatim in the window, else 0.1."""
    return [0.9 if h in p else 0.1 for p, h in pairs]


PREMISE = " ".join(f"Sentence number {i} is here." for i in range(30))


def test_operating_point_reads_every_manifest_field_and_defaults_the_rest(tmp_path):
    assert OperatingPoint.from_manifest({}) == OperatingPoint()
    got = OperatingPoint.from_manifest({"max_length": "160", "threshold": 0.47, "hypothesis": "sentences",
                                        "number_penalty": 1, "supported_index": 0, "labels": {}})
    assert got == OperatingPoint(160, 0.47, "sentences", 1.0, 0)
    with pytest.raises(ValueError, match="hypothesis mode"):
        OperatingPoint(hypothesis_mode="words")
    (tmp_path / "manifest.json").write_text(json.dumps({"threshold": 0.4}))
    assert OperatingPoint.from_manifest(read_manifest(tmp_path)).threshold == 0.4
    with pytest.raises(FileNotFoundError, match="haltguard export"):
        read_manifest(tmp_path / "nope")


def test_plan_windows_each_unit_over_every_premise():
    ds = DocumentScorer(count_words, OperatingPoint(max_length=40, hypothesis_mode="sentences", max_windows=16))
    plan = ds.plan(PREMISE, "Sentence number 3 is here. Sentence number 29 is here.")
    assert [len({h for _, h in unit}) for unit in plan] == [1, 1]
    for unit in plan:
        windows = [w for w, _ in unit]
        assert windows == premise_chunks(PREMISE, unit[0][1], count_words, 40) and len(windows) > 3
    assert ds.plan("Short premise.", "A b c.") == [[("Short premise.", "A b c.")]]
    two = ds.plan(["First fact here.", "Second fact here."], "A b c.")
    assert two == [[("First fact here.", "A b c."), ("Second fact here.", "A b c.")]]


def test_weakest_unit_by_best_window_and_the_window_that_decided():
    ds = DocumentScorer(count_words, OperatingPoint(max_length=40, hypothesis_mode="sentences"))
    good = "Sentence number 3 is here. Sentence number 29 is here."
    bad = "Sentence number 3 is here. Sentence number 31 is here."
    calls = []

    def scorer(pairs):
        calls.extend(pairs)
        return verbatim(pairs)

    j_good, j_bad = ds.judge([(PREMISE, good), (PREMISE, bad)], scorer)
    assert j_good.support == pytest.approx(0.9) and "Sentence number 3 is here." in j_good.window  # a tie: the first unit
    assert j_bad.model_support == pytest.approx(0.1) and j_bad.numbers == ("31",)
    assert len(calls) == len(set(calls))  # the shared first sentence is scored once per window
    whole = DocumentScorer(count_words, OperatingPoint(max_length=40))
    assert whole.score([(PREMISE, good)], verbatim) == [pytest.approx(0.1)]  # no window holds both


def test_facts_count_by_their_best_and_numbers_against_all_of_them():
    ds = DocumentScorer(count_words, OperatingPoint(max_length=64, number_penalty=2.0, threshold=0.5))
    facts = ["The river is 2 metres deep.", "The dam was built in 1950."]
    ok, moved = ds.judge([(facts, "The dam was built in 1950."), (facts, "The dam was built in 1905.")], verbatim)
    assert ok.premise_index == 1 and ok.support == pytest.approx(0.9) and ok.numbers == ()
    assert moved.numbers == ("1905",) and moved.support == pytest.approx(1 / (1 + 9 * math.exp(2.0)))
    # below the threshold with an unstated number: contradicted, capped (a halting stream stops on it)
    strong = DocumentScorer(count_words, OperatingPoint(max_length=64, number_penalty=0.5, threshold=0.95))
    (capped,) = strong.judge([(facts, "The dam was built in 1950 and 1905.")], lambda pairs: [0.5] * len(pairs))
    assert capped.support == CONTRADICTION_CAP and capped.model_support == 0.5
    claim = ds.claim("The dam was built in 1905.", moved)
    assert claim["verdict"] == "contradicted" and claim["contradiction"] == {"numbers": ["1905"]}
    assert ds.claim("x", ok)["verdict"] == "supported" and ds.claim("x", ok)["evidence"]["fact_index"] == 1


def test_sync_and_async_give_the_same_judgements():
    ds = DocumentScorer(count_words, OperatingPoint(max_length=40))
    items = [(PREMISE, "Sentence number 7 is here."), (PREMISE, "Sentence number 77 is here.")]

    async def ascorer(pairs):
        return verbatim(pairs)

    assert run_coroutine(ds.ajudge(items, ascorer)) == ds.judge(items, verbatim)


def test_heuristic_document_scorer_never_windows_and_adds_no_penalty():
    ds = heuristic_document_scorer()
    assert ds.plan(PREMISE * 20, "Sentence number 3 is here.") == [[(PREMISE * 20, "Sentence number 3 is here.")]]
    (j,) = ds.judge([("The tower is 330 metres tall.", "The tower is 300 metres tall.")], heuristic_pair_scores)
    assert j.support == j.model_support and verdict_of(j, ds.point.threshold) == "contradicted"


def test_softmax_support_matches_the_definition():
    assert softmax_support([[0.0, math.log(9)]], 1) == [pytest.approx(0.9)]
    assert softmax_support([[1000.0, 1000.0, 1000.0]], 2) == [pytest.approx(1 / 3)]


TEXT = st.text(alphabet="ab 12.", max_size=40)


@given(st.lists(st.tuples(st.lists(TEXT, min_size=1, max_size=3), TEXT), min_size=1, max_size=6),
       st.integers(8, 40), st.floats(0, 3))
def test_support_is_a_score_the_model_gave_and_never_raised_by_the_penalty(items, max_length, penalty):
    ds = DocumentScorer(count_words, OperatingPoint(max_length=max_length, number_penalty=penalty))
    probs: dict = {}

    def scorer(pairs):
        assert len(pairs) == len(set(pairs))  # every pair once
        return [probs.setdefault(p, (hash(p) % 97) / 97) for p in pairs]

    for j in ds.judge(items, scorer):
        assert j.model_support in probs.values()
        assert 0.0 <= j.support <= j.model_support
        if not j.numbers:
            assert j.support == j.model_support


def test_rank_passages_puts_the_passage_about_the_claim_first():
    from haltguard.kernel.windows import rank_passages

    passages = ["The museum opened in 1902 and holds paintings.", "Basic costs ten dollars a month.",
                "The Pro plan adds priority support and phone support.", "Refunds are for annual plans only."]
    assert rank_passages("Does the Pro plan include phone support?", passages)[0] == 2
    assert rank_passages("refund for a monthly plan", passages)[0] == 3
    assert rank_passages("", passages) == [0, 1, 2, 3]  # nothing to rank by: document order


@given(st.integers(1, 400), st.integers(1, 16), st.sampled_from(["whole", "sentences"]))
def test_model_work_per_claim_is_bounded_whatever_the_context_size(n_sentences, max_windows, mode):
    context = " ".join(f"Fact number {i} is about topic {i % 7} in some detail." for i in range(n_sentences))
    ds = DocumentScorer(count_words, OperatingPoint(max_length=24, max_windows=max_windows, hypothesis_mode=mode))
    plan = ds.plan([context, context[: len(context) // 2]], "Topic 3 is described. Fact number 5 is here.")
    assert sum(len(unit) for unit in plan) <= max(max_windows, len(plan))


def test_evidence_is_the_deciding_passage_with_its_offsets():
    facts = ["The museum opened in 1902. It holds 300 paintings.",
             "Basic costs ten dollars a month. The Pro plan adds phone support. Refunds are for annual plans only."]
    ds = DocumentScorer(count_words, OperatingPoint(max_length=12, max_windows=2))
    (j,) = ds.judge([(facts, "The Pro plan adds phone support.")], verbatim)
    ev = ds.claim("The Pro plan adds phone support.", j)["evidence"]
    assert ev["fact_index"] == 1 and facts[1][ev["start"]:ev["end"]] == ev["chunk"] and "phone support" in ev["chunk"]
