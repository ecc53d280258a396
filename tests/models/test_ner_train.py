"""The name model's training pieces and a whole (tiny) train -> export -> load -> card run."""
from __future__ import annotations

import json

import pytest

from haltguard.kernel.ner import LABELS, Entity, NerEncoder, word_spans
from haltguard.kernel.tokenizer import WordPieceTokenizer
from haltguard.models.ner_data import DEV_SOURCES, TRAIN_SOURCES, corpus, synthetic
from haltguard.models.ner_train import encode, ner_card, span_report, word_labels


def test_word_labels_mark_the_first_word_of_a_span_b():
    ex = {"text": "Dr. Jean-Luc Picard lives in New York.", "spans": [(4, 19, "person"), (29, 37, "location")]}
    spans = word_spans(ex["text"])
    got = [(ex["text"][a:b], LABELS[k]) for (a, b), k in zip(spans, word_labels(ex, spans))]
    assert got == [("Dr", "O"), (".", "O"), ("Jean", "B-PERSON"), ("-", "I-PERSON"), ("Luc", "I-PERSON"),
                   ("Picard", "I-PERSON"), ("lives", "O"), ("in", "O"), ("New", "B-LOCATION"), ("York", "I-LOCATION"),
                   (".", "O")]


def test_encode_labels_word_heads_only():
    from haltguard.models.train import base_model_dir

    enc = NerEncoder(WordPieceTokenizer.from_file(str(base_model_dir() / "vocab.txt")), 12)
    ex = {"text": "Picard met Guinan on the Enterprise in orbit over Earth today.", "spans": [(0, 6, "person")]}
    rows = encode([ex], enc)
    assert len(rows) > 1 and all(len(r["input_ids"]) <= 12 for r in rows)  # cut into chunks
    labels = [x for r in rows for x in r["labels"] if x != -100]
    assert len(labels) == len(word_spans(ex["text"])) and labels[0] == LABELS.index("B-PERSON") and set(labels[1:]) == {0}
    assert rows[0]["labels"][0] == -100 and rows[0]["labels"][-1] == -100  # [CLS], [SEP]


def test_span_report_counts_overlaps_per_type():
    gold = [{"text": "x", "spans": [(0, 8, "person"), (20, 26, "location")]}]
    rep = span_report(gold, [[Entity("person", 0, 4, 0.9), Entity("location", 10, 12, 0.9), Entity("person", 21, 24, 0.9)]])
    assert rep["person"] == {"gold": 1, "tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0, "f1": 0.6667}
    assert rep["location"]["fp"] == 1 and rep["location"]["fn"] == 1 and rep["location"]["f1"] == 0.0


def test_corpora_and_synthetic_text():
    for s in TRAIN_SOURCES[:-1] + DEV_SOURCES:
        ex = corpus(s)
        assert len(ex) > 500, s
        for e in ex[:200]:
            assert all(0 <= a < b <= len(e["text"]) and t in ("person", "location", "organization", "address")
                       for a, b, t in e["spans"]), s
    syn = synthetic(300, seed=3)
    assert syn == synthetic(300, seed=3) and {t for e in syn for *_, t in e["spans"]} == {
        "person", "location", "organization", "address"}
    assert any(e["text"].islower() and e["spans"] for e in syn)  # lower-case messages too
    with pytest.raises(ValueError, match="unknown NER source"):
        corpus("conll")


def test_tiny_training_exports_a_model_the_host_can_load(tmp_path):
    from haltguard.models.ner_model import OnnxNerModel, read_ner_manifest
    from haltguard.models.ner_train import export_ner, train_ner

    rec = train_ner(tmp_path / "work", max_examples=64, synthetic=32, epochs=1, threads=2, progress=False)
    assert rec["steps"] == 2 and rec["chunks"] >= 64
    m = export_ner(tmp_path / "work", tmp_path / "out", dev_limit=10)
    assert read_ner_manifest(tmp_path / "out")["labels"] == list(LABELS) and set(m["onnx"]) == {"int8"}
    assert (tmp_path / "out" / "model_int8.onnx").stat().st_size < 25 * 1024 * 1024
    assert set(m["dev_report"]) == set(DEV_SOURCES) and m["dev_report"]["presidio"]["n"] == 10
    model = OnnxNerModel(tmp_path / "out")
    assert len(model.entities(["Hi, I'm Jane.", "", "no names here"])) == 3
    card = ner_card(m, {"presidio": {"person": {"f1": 0.5}}})
    assert "| presidio-research generated PII | person |" in card and "| 0.5 |" in card
    (tmp_path / "out" / "manifest.json").write_text(json.dumps({**m, "format": "other"}))
    with pytest.raises(ValueError, match="not a name model"):
        read_ner_manifest(tmp_path / "out")
