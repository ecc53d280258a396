from __future__ import annotations

import json
import re

import pytest

from haltguard.models.nli_data import (_ANTONYM, SUPPORTED_KINDS, UNSUPPORTED_KINDS, _summary_sentences, build_pairs,
                                       default_token_counter, file_hashes, split_dev, summary)


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
