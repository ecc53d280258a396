"""``from haltguard import Guard``: the Python API that puts haltguard around an LLM call.

One object holds the model (found like everywhere else: ``haltguard.kernel.resources``), a
policy and a halt preset, and offers what the host and the browser offer, with the same
numbers: ``detect``, ``transform``/``rehydrate``, ``score``, ``review`` and ``stream`` (sync)
/ ``astream`` (async) over any iterator of text chunks — including an OpenAI SDK stream, whose
chunks' ``choices[0].delta.content`` is read. A stream yields the guarded stream's frames
(``release``, ``score``, ``warning``, ``halt``, ``done``); released text is held back until its
sentence was judged and, when a pseudonymisation session is given, comes back rehydrated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from haltguard.kernel.driver import ClaimStream
from haltguard.kernel.guard import detect_json
from haltguard.kernel.ner import Entity
from haltguard.kernel.policy import Policy
from haltguard.kernel.presets import DEFAULT_PRESET, resolve_halt
from haltguard.kernel.pseudonymize import RehydrateResult, Session, StreamingRehydrator, TransformResult, rehydrate, transform
from haltguard.kernel.resources import model_dir as find_model
from haltguard.kernel.scoring import DocumentScorer, Pair, heuristic_document_scorer, heuristic_pair_scores, review_summary
from haltguard.kernel.sentences import sentence_spans
from haltguard.kernel.stream import aiter_any

__all__ = ["Guard", "chunk_text"]


def chunk_text(chunk: Any) -> str:
    """The text of one streamed chunk: a str, or an OpenAI-style chat completion chunk
    (object or dict) whose ``choices[0].delta.content`` holds it (None reads as "")."""
    if isinstance(chunk, str):
        return chunk
    choices = chunk.get("choices") if isinstance(chunk, dict) else getattr(chunk, "choices", None)
    if not choices:
        return ""
    first = choices[0]
    delta = first.get("delta") if isinstance(first, dict) else getattr(first, "delta", None)
    if delta is None:
        return ""
    content = delta.get("content") if isinstance(delta, dict) else getattr(delta, "content", None)
    return content or ""


class Guard:
    """Guardrails around an LLM call, in-process.

    ``model``: an exported model folder (default: ``HALTGUARD_MODEL``, the installed
    ``haltguard-model-default``, or a checkout's ``models/default``), or ``"heuristic"`` for the
    model-free scorer. ``policy``: a ``Policy`` or its dict. ``preset``: ``strict``, ``balanced``
    or ``chat`` (relative to the model's threshold), or a halt config dict. ``names``: the name
    model's folder (default: found like the model: ``HALTGUARD_NAMES_MODEL``, the installed
    wheel, a checkout's ``models/names``), or False to detect with the recognizers only. The
    models load on first use.
    """

    def __init__(self, model: str | Path | None = None, *, policy: Policy | dict[str, Any] | None = None,
                 preset: str | dict[str, Any] = DEFAULT_PRESET, threads: int | None = None,
                 names: str | Path | bool | None = None) -> None:
        self.policy = policy if isinstance(policy, Policy) else Policy.from_dict(policy) if policy else Policy()
        self.preset = preset
        self._model = model
        self._threads = threads
        self._scorer: Any = None
        self._documents: DocumentScorer | None = None
        self._names_dir = names
        self._names: Any = None

    # --- the model -------------------------------------------------------------------------
    def _load(self) -> DocumentScorer:
        if self._documents is None:
            if self._model == "heuristic":
                self._documents = heuristic_document_scorer()
            else:
                from haltguard.models.scorer import OnnxNliScorer

                self._scorer = OnnxNliScorer(find_model(self._model), threads=self._threads)
                self._documents = self._scorer.documents
        return self._documents

    def _pairs(self, pairs: Sequence[Pair]) -> list[float]:
        self._load()
        if self._scorer is None:
            return heuristic_pair_scores(pairs)
        return list(self._scorer.score_pairs(list(pairs), batch_size=32))

    async def _apairs(self, pairs: Sequence[Pair]) -> list[float]:
        return await asyncio.to_thread(self._pairs, pairs)  # the event loop keeps serving while the model runs

    @property
    def threshold(self) -> float:
        """The support threshold review decides with (the model manifest's)."""
        return self._load().point.threshold

    # --- personal data -----------------------------------------------------------------------
    def _names_in(self, text: str) -> list[Entity] | None:
        """The name model's entities of ``text`` (None when ``names=False`` or the policy wants none)."""
        if self._names_dir is False or not self.policy.uses_names:
            return None
        if self._names is None:
            from haltguard.models.ner_model import OnnxNerModel

            explicit = None if self._names_dir in (None, True) else self._names_dir
            self._names = OnnxNerModel(find_model(explicit, kind="names"), threads=self._threads)  # type: ignore[arg-type]
        return self._names.entities([text])[0] if text else []

    def detect(self, text: str) -> dict[str, Any]:
        """Findings and the prompt-security verdict (the host's ``/v1/detect`` body)."""
        return detect_json(text, self.policy, self._names_in(text))

    def transform(self, text: str, session: Session | None = None) -> TransformResult:
        """Pseudonymise ``text``; pass the returned ``.session`` to later calls and to ``rehydrate``."""
        return transform(text, self.policy, session, findings=self.policy.findings(text, self._names_in(text)))

    def rehydrate(self, text: str, session: Session) -> RehydrateResult:
        return rehydrate(text, session)

    # --- judging -----------------------------------------------------------------------------
    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(supported) per (premise, hypothesis): what ``/v1/score`` answers."""
        return self._load().score(list(pairs), self._pairs)

    def review(self, answer: str, *, context: str | None = None, facts: Sequence[str] | None = None) -> dict[str, Any]:
        """Each sentence of ``answer`` judged against ``facts`` and/or ``context``: what ``/v1/review`` answers."""
        premises = list(facts or []) + ([context] if context else [])
        if not premises:
            raise ValueError("review needs context or facts to judge against")
        docs = self._load()
        spans = sentence_spans(answer)
        claims = docs.judge_claims(premises, [answer[a:b] for a, b in spans], self._pairs)
        return review_summary(spans, claims, docs.point.threshold)

    # --- streams -----------------------------------------------------------------------------
    def _stream(self, context: str, halt: Any) -> ClaimStream:
        docs = self._load()
        config = resolve_halt(self.preset if halt is None else halt, threshold=docs.point.threshold)
        return ClaimStream(docs.claim_judge(self._apairs), context, config)

    @staticmethod
    def _restore(frames: list[dict[str, Any]], restorer: StreamingRehydrator | None) -> list[dict[str, Any]]:
        if restorer is None:
            return frames
        out = []
        for f in frames:
            if f["type"] == "release":
                f = {**f, "text": restorer.feed(f["text"])}
            elif f["type"] == "done":
                tail = restorer.finish()
                if tail:
                    out.append({"type": "release", "text": tail, "start": None, "end": None})
            out.append(f)
        return out

    def stream(self, chunks: Iterable[Any], *, context: str, session: Session | None = None,
               halt: Any = None) -> Iterator[dict[str, Any]]:
        """Guard a stream from synchronous code: frames as the chunks arrive (see the module doc).

        The judging runs on an event loop of its own in a helper thread, so this works in code
        that already runs a loop (a notebook) too; async code should use ``astream``. Stops
        reading ``chunks`` after a halt.
        """
        loop = asyncio.new_event_loop()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haltguard-stream")

        def run(coro: Any) -> list[dict[str, Any]]:
            result: list[dict[str, Any]] = pool.submit(loop.run_until_complete, coro).result()
            return result

        try:
            cs = self._stream(context, halt)
            restorer = StreamingRehydrator(session) if session is not None else None
            for chunk in chunks:
                yield from self._restore(run(cs.feed(chunk_text(chunk))), restorer)
                if cs.kernel.halted:
                    break
            yield from self._restore(run(cs.end()), restorer)
        finally:
            pool.shutdown(wait=True)
            loop.close()

    async def astream(self, chunks: AsyncIterable[Any] | Iterable[Any], *, context: str, session: Session | None = None,
                      halt: Any = None) -> AsyncIterator[dict[str, Any]]:
        """``stream`` for async code and async chunk sources (an ``AsyncOpenAI`` stream, say)."""
        cs = self._stream(context, halt)
        restorer = StreamingRehydrator(session) if session is not None else None

        async for chunk in aiter_any(chunks):
            for f in self._restore(await cs.feed(chunk_text(chunk)), restorer):
                yield f
            if cs.kernel.halted:
                break
        for f in self._restore(await cs.end(), restorer):
            yield f
