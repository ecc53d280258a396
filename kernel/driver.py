"""A guarded stream driven from outside: chunks in, wire frames out, claims judged per sentence.

The host's WebSocket and the browser worker both run streams this way; they differ only in
where pair scores come from (the host's batched engine, onnxruntime-web, or the host's
/v1/score as a fallback), which is the async ``score_pairs`` callable given here. Halting is
the kernel's (``ascore_once``), judging is ``haltguard.kernel.claims``.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Sequence

from haltguard.kernel.claims import judge_claim, premise_windows
from haltguard.kernel.config import HaltConfig
from haltguard.kernel.halt import HaltKernel, ScoreView
from haltguard.kernel.sentences import sentence_spans
from haltguard.kernel.stream import Score, ascore_once

__all__ = ["ClaimStream", "PairScorer", "DEFAULT_STREAM_HALT", "word_tokens"]

# The halt settings a guarded stream gets when its caller sends none (host and browser alike):
# calibrated for claim judging with the default NLI model (threshold ~0.39, conflicts capped at 0.15).
DEFAULT_STREAM_HALT: dict[str, Any] = {
    "hard_limit": 0.2, "soft_limit": 0.45, "window": {"size": 3, "threshold": 0.35}, "trend": None,
    "cadence": {"mode": "sentence", "max_tokens": 48},
}


def word_tokens(text: str) -> list[str]:
    """Split a whole answer into the word-and-space tokens LLM streams usually deliver (lossless)."""
    return re.findall(r"\s*\S+", text) + ([m] if (m := text[len(text.rstrip()):]) else [])

PairScorer = Callable[[Sequence[tuple[str, str]]], Awaitable[Sequence[float]]]


class ClaimStream:
    def __init__(self, score_pairs: PairScorer, threshold: float, context: str, config: HaltConfig) -> None:
        self.score_pairs = score_pairs
        self.threshold = threshold
        self.kernel = HaltKernel(config)
        self.kernel.view.context = context
        self.windows = premise_windows([context])
        self._last: Score | None = None

    async def judge(self, sentence: str) -> dict[str, Any]:
        scores = await self.score_pairs([(w, sentence) for _, w in self.windows])
        return judge_claim(sentence, self.windows, list(scores), self.threshold)

    async def _score(self, view: ScoreView) -> Score:
        text = view.text
        seg_start = len(text) - len(view.segment)
        spans = [(a, b) for a, b in sentence_spans(text) if b > seg_start] or sentence_spans(text)[-1:]
        worst: Score | None = None
        for a, b in spans:
            claim = await self.judge(text[a:b])
            if worst is None or claim["support"] < worst.value:
                ev = claim["evidence"] or {}
                worst = Score(claim["support"], {"sentence": text[a:b][:300], "verdict": claim["verdict"],
                                                 "evidence": str(ev.get("chunk", ""))[:500],
                                                 "support": round(claim["support"], 4),
                                                 "contradiction": claim["contradiction"]})
        self._last = worst or Score(1.0, {"reason": "empty segment"})
        return self._last

    async def _maybe_score(self) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        k = self.kernel
        while k.score_due and not k.halted:
            self._last = None
            before = k.scored_upto
            events = await ascore_once(k, self._score)
            last = self._last
            frames.append({"type": "score", "upto": k.scored_upto, "value": None if last is None else last.value,
                           "evidence": None if last is None else last.evidence})
            frames += [ev.to_dict() for ev in events]
            if k.scored_upto == before:  # nothing advanced (e.g. a late score): ask again on the next chunk
                break
        return frames

    async def feed(self, chunk: str) -> list[dict[str, Any]]:
        """Frames caused by one more generated chunk (none once halted)."""
        if self.kernel.halted or self.kernel.closed:
            return []
        frames = [ev.to_dict() for ev in self.kernel.push_token(chunk)]
        return frames + await self._maybe_score()

    async def end(self) -> list[dict[str, Any]]:
        """Score the tail, release what passes, and close with a ``done`` frame holding the record."""
        frames: list[dict[str, Any]] = []
        if not self.kernel.halted and not self.kernel.closed:
            frames += [ev.to_dict() for ev in self.kernel.close()]
            frames += await self._maybe_score()
        frames.append({"type": "done", "record": self.kernel.finish().to_dict(timings=False)})
        return frames
