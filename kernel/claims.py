"""Judging one claim against evidence windows: shared by the host's review/stream and the browser.

A claim (one sentence) is scored by a model against sentence windows of each premise
(single sentences and adjacent pairs: a claim usually rests on one or two sentences, and a
short premise gives a small NLI model a sharper signal than a whole page). The best window
is the evidence. The heuristic then checks that window for categorical conflicts — a number
or a polarity the evidence does not share — which small NLI models often miss; such a claim
is "contradicted" and its support is capped at ``CONTRADICTION_CAP``.
"""

from __future__ import annotations

from typing import Any, Sequence

from haltguard.kernel.heuristic import CONTRADICTION_CAP, heuristic_support
from haltguard.kernel.sentences import split_sentences

__all__ = ["evidence_windows", "premise_windows", "judge_claim"]


def evidence_windows(premise: str) -> list[str]:
    sents = split_sentences(premise) or [premise]
    if len(sents) == 1:
        return sents
    return sents + [f"{a} {b}" for a, b in zip(sents, sents[1:])]


def premise_windows(premises: Sequence[str]) -> list[tuple[int, str]]:
    """``(premise index, window)`` for every evidence window of every premise."""
    return [(i, w) for i, p in enumerate(premises) for w in evidence_windows(p)]


def judge_claim(sentence: str, windows: Sequence[tuple[int, str]], scores: Sequence[float],
                threshold: float) -> dict[str, Any]:
    """Verdict for ``sentence`` given model ``scores`` of each ``(premise_index, window)``."""
    best: dict[str, Any] | None = None
    for (i, w), s in zip(windows, scores):
        if best is None or s > best["support"]:
            best = {"fact_index": i, "chunk": w, "support": float(s)}
    support = best["support"] if best else 0.0
    verdict, contradiction = ("supported" if support >= threshold else "unsupported"), None
    if best is not None:
        _, ev = heuristic_support(best["chunk"], sentence)
        if ev.get("unsupported_numbers") or ev.get("negation_flip"):
            verdict = "contradicted"
            contradiction = {"numbers": ev.get("unsupported_numbers", []), "negation_flip": ev.get("negation_flip", False)}
            support = min(support, CONTRADICTION_CAP)
    return {"sentence": sentence, "support": support, "verdict": verdict, "evidence": best, "contradiction": contradiction}
