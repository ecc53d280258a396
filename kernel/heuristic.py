"""Model-free support scorer: is a generated sentence backed by the given facts?

The zero-dependency fallback for devices that cannot run the NLI model. Plain word
overlap is blind to the edits that make a sentence wrong while keeping its words (a
changed number, date or name, an added "not"), so on top of content-word support this
checks exactly those: numbers and months absent from the facts, capitalised names the
facts never mention, and negation that differs from the closest fact sentence.
The weights are fixed constants, not fitted; the decision threshold is chosen on WiCE
dev only (see ``benchmarks``) and recorded in ``DEFAULT_THRESHOLD``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from haltguard.kernel.sentences import sentence_spans

__all__ = ["HeuristicScorer", "heuristic_support", "overlap_support", "content_words", "unsupported_numbers",
           "DEFAULT_THRESHOLD"]

# Chosen on WiCE dev (balanced accuracy), see `haltguard bench heuristic`.
DEFAULT_THRESHOLD = 0.28
# Scores of sentences with a contradicted number or negation never exceed this.
CONTRADICTION_CAP = 0.15

STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto over under about
    as is are was were be been being am do does did doing have has had having it its it's this that
    these those there here their they them he him his she her hers we us our you your i me my mine
    which who whom whose what when where why how all any both each few more most other some such
    only own same so than too very can could will would shall should may might must also just
    up down out off again further once s t d ll m o re ve y said says say one ones""".split()
)
NEGATIONS = frozenset(
    """not no never none nobody nothing neither nor without cannot cant n't dont doesnt didnt isnt
    arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt lack lacks lacked fail fails
    failed deny denies denied refuse refused""".split()
)
MONTHS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday""".split()
)
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
    "thousand": "1000", "million": "1000000", "billion": "1000000000", "half": "0.5",
}
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _stem(w: str) -> str:
    """A deliberately light stemmer: plural and common verb endings only."""
    if len(w) > 4:
        for suf, rep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                return w[: -len(suf)] + rep
    return w


def _norm_number(tok: str) -> str:
    t = tok.replace(",", "")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t.lstrip("0") or "0"


def content_words(text: str) -> list[str]:
    """Lower-cased, stemmed words that carry content (numbers included, stopwords not)."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group().lower()
        if w in STOPWORDS or w in NEGATIONS:
            continue
        out.append(_norm_number(w) if w[0].isdigit() else _stem(w))
    return out


