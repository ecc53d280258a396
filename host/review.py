"""``/v1/review`` and the stream driver's scorer: claims judged against facts, with evidence.

The judging rule itself (evidence windows, best window as evidence, categorical-conflict
cap) is the kernel's ``haltguard.kernel.claims``, so the browser bundle judges the same way;
this module only feeds it scores from the host's scoring service.
"""

from __future__ import annotations

import asyncio
from typing import Any

from haltguard.host.engines import ScoringService
from haltguard.kernel.claims import judge_claim, premise_windows
from haltguard.kernel.sentences import sentence_spans

__all__ = ["review", "score_claim"]


async def score_claim(scoring: ScoringService, windows: list[tuple[int, str]], sentence: str) -> dict[str, Any]:
    scores = await scoring.score([(w, sentence) for _, w in windows])
    return judge_claim(sentence, windows, scores, scoring.engine.threshold)


async def review(scoring: ScoringService, response: str, premises: list[str]) -> dict[str, Any]:
    windows = premise_windows(premises)
    spans = sentence_spans(response)
    # all claims at once: their pairs meet in the micro-batcher and share forward passes
    judged = await asyncio.gather(*(score_claim(scoring, windows, response[a:b]) for a, b in spans))
    claims = [{**c, "span": {"start": a, "end": b}} for c, (a, b) in zip(judged, spans)]
    coherence = min((c["support"] for c in claims), default=1.0)
    return {"approved": all(c["verdict"] == "supported" for c in claims), "coherence": coherence,
            "threshold": scoring.engine.threshold, "model": scoring.engine.model_id, "claims": claims}
