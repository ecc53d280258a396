from __future__ import annotations

import json
import re

import pytest

from haltguard.kernel.sentences import split_sentences
from haltguard.models.nli_data import (
    _ANTONYM,
    SUPPORTED_KINDS,
    UNSUPPORTED_KINDS,
    _join,
    _summary_sentences,
    add_distractors,
    build_pairs,
    default_token_counter,
    dev_documents,
    distractor_probe,
    file_hashes,
    split_dev,
    summary,
)


@pytest.fixture(scope="module")
def rows():
    return build_pairs(seed=13)


def test_every_source_and_edit_kind_is_present(rows):
    s = summary(rows)
    for src in ("snli", "climate_fever", "wice", "qags", "begin", "summedits_news",
                *(f"synthetic_{k}" for k in SUPPORTED_KINDS + UNSUPPORTED_KINDS)):
        assert s.get(src, {}).get("n", 0) > 0, src
    assert all(r["label"] in (0, 1) and r["premise"] and r["hypothesis"] for r in rows)


def test_synthetic_labels_follow_the_edit(rows):
    for r in rows:
        if r["source"] in ("synthetic_copy", "synthetic_clause"):
            assert r["label"] == 1
        elif r["source"].startswith("synthetic_"):
            assert r["label"] == 0
        if r["source"] == "synthetic_number":
            assert r["hypothesis"] not in r["premise"]
    # copies sit inside their premise window: the window is the one that holds the sentence
    copies = [r for r in rows if r["source"] == "synthetic_copy"]
    assert copies and all(r["hypothesis"] in r["premise"] for r in copies)


def test_synthetic_pairs_are_contrastive(rows):
    """Every unsupported edit has a supported twin on the same window and in the same group."""
    synth = [r for r in rows if r["source"].startswith("synthetic_")]
    assert len(synth) % 2 == 0
    for pos, neg in zip(synth[::2], synth[1::2]):
        assert (pos["label"], neg["label"]) == (1, 0)
        assert pos["premise"] == neg["premise"] and pos["group"] == neg["group"]
        assert pos["hypothesis"] != neg["hypothesis"]


def test_antonym_and_negation_edits_change_one_thing(rows):
    """Against an unedited twin, an antonym edit swaps one word for its opposite and a negation
    edit only adds or removes the negation."""
    def unnegated(text: str) -> str:
        return re.sub(r"\bcannot\b", "can", text).replace("n't", "").replace(" not", "")

    synth = [r for r in rows if r["source"].startswith("synthetic_")]
    seen = set()
    for pos, neg in zip(synth[::2], synth[1::2]):
        if pos["source"] != "synthetic_copy":
            continue
        if neg["source"] == "synthetic_antonym":
            a, b = (re.findall(r"\w+", r["hypothesis"].lower()) for r in (pos, neg))
            diff = [(x, y) for x, y in zip(a, b) if x != y]
            assert len(a) == len(b) and len(diff) == 1, (pos["hypothesis"], neg["hypothesis"])
            assert _ANTONYM[diff[0][0]] == diff[0][1]
            seen.add("antonym")
        elif neg["source"] == "synthetic_negation":
            assert unnegated(pos["hypothesis"]) == unnegated(neg["hypothesis"]), (pos["hypothesis"], neg["hypothesis"])
            seen.add("negation")
    assert seen == {"antonym", "negation"}


def test_long_premises_are_the_scorer_windows(rows):
    """Premises of long documents are cut to what the scorer sees at max_length 160."""
    count = default_token_counter()
    long_src = [r for r in rows if r["source"] in ("qags", "wice") or r["source"].startswith("summedits_")]
    assert long_src
    over = [r for r in long_src if count(r["premise"]) + count(r["hypothesis"]) + 3 > 160]
    # a window is whole sentences: only a single sentence longer than the budget may overflow it
    assert len(over) / len(long_src) < 0.02


def test_summedits_sentence_labels():
    base = {"premise": "doc", "domain": "news"}
    one = dict(base, hypothesis="Ann buys milk today. Bob sells old bread.", label=0,
               original_summary="Ann buys milk today. Bob sells fresh bread.")
    assert list(_summary_sentences(one)) == [("Ann buys milk today.", 1), ("Bob sells old bread.", 0)]
    two = dict(one, hypothesis="Ann sells milk today. Bob sells old bread.")
    assert list(_summary_sentences(two)) == [(two["hypothesis"], 0)]  # which sentence is wrong is unknown
    ok = dict(one, label=1)
    assert list(_summary_sentences(ok)) == [("Ann buys milk today.", 1), ("Bob sells old bread.", 1)]
    single = dict(base, hypothesis="Ann sells milk today.", label=0, original_summary="Ann buys milk today.")
    assert list(_summary_sentences(single)) == [("Ann sells milk today.", 0)]