@functools.lru_cache(maxsize=64)
def _stated(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers a text states (normalised; number words too) and its lower-cased words.

    Kept for the last few texts: every claim of an answer is checked against the same context,
    and reading a 20 KB context costs more than judging a claim's few windows' numbers.
    """
    lower = frozenset(m.group().lower() for m in _WORD.finditer(text))
    numbers = {_norm_number(n) for n in _NUMBER.findall(text)}
    numbers.update(_NUMBER_WORDS[w] for w in lower if w in _NUMBER_WORDS)
    return frozenset(numbers), lower


class _Facts:
    """Pre-processed facts, reused across every sentence of a stream."""

    __slots__ = ("text", "words", "numbers", "lower_words", "sentences")

    def __init__(self, facts: str | Iterable[str]) -> None:
        text = facts if isinstance(facts, str) else "\n".join(facts)
        self.text = text
        self.words = set(content_words(text))
        self.numbers, self.lower_words = _stated(text)
        self.sentences = []
        for a, b in sentence_spans(text):
            s = text[a:b]
            toks = [m.group().lower() for m in _WORD.finditer(s)]
            self.sentences.append((set(content_words(s)), sum(1 for t in toks if t in NEGATIONS or t.endswith("n't"))))


def overlap_support(premise: str, hypothesis: str) -> float:
    """The plain baseline: share of the hypothesis' content words found in the premise."""
    h = content_words(hypothesis)
    if not h:
        return 1.0
    p = set(content_words(premise))
    return sum(1 for w in h if w in p) / len(h)


def unsupported_numbers(facts: str | Iterable[str] | _Facts, hypothesis: str) -> list[str]:
    """Numbers (digits or number words) of ``hypothesis`` that the facts never state.

    "1,000" and "1000", "ten" and "10" count as the same number. A changed figure keeps
    every other word of a sentence, so word overlap and small NLI models both tend to miss it.
    """
    if isinstance(facts, _Facts):
        numbers, lower_words = facts.numbers, facts.lower_words
    else:
        numbers, lower_words = _stated(facts if isinstance(facts, str) else "\n".join(facts))
    out = [m.group() for m in _NUMBER.finditer(hypothesis) if _norm_number(m.group()) not in numbers]
    for m in _WORD.finditer(hypothesis):
        t = m.group()
        tl = t.lower()
        if tl in _NUMBER_WORDS and tl not in lower_words and _NUMBER_WORDS[tl] not in numbers:
            out.append(t)
    return out


def heuristic_support(facts: str | Iterable[str] | _Facts, hypothesis: str) -> tuple[float, dict[str, Any]]:
    """Support score in [0, 1] and the evidence behind it."""
    f = facts if isinstance(facts, _Facts) else _Facts(facts)
    words = content_words(hypothesis)
    if not words:
        return 1.0, {"support": 1.0, "reason": "no content words"}
    missing = [w for w in words if w not in f.words and not w[0].isdigit()]
    support = 1.0 - len(missing) / len(words)
    score = support ** 1.5

    numbers = unsupported_numbers(f, hypothesis)
    toks = [m.group() for m in _WORD.finditer(hypothesis)]
    months = [t for t in toks if t.lower() in MONTHS and t.lower() not in f.lower_words and t[0].isupper()]
    names = [
        t
        for i, t in enumerate(toks)
        if i > 0 and t[0].isupper() and t.lower() not in f.lower_words and t.lower() not in STOPWORDS
        and t.lower() not in MONTHS
    ]
    score *= 0.35 ** len(numbers) * 0.4 ** len(months) * 0.7 ** min(len(names), 3)

    # negation parity against the fact sentence that shares most content words
    hset = set(words)
    neg_h = sum(1 for t in toks if t.lower() in NEGATIONS or t.lower().endswith("n't"))
    best, best_overlap = None, 0
    for i, (sw, _neg) in enumerate(f.sentences):
        ov = len(hset & sw)
        if ov > best_overlap:
            best, best_overlap = i, ov
    flip = False
    if best is not None and best_overlap >= 2:
        flip = (neg_h % 2) != (f.sentences[best][1] % 2)
        if flip:
            score *= 0.4
    if numbers or flip:
        # A contradicted number or polarity is categorical evidence: no amount of word
        # overlap may lift such a sentence over the threshold.
        score = min(score, CONTRADICTION_CAP)
    score = max(0.0, min(1.0, score))
    return score, {
        "support": round(support, 4),
        "missing_words": missing[:12],
        "unsupported_numbers": numbers[:8],
        "unsupported_dates": months[:8],
        "unsupported_names": names[:8],
        "negation_flip": flip,
        "closest_fact_sentence": best,
    }


class HeuristicScorer:
    """A kernel scorer: scores the sentence being generated against fixed facts.

    Call it with a ``ScoreView`` (as the stream drivers do) or use ``score(text)``.
    It returns ``(value, evidence)`` pairs, which the kernel records as evidence.
    """

    def __init__(self, facts: str | Iterable[str]) -> None:
        self._facts = _Facts(facts)

    def score(self, hypothesis: str) -> tuple[float, dict[str, Any]]:
        return heuristic_support(self._facts, hypothesis)

    def __call__(self, view: Any) -> tuple[float, dict[str, Any]]:
        text = view.text
        tail_from = max(0, len(text) - len(view.segment) - 400)
        tail = text[tail_from:]
        spans = sentence_spans(tail)
        seg_start = len(tail) - len(view.segment)
        # the sentences that overlap the new segment (the last one may be unfinished)
        parts = [tail[a:b] for a, b in spans if b > seg_start] or [tail[a:b] for a, b in spans[-1:]]
        if not parts:
            return 1.0, {"support": 1.0, "reason": "empty segment"}
        scored = [self.score(p) for p in parts]
        value, evidence = min(scored, key=lambda x: x[0])
        evidence = dict(evidence, sentence=parts[scored.index((value, evidence))][:200])
        return value, evidence
