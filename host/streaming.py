"""The host side of a guarded stream: tokens in, frames out, halting done by the kernel.

The client (or the host itself, for a whole answer sent at once) feeds generated chunks;
the kernel decides when a score is due, the scoring service scores the new sentence(s)
against the context, and the kernel's events become frames. Hold-back mode is the
default, so text is released only after the sentence that contains it passed.
"""

from __future__ import annotations

import re
from typing import Any

from haltguard.host.engines import ScoringService
from haltguard.host.review import premise_windows, score_claim
from haltguard.kernel.config import HaltConfig
from haltguard.kernel.halt import HaltKernel, ScoreView
from haltguard.kernel.sentences import sentence_spans
from haltguard.kernel.stream import Score, ascore_once

__all__ = ["StreamDriver", "word_tokens"]


def word_tokens(text: str) -> list[str]:
    """Split a whole answer into the word-and-space tokens LLM streams usually deliver."""
    return re.findall(r"\s*\S+\s*?(?=\s|$)|\s+$", text) or ([text] if text else [])


class StreamDriver:
    def __init__(self, scoring: ScoringService, context: str, config: HaltConfig) -> None:
        self.scoring = scoring
        self.context = context
        self.kernel = HaltKernel(config)
        self.kernel.view.context = context
        self._last: Score | None = None
        self._windows = premise_windows([context])

    async def _score(self, view: ScoreView) -> Score:
        text = view.text
        seg_start = len(text) - len(view.segment)
        spans = [(a, b) for a, b in sentence_spans(text) if b > seg_start] or sentence_spans(text)[-1:]
        parts = [text[a:b] for a, b in spans]
        if not parts:
            self._last = Score(1.0, {"reason": "empty segment"})
            return self._last
        worst: tuple[float, dict[str, Any]] | None = None
        for sentence in parts:
            claim = await score_claim(self.scoring, self._windows, sentence)
            if worst is None or claim["support"] < worst[0]:
                ev = claim["evidence"] or {}
                worst = (claim["support"], {"sentence": sentence[:300], "verdict": claim["verdict"],
                                            "evidence": str(ev.get("chunk", ""))[:500],
                                            "support": round(claim["support"], 4),
                                            "contradiction": claim["contradiction"]})
        assert worst is not None
        self._last = Score(worst[0], worst[1])
        return self._last

    def _frames(self, events: Any) -> list[dict[str, Any]]:
        return [ev.to_dict() for ev in events]

    async def _maybe_score(self) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        k = self.kernel
        while k.score_due and not k.halted:
            self._last = None
            evs = await ascore_once(k, self._score)
            last = self._last
            frames.append({"type": "score", "upto": k.scored_upto,
                           "value": None if last is None else last.value,
                           "evidence": None if last is None else last.evidence})
            frames += self._frames(evs)
        return frames

    async def feed(self, chunk: str) -> list[dict[str, Any]]:
        if self.kernel.halted or self.kernel.closed:
            return []
        frames = self._frames(self.kernel.push_token(chunk))
        return frames + await self._maybe_score()

    async def end(self) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        if not self.kernel.halted and not self.kernel.closed:
            frames += self._frames(self.kernel.close())
            frames += await self._maybe_score()
        rec = self.kernel.finish()
        frames.append({"type": "done", "record": rec.to_dict(timings=False)})
        return frames
