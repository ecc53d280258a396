"""How a (premise, hypothesis) pair meets an NLI model whose window is ``max_length`` tokens.

The pieces of the one scoring path (``haltguard.kernel.scoring`` puts them together): a
premise longer than the window is cut into overlapping sentence windows, because evidence is
local and cutting it off would lose it; a model trained on single sentences may ask for each
sentence of a hypothesis to be judged on its own (one unsupported sentence makes a summary
unsupported); and a hypothesis stating numbers its premise never does loses support, because
a changed figure keeps every other word and a small NLI model often misses it. What was tried
instead of each rule is recorded in docs/lab/scoring-trials.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

from haltguard.kernel.heuristic import content_words, unsupported_numbers
from haltguard.kernel.sentences import sentence_spans, split_sentences

__all__ = ["HYPOTHESIS_MODES", "premise_chunks", "premise_chunk_spans", "hypothesis_units", "penalise_unsupported_numbers",
           "unsupported_number_counts", "apply_number_penalty", "NUMBERS_COUNTED", "rank_passages"]

Pair = tuple[str, str]

# how a hypothesis meets the model: whole, or one sentence at a time
HYPOTHESIS_MODES = ("whole", "sentences")
# unsupported numbers beyond this many add no further penalty (a table of figures is not
# ten times as wrong as one changed figure)
NUMBERS_COUNTED = 2


def premise_chunk_spans(premise: str, hypothesis: str, count_tokens: Callable[[str], int],
                        max_length: int) -> list[tuple[int, int]]:
    """(start, end) in ``premise`` of sentence windows that fit the model window next to the hypothesis.

    A window is a run of whole sentences; consecutive windows share one sentence.
    """
    budget = max_length - 3 - count_tokens(hypothesis)
    if budget < 16 or count_tokens(premise) <= budget:
        return [(0, len(premise))]
    spans = sentence_spans(premise) or [(0, len(premise))]
    sizes = [count_tokens(premise[a:b]) for a, b in spans]
    out, i = [], 0
    while i < len(spans):
        j, used = i, 0
        while j < len(spans) and (used + sizes[j] <= budget or j == i):
            used += sizes[j]
            j += 1
        out.append((spans[i][0], spans[j - 1][1]))
        if j >= len(spans):
            break
        i = max(i + 1, j - 1)  # one sentence of overlap between windows
    return out


def premise_chunks(premise: str, hypothesis: str, count_tokens: Callable[[str], int], max_length: int) -> list[str]:
    """Sentence windows of the premise that fit the model window next to the hypothesis."""
    return [premise[a:b] for a, b in premise_chunk_spans(premise, hypothesis, count_tokens, max_length)]


def hypothesis_units(hypothesis: str, mode: str = "whole") -> list[str]:
    """The parts of ``hypothesis`` judged on their own: itself, or its sentences of 3+ words."""
    if mode not in HYPOTHESIS_MODES:
        raise ValueError(f"hypothesis mode must be one of {HYPOTHESIS_MODES}, not {mode!r}")
    if mode == "whole":
        return [hypothesis]
    return [s for s in split_sentences(hypothesis) if len(s.split()) >= 3] or [hypothesis]


def unsupported_number_counts(items: Sequence[Pair]) -> list[int]:
    """Per (premise, hypothesis): numbers the hypothesis states and the premise does not, at most ``NUMBERS_COUNTED``.

    They depend on the texts only, so a caller trying several penalties counts them once.
    """
    return [min(len(unsupported_numbers(premise, hypothesis)), NUMBERS_COUNTED) for premise, hypothesis in items]


def apply_number_penalty(supports: Sequence[float], counts: Sequence[int], penalty: float) -> list[float]:
    """Lower each support by ``penalty`` logits per counted number (see ``penalise_unsupported_numbers``)."""
    if not penalty:
        return list(supports)
    out = []
    for s, n in zip(supports, counts):
        if n == 0 or math.isnan(s):
            out.append(s)
            continue
        p = min(max(s, 1e-7), 1 - 1e-7)
        out.append(min(s, 1 / (1 + math.exp(penalty * n - math.log(p / (1 - p))))))  # never raised by the clamp
    return out


def penalise_unsupported_numbers(supports: Sequence[float], items: Sequence[Pair], penalty: float) -> list[float]:
    """Lower each support by ``penalty`` logits per number its hypothesis states and its premise does not.

    Checked against the whole premise, not the window the model liked best, so a number stated
    elsewhere in the source is no penalty. A soft penalty, not a verdict: "$2 million" against
    "2,000,000" is a false alarm it must be able to outvote. The release chooses ``penalty``
    together with the threshold on dev data; 0 leaves every support untouched.
    """
    if not penalty:
        return list(supports)
    return apply_number_penalty(supports, unsupported_number_counts(items), penalty)


@functools.lru_cache(maxsize=4096)
def _passage_words(passage: str) -> tuple[str, ...]:
    """A window's content words, kept: every claim of an answer ranks the same context's windows."""
    return tuple(content_words(passage))


def rank_passages(query: str, passages: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[int]:
    """Indices of ``passages`` by BM25 relevance to ``query`` (stemmed content words), best first.

    Ties keep document order. The idf is the passages' own, so a word every window shares (the
    document's topic) counts little and the words that single out the claim's passage count most.
    """
    q = set(content_words(query))
    docs = [_passage_words(p) for p in passages]
    n = len(docs)
    if not q or n == 0:
        return list(range(n))
    avg = (sum(len(d) for d in docs) / n) or 1.0
    df = {w: sum(1 for d in docs if w in d) for w in q}
    idf = {w: math.log(1.0 + (n - df[w] + 0.5) / (df[w] + 0.5)) for w in q}
    scores = []
    for i, d in enumerate(docs):
        s = 0.0
        norm = k1 * (1.0 - b + b * len(d) / avg)
        for w in q:
            tf = d.count(w)
            if tf:
                s += idf[w] * tf * (k1 + 1.0) / (tf + norm)
        scores.append((-s, i))
    return [i for _, i in sorted(scores)]
