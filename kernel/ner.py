"""Names, places, organisations and addresses: the stdlib half of the name model.

The model (a token classifier on the MiniLM encoder, ``haltguard train ner``) only maps token
ids to label scores; everything around it lives here, so the host (onnxruntime) and the
browser worker (onnxruntime-web under Pyodide) cut text, build inputs and read spans with the
very same code and return the very same findings:

* ``word_spans``: the words the BERT pre-tokeniser would make (whitespace splits, every
  punctuation mark is a word), with their offsets in the original text;
* ``NerEncoder.chunks``: those words as WordPiece ids in chunks of at most ``max_length``
  tokens, cut between words (after a sentence end where one is near), each position of a
  word's first piece remembered: a word's label is read there, as in training;
* ``decode``: per-word label probabilities back to character spans (BIO, with an ``I-``
  that follows nothing opening a span, as a model sometimes says).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from haltguard.kernel.detector import Finding
from haltguard.kernel.tokenizer import WordPieceTokenizer, _is_cjk, _is_control, _is_punct

__all__ = ["ENTITY_TYPES", "LABELS", "Entity", "NerChunk", "NerEncoder", "word_spans", "decode", "merge_findings",
           "probabilities", "word_probabilities"]

# the detector's type names; the model's labels are BIO over them, in this order
ENTITY_TYPES = ("person", "location", "organization", "address")
LABELS = ("O",) + tuple(f"{p}-{t.upper()}" for t in ENTITY_TYPES for p in ("B", "I"))
_SENTENCE_END = {".", "!", "?"}


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each pre-tokenised word of ``text``: whitespace separates, punctuation
    and CJK characters stand alone (what ``WordPieceTokenizer.pre_tokenize`` does)."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, c in enumerate(text):
        if c in "\x00\ufffd" or (_is_control(c) and not c.isspace()):
            continue  # dropped by normalisation: neither a word nor a separator
        if c.isspace():
            if start >= 0:
                out.append((start, i))
                start = -1
        elif _is_punct(c) or _is_cjk(ord(c)):
            if start >= 0:
                out.append((start, i))
                start = -1
            out.append((i, i + 1))
        elif start < 0:
            start = i
    if start >= 0:
        out.append((start, len(text)))
    return out


@dataclass(frozen=True)
class NerChunk:
    """Model input for some words: ``ids`` with [CLS]/[SEP]; ``heads[k]`` is the position of the
    first piece of word ``first_word + k`` in ``ids`` (where its label is read)."""

    ids: tuple[int, ...]
    heads: tuple[int, ...]
    first_word: int


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    score: float
    source: str = "ner"  # what found it: the name model ("ner") or the place list ("places")


class NerEncoder:
    """Words to model inputs with the model's own vocabulary (the kernel's WordPiece)."""

    def __init__(self, tokenizer: WordPieceTokenizer, max_length: int = 128) -> None:
        if max_length < 8:
            raise ValueError(f"max_length must be >= 8, not {max_length}")
        self.tok = tokenizer
        self.max_length = max_length

    def word_ids(self, word: str) -> list[int]:
        ids: list[int] = []
        for w in self.tok.pre_tokenize(self.tok.normalize(word)):
            ids.extend(self.tok._word_ids(w))
        return ids or [self.tok.unk_id]

    def chunks(self, text: str, spans: Sequence[tuple[int, int]] | None = None) -> list[NerChunk]:
        """Every word of ``text`` in exactly one chunk, chunks in order."""
        spans = word_spans(text) if spans is None else spans
        budget = self.max_length - 2
        pieces = [self.word_ids(text[a:b])[:budget] for a, b in spans]
        out: list[NerChunk] = []
        i = 0
        while i < len(pieces):
            j, used, cut = i, 0, -1
            while j < len(pieces) and used + len(pieces[j]) <= budget:
                used += len(pieces[j])
                if text[spans[j][0]:spans[j][1]] in _SENTENCE_END:
                    cut = j + 1
                j += 1
            if j < len(pieces) and cut > i and cut - i >= (j - i) // 2:
                j = cut  # end the chunk at a sentence end when one falls in its second half
            ids = [self.tok.cls_id]
            heads = []
            for p in pieces[i:j]:
                heads.append(len(ids))
                ids.extend(p)
            ids.append(self.tok.sep_id)
            out.append(NerChunk(tuple(ids), tuple(heads), i))
            i = j
        return out


def probabilities(logit_rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """Softmax of each row of label logits, in plain Python: the host and the browser worker
    turn the model's logits into the same probabilities (and so the same spans and scores)."""
    out = []
    for row in logit_rows:
        top = max(row)
        e = [math.exp(x - top) for x in row]
        total = sum(e)
        out.append([x / total for x in e])
    return out


def word_probabilities(n_words: int, chunks: Sequence[NerChunk],
                       head_logits: Sequence[Sequence[Sequence[float]]]) -> list[list[float]]:
    """Each word's label probabilities from each chunk's logits at its word heads (in order)."""
    probs: list[list[float]] = [[] for _ in range(n_words)]
    for c, rows in zip(chunks, head_logits):
        for k, p in enumerate(probabilities(rows)):
            probs[c.first_word + k] = p
    return probs


def decode(text: str, spans: Sequence[tuple[int, int]], probs: Sequence[Sequence[float]],
           min_score: float = 0.5) -> list[Entity]:
    """Entities from each word's label probabilities (``LABELS`` order).

    A word takes its most probable label; ``B-X``, or an ``I-X`` that does not continue an X,
    opens a span; ``I-X`` after X extends it. A span's score is the mean over its words of the
    probability of being inside an X (B-X + I-X); spans under ``min_score`` are dropped.
    """
    out: list[Entity] = []
    cur: list[int] | None = None  # [type index, first word, last word]
    scores: list[float] = []

    def close() -> None:
        if cur is not None:
            s = sum(scores) / len(scores)
            if s >= min_score:
                out.append(Entity(ENTITY_TYPES[cur[0]], spans[cur[1]][0], spans[cur[2]][1], round(s, 4)))

    for w, p in enumerate(probs):
        k = max(range(len(p)), key=p.__getitem__)
        if k == 0:
            close()
            cur, scores = None, []
            continue
        t, inside = (k - 1) // 2, (k - 1) % 2 == 1
        if cur is not None and inside and cur[0] == t:
            cur[2] = w
        else:
            close()
            cur, scores = [t, w, w], []
        scores.append(p[1 + 2 * t] + p[2 + 2 * t])
    close()
    return out


def merge_findings(text: str, regex: Sequence[Finding], entities: Sequence[Entity],
                   types: Collection[str] | None = None) -> list[Finding]:
    """The detector's findings and the name model's entities as one sorted, non-overlapping list.

    Deterministic overlap rule: a regex finding (validated structure: a card, an email, an
    IBAN) always wins over a name span that overlaps it; among name spans the higher score,
    then the longer, then the earlier wins. ``types``: the name types to keep (all when None).
    """
    kept = sorted(regex, key=lambda f: f.start)
    names = sorted((e for e in entities if types is None or e.type in types),
                   key=lambda e: (-e.score, e.start - e.end, e.start))
    out = list(kept)
    for e in names:
        if any(f.start < e.end and e.start < f.end for f in out):
            continue
        out.append(Finding(e.type, e.start, e.end, text[e.start:e.end], e.score, e.source, None))
    out.sort(key=lambda f: f.start)
    return out
