"""A guarded stream driven from outside: chunks in, wire frames out, claims judged per sentence.

The host's WebSocket and the browser worker both run streams this way; they differ only in
the ``judge`` given here: ``DocumentScorer.claim_judge`` over the host's batched engine or
onnxruntime-web (the one scoring path, ``haltguard.kernel.scoring``), or the host's
``/v1/review`` when the browser has no model. Halting is the kernel's (``ascore_once``).
"""

from __future__ import annotations

import re
from typing import Any

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.halt import HaltKernel, ScoreView
from haltguard.kernel.scoring import ClaimJudge
from haltguard.kernel.sentences import sentence_spans
from haltguard.kernel.stream import Score, Skip, ascore_once

__all__ = ["ClaimStream", "word_tokens"]


_WORD = re.compile(r"\s*\S+")
_MAX_PARTIAL = 256  # a "word" longer than this (a URL, unspaced CJK) is pushed as it is


def word_tokens(text: str) -> list[str]:
    """Split a whole answer into the word-and-space tokens LLM streams usually deliver (lossless)."""
    return _WORD.findall(text) + ([m] if (m := text[len(text.rstrip()):]) else [])


class ClaimStream:
    """One guarded stream: each sentence is judged against ``context`` as ``/v1/review`` judges it."""

    def __init__(self, judge: ClaimJudge, context: str, config: HaltConfig) -> None:
        self._judge = judge
        self.kernel = HaltKernel(config)
        self.kernel.view.context = context
        self.context = context
        self._last: Score | Skip | None = None
        self._partial = ""  # the word still being written (see ``feed``)

    async def judge(self, sentence: str) -> dict[str, Any]:
        return await self._judge(self.context, sentence)

    async def _score(self, view: ScoreView) -> Score | Skip:
        """The weakest claim of the segment's sentences; a segment without one is skipped."""
        text = view.text
        seg_start = len(text) - len(view.segment)
        spans = [(a, b) for a, b in sentence_spans(text) if b > seg_start] or sentence_spans(text)[-1:]
        worst: Score | None = None
        chat: list[dict[str, Any]] = []
        for a, b in spans:
            claim = await self.judge(text[a:b])
            if claim["verdict"] == "no_claim":
                chat.append(claim)
            elif worst is None or claim["support"] < worst.value:
                ev = claim["evidence"] or {}
                worst = Score(claim["support"], {"sentence": text[a:b][:300], "verdict": claim["verdict"],
                                                 "evidence": str(ev.get("chunk", ""))[:500],
                                                 "support": round(claim["support"], 4),
                                                 "contradiction": claim["contradiction"]})
        if worst is not None:
            self._last = worst
        elif chat:  # greetings, questions back, offers of help: released, never judged
            self._last = Skip({"sentence": " ".join(c["sentence"] for c in chat)[:300], "verdict": "no_claim",
                               "reason": ", ".join(dict.fromkeys(str(c["reason"]) for c in chat))})
        else:
            self._last = Score(1.0, {"reason": "empty segment"})
        return self._last

    async def _maybe_score(self) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        k = self.kernel
        while k.score_due and not k.halted:
            self._last = None
            before = k.scored_upto
            events = await ascore_once(k, self._score)
            last = self._last
            value = last.value if isinstance(last, Score) else None  # None: skipped (no claim) or failed
            evidence = None if last is None else last.evidence
            frames.append({"type": "score", "upto": k.scored_upto, "value": value, "evidence": evidence})
            for ev in events:
                frame = ev.to_dict()
                if frame["type"] == "warning" and evidence is not None:
                    frame["evidence"] = evidence  # which sentence, its verdict and the deciding window
                frames.append(frame)
            if k.scored_upto == before:  # nothing advanced (e.g. a late score): ask again on the next chunk
                break
        return frames

    async def feed(self, chunk: str) -> list[dict[str, Any]]:
        """Frames caused by one more generated chunk (none once halted).

        LLM streams cut text anywhere ("…in 1889. I" + "t remained…"), but the kernel can only
        cut where tokens meet, so chunks are re-cut into whole words (with their leading space)
        and a word still being written waits for the next chunk: a sentence boundary then always
        falls between two tokens, and no fragment of the next sentence is judged with this one.
        """
        if self.kernel.halted or self.kernel.closed:
            return []
        text = self._partial + chunk
        words = _WORD.findall(text)
        if words and not text[-1].isspace() and len(words[-1]) <= _MAX_PARTIAL:
            self._partial = words.pop()  # may still grow
        else:
            self._partial = text[sum(map(len, words)):]  # trailing spaces join the next word
        frames: list[dict[str, Any]] = []
        for w in words:  # judged as each sentence completes, as if the words had come one by one
            if self.kernel.halted:
                break
            frames += [ev.to_dict() for ev in self.kernel.push_token(w)]
            frames += await self._maybe_score()
        return frames

    async def end(self) -> list[dict[str, Any]]:
        """Score the tail, release what passes, and close with a ``done`` frame holding the record."""
        frames: list[dict[str, Any]] = []
        if not self.kernel.halted and not self.kernel.closed:
            if self._partial:
                frames += [ev.to_dict() for ev in self.kernel.push_token(self._partial)]
                self._partial = ""
            frames += [ev.to_dict() for ev in self.kernel.close()]
            frames += await self._maybe_score()
        frames.append({"type": "done", "record": self.kernel.finish().to_dict(timings=False)})
        return frames
