from __future__ import annotations

import json

import pytest

from haltguard.models.nli_data import build_pairs, file_hashes, premise_windows, split_dev, summary


@pytest.fixture(scope="module")
def rows():
    return build_pairs(seed=13)


def test_every_source_and_edit_kind_is_present(rows):
    s = summary(rows)
    for src in ("snli", "climate_fever", "wice", "qags", "begin", "summedits_news", "synthetic_copy",
                "synthetic_number", "synthetic_negation", "synthetic_entity", "synthetic_other_doc"):
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
    # copies should sit inside their premise window; the window is picked by word overlap, which
    # misses the sentence's own window in a handful of cases (known, see nli_data._synthetic)
    copies = [r for r in rows if r["source"] == "synthetic_copy"]
    outside = [r for r in copies if r["hypothesis"].strip() not in r["premise"]]
    assert copies and len(outside) / len(copies) < 0.01


def test_dev_split_is_by_group_and_deterministic(rows):
    train, dev = split_dev(rows)
    assert 0.08 < len(dev) / len(rows) < 0.16
    assert not {r["group"] for r in train} & {r["group"] for r in dev}
    train2, dev2 = split_dev(build_pairs(seed=13))
    assert json.dumps(dev2) == json.dumps(dev)


def test_premise_windows_cover_the_text():
    text = " ".join(f"Sentence {i} has a few more words in it." for i in range(60))
    wins = premise_windows(text, max_words=40)
    assert len(wins) > 5 and all(len(w.split()) <= 40 for w in wins)
    assert wins[0].startswith("Sentence 0") and wins[-1].endswith("Sentence 59 has a few more words in it.")


def test_file_hashes_cover_all_inputs():
    h = file_hashes()
    assert len(h) == 13 and all(len(v) == 64 for v in h.values())
