"""Judge claims against facts: per-sentence support with the evidence behind it.

Used by ``/v1/review`` and by the stream driver, so a review and a halted stream agree.
A claim (one sentence) is scored against sentence windows of every premise (single
sentences and adjacent pairs: a claim usually rests on one or two sentences, and a short
premise gives the model a sharper signal than a whole page); the best window is the
evidence. Then the kernel's heuristic checks that window for categorical conflicts — a
number or a polarity the evidence does not share — which small NLI models often miss;
such a claim is "contradicted" and its support capped at the heuristic's contradiction cap.
"""

from __future__ import annotations

import asyncio
from typing import Any

from haltguard.host.engines import ScoringService
from haltguard.kernel.heuristic import CONTRADICTION_CAP, heuristic_support
from haltguard.kernel.sentences import sentence_spans, split_sentences

__all__ = ["review", "judge_claim", "evidence_windows"]


def evidence_windows(premise: str) -> list[str]:
    sents = split_sentences(premise) or [premise]
    if len(sents) == 1:
        return sents
    return sents + [f"{a} {b}" for a, b in zip(sents, sents[1:])]


async def judge_claim(scoring: ScoringService, premises: list[list[str]], sentence: str) -> dict[str, Any]:
    """Support, verdict and evidence for one sentence; ``premises`` are pre-split windows."""
    best: dict[str, Any] | None = None
    flat = [(i, w) for i, windows in enumerate(premises) for w in windows]
    scores = await scoring.score([(w, sentence) for _, w in flat])
    for (i, w), s in zip(flat, scores):
        if best is None or s > best["support"]:
            best = {"fact_index": i, "chunk": w, "support": s}
    support = best["support"] if best else 0.0
    verdict, contradiction = ("supported" if support >= scoring.engine.threshold else "unsupported"), None
    if best is not None:
        _, ev = heuristic_support(best["chunk"], sentence)
        if ev.get("unsupported_numbers") or ev.get("negation_flip"):
            verdict = "contradicted"
            contradiction = {"numbers": ev.get("unsupported_numbers", []), "negation_flip": ev.get("negation_flip", False)}
            support = min(support, CONTRADICTION_CAP)
    return {"sentence": sentence, "support": support, "verdict": verdict, "evidence": best, "contradiction": contradiction}


async def review(scoring: ScoringService, response: str, premises: list[str]) -> dict[str, Any]:
    windows = [evidence_windows(p) for p in premises]
    spans = sentence_spans(response)
    # all claims at once: their pairs meet in the micro-batcher and share forward passes
    judged = await asyncio.gather(*(judge_claim(scoring, windows, response[a:b]) for a, b in spans))
    claims = [{**c, "span": {"start": a, "end": b}} for c, (a, b) in zip(judged, spans)]
    coherence = min((c["support"] for c in claims), default=1.0)
    return {"approved": all(c["verdict"] == "supported" for c in claims), "coherence": coherence,
            "threshold": scoring.engine.threshold, "model": scoring.engine.model_id, "claims": claims}