def test_dev_split_is_by_group_and_deterministic(rows):
    train, dev = split_dev(rows)
    assert 0.08 < len(dev) / len(rows) < 0.16
    assert not {r["group"] for r in train} & {r["group"] for r in dev}
    train2, dev2 = split_dev(build_pairs(seed=13))
    assert json.dumps(dev2) == json.dumps(dev)


def test_file_hashes_cover_all_inputs():
    h = file_hashes()
    assert len(h) == 13 and all(len(v) == 64 for v in h.values())


def test_distractors_go_into_short_premises_only_from_other_training_groups(rows):
    train, _ = split_dev(rows)
    count = default_token_counter()
    out = add_distractors(train, 0.3, count_tokens=count)
    assert add_distractors(train, 0.3, count_tokens=count) == out and add_distractors(train, 0.0) == train
    assert len(out) == len(train)
    changed = [(a, b) for a, b in zip(train, out) if a["premise"] != b["premise"]]
    short = [a for a in train if count(a["premise"]) < 60]
    assert 0.25 < len(changed) / len(short) < 0.35
    assert {a["source"] for a, _ in changed} >= {"snli", "climate_fever", "begin"} and {0, 1} == {a["label"] for a, _ in changed}
    sentences_of = {}
    for r in train:
        for s in split_sentences(r["premise"]):
            sentences_of.setdefault(s, set()).add(r["group"])
    for a, b in changed:
        extra = b.pop("distractors")
        assert {**b, "premise": a["premise"]} == a  # label, source, group kept
        assert count(a["premise"]) < 60 and count(b["premise"]) + count(b["hypothesis"]) + 3 <= 160
        for s in extra:
            assert sentences_of[s] - {a["group"]}  # a training premise of another group gave it
        pieces = [*split_sentences(a["premise"]), *extra]
        assert 1 <= len(extra) <= 2 and len(b["premise"]) == len(_join(pieces))
        at = 0
        for own in split_sentences(a["premise"]):  # the premise's own sentences, in order, each closed
            at = b["premise"].index(_join([own]), at) + 1
        assert all(_join([s]) in b["premise"] for s in extra)


def test_distractor_probe_pairs_each_dev_snli_pair_with_a_distracted_copy():
    probe = distractor_probe(per_class=40)
    dev = dev_documents()
    snli = {(r["premise"], r["hypothesis"], r["label"]) for r in dev if r["source"] == "snli"}
    news = " ".join(r["premise"] for r in dev if r["source"] == "qags")
    assert len(probe) == 160 and sum(r["label"] for r in probe) == 80
    for plain, distracted in zip(probe[::2], probe[1::2]):
        assert not plain["distracted"] and distracted["distracted"]
        assert (plain["premise"], plain["hypothesis"], plain["label"]) in snli
        assert distracted["hypothesis"] == plain["hypothesis"] and distracted["premise"].endswith(" " + _join([plain["premise"]]))
        extra = distracted["distractors"]
        assert len(extra) == 2 and all(s in news for s in extra) and distracted["premise"] == _join([*extra, plain["premise"]])
    assert distractor_probe(per_class=40) == probe


def test_modifier_swaps_use_the_documents_own_modifiers_and_are_off_by_default(rows):
    import random

    from haltguard.models.nli_data import _edit

    doc = ("The Basic plan costs $10 per month. The Pro plan adds phone support. Refunds are for annual "
           "plans only; monthly plans are not refunded. Full-time employees get 25 days; part-time employees get fewer.")
    rng = random.Random(1)
    assert _edit("swap", "The Basic plan costs $10 per month.", doc, rng, [], [], "g") == ("The Pro plan costs $10 per month.", 0)
    assert _edit("swap", "Refunds are for annual plans only.", doc, rng, [], [], "g") == ("Refunds are for monthly plans only.", 0)
    # inside a hyphenated word nothing is swapped; a word after a content word is no modifier
    assert _edit("swap", "Full-time employees get 25 days.", doc, rng, [], [], "g") == ("part-time employees get 25 days.", 0)
    assert _edit("swap", "Cats sleep.", doc, rng, [], [], "g") is None
    assert not any(r["source"] == "synthetic_swap" for r in rows)  # the shipped recipe draws none
    swapped = [r for r in build_pairs(seed=13, swap_weight=0.3) if r["source"] == "synthetic_swap"]
    assert len(swapped) > 100 and all(r["label"] == 0 for r in swapped)
