"""The stdlib half of the name model: words with offsets, chunks, BIO decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haltguard.kernel.ner import ENTITY_TYPES, LABELS, Entity, NerEncoder, decode, word_spans
from haltguard.kernel.resources import model_dir
from haltguard.kernel.tokenizer import WordPieceTokenizer


@pytest.fixture(scope="module")
def tok() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(str(model_dir() / "vocab.txt"))


TEXTS = st.text(st.sampled_from(list("ab Zé,.!-'\n\t1 ") + ["東", "\u200b", "\x00"]), max_size=80)


def test_labels_are_bio_over_the_detector_types():
    assert LABELS[0] == "O" and len(LABELS) == 1 + 2 * len(ENTITY_TYPES)
    assert LABELS[1:3] == ("B-PERSON", "I-PERSON") and "B-ADDRESS" in LABELS


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_words_are_what_the_tokenizer_pre_tokenises(tok, text):
    spans = word_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
    # the same words, in the same order, as the tokenizer's own pre-tokenisation of the whole text
    words = [w for a, b in spans for w in tok.pre_tokenize(tok.normalize(text[a:b]))]
    assert words == tok.pre_tokenize(tok.normalize(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Anna", "lives", "in", "Berlin", ".", "Supercalifragilistic", "!", "x" * 40]), max_size=120),
       st.integers(min_value=8, max_value=40))
def test_chunks_cover_every_word_once_within_the_length(tok, words, max_length):
    text = " ".join(words)
    enc = NerEncoder(tok, max_length)
    spans = word_spans(text)
    chunks = enc.chunks(text, spans)
    seen = []
    for c in chunks:
        assert len(c.ids) <= max_length and c.ids[0] == tok.cls_id and c.ids[-1] == tok.sep_id
        seen += [c.first_word + k for k in range(len(c.heads))]
        assert list(c.heads) == sorted(c.heads) and all(0 < h < len(c.ids) - 1 for h in c.heads)
    assert seen == list(range(len(spans)))


def test_chunks_end_at_a_sentence_when_they_must_cut(tok):
    text = "Anna lives in Berlin. " * 12
    chunks = NerEncoder(tok, 24).chunks(text)
    spans = word_spans(text)
    assert len(chunks) > 1
    for c in chunks[:-1]:  # every chunk but the last ends with a full stop
        last = c.first_word + len(c.heads) - 1
        assert text[spans[last][0]:spans[last][1]] == "."


def _probs(labels: list[str], conf: float = 0.9) -> list[list[float]]:
    out = []
    for lab in labels:
        p = [(1 - conf) / (len(LABELS) - 1)] * len(LABELS)
        p[LABELS.index(lab)] = conf
        out.append(p)
    return out


def test_decode_bio_to_character_spans():
    text = "Dr. Anna Maria Schmidt works at Acme Corp in Berlin"
    spans = word_spans(text)
    labs = ["O", "O", "B-PERSON", "I-PERSON", "I-PERSON", "O", "O", "B-ORGANIZATION", "I-ORGANIZATION", "O", "B-LOCATION"]
    got = decode(text, spans, _probs(labs))
    assert [(e.type, text[e.start:e.end]) for e in got] == [
        ("person", "Anna Maria Schmidt"), ("organization", "Acme Corp"), ("location", "Berlin")]
    assert all(isinstance(e, Entity) and e.score == pytest.approx(0.9 + 0.1 / 8, abs=1e-3) for e in got)


def test_decode_repairs_and_splits():
    text = "Paris London Rome"
    spans = word_spans(text)
    # an I- that follows nothing opens a span; a B- always opens a new one; a type change closes the span
    got = decode(text, spans, _probs(["I-LOCATION", "B-LOCATION", "I-PERSON"]))
    assert [(e.type, text[e.start:e.end]) for e in got] == [("location", "Paris"), ("location", "London"), ("person", "Rome")]
    assert decode(text, spans, _probs(["B-LOCATION", "I-LOCATION", "O"], conf=0.3), min_score=0.5) == []


def test_merge_keeps_regex_findings_over_overlapping_names():
    from haltguard.kernel.detector import detect
    from haltguard.kernel.ner import merge_findings

    text = "Mail Jane Roe at jane.roe@example.com or visit Berlin."
    regex = detect(text)
    assert [f.type for f in regex] == ["email"]
    names = [Entity("person", 5, 13, 0.9), Entity("person", 17, 25, 0.95),  # "jane.roe" inside the email: dropped
             Entity("location", 47, 53, 0.8), Entity("organization", 47, 53, 0.6)]  # same span: the higher score wins
    got = merge_findings(text, regex, names)
    assert [(f.type, f.value, f.validator) for f in got] == [
        ("person", "Jane Roe", "ner"), ("email", "jane.roe@example.com", regex[0].validator), ("location", "Berlin", "ner")]
    assert [f.type for f in merge_findings(text, regex, names, types=("location",))] == ["email", "location"]


def test_transform_pseudonymises_names_consistently_and_rehydrates():
    from haltguard.kernel.guard import rehydrate_json, relocate, transform_json

    text = "Hi, I'm Jane Roe. Tell Jane Roe and Max Mustermann about jane@example.com"
    names = [Entity("person", 8, 16, 0.9), Entity("person", 23, 31, 0.9), Entity("person", 36, 50, 0.8)]
    out = transform_json(text, None, None, names)
    assert out["safe_text"] == "Hi, I'm {{person:1}}. Tell {{person:1}} and {{person:2}} about {{email:1}}"
    again = transform_json("Jane Roe wrote back.", None, out["session"], [Entity("person", 0, 8, 0.9)])
    assert again["safe_text"] == "{{person:1}} wrote back."  # the same name keeps its placeholder across turns
    back = rehydrate_json("Dear {{person:1}}, {{person:2}} says hi", again["session"])
    assert back["restored_text"] == "Dear Jane Roe, Max Mustermann says hi"
    # a prompt action that strips text moves offsets: the names are found again where they now are
    moved = relocate(names[:1], text, "Hello Jane Roe")
    assert [(m.start, m.end) for m in moved] == [(6, 14)]
