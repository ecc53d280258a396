"""Drivers that run a token stream through a ``HaltKernel`` with a scorer callable.

Three ways to score exist (spec §Input): a sync callable, an async callable, or scores
pushed in from outside. The first two are handled here; the third is the kernel's own
push API. A scorer receives the kernel's ``ScoreView`` and returns a float, a ``Score``
(value + evidence) or a ``(value, evidence)`` pair; anything else is an invalid score and
fails closed like NaN does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Generator, Iterable, Sequence
from typing import Any

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.events import Event, HaltRecord, ReasonCode
from haltguard.kernel.halt import HaltKernel, ScoreView

__all__ = ["Score", "Skip", "Scorer", "aiter_any", "guard_stream", "run_stream", "aguard_stream", "arun_stream",
           "score_once", "ascore_once"]


class Score:
    """A score with the evidence that explains it (shown in warnings and halt events)."""

    __slots__ = ("value", "evidence")

    def __init__(self, value: float, evidence: Any = None) -> None:
        self.value = value
        self.evidence = evidence

    def __repr__(self) -> str:
        return f"Score({self.value!r}, evidence={self.evidence!r})"


class Skip:
    """What a scorer returns for a segment that makes no claim to judge (``HaltKernel.push_skip``):
    it is released without a score. An explicit type, so that no failure (``None``, an error)
    can ever be mistaken for it."""

    __slots__ = ("evidence",)

    def __init__(self, evidence: Any = None) -> None:
        self.evidence = evidence

    def __repr__(self) -> str:
        return f"Skip(evidence={self.evidence!r})"


ScoreResult = float | Score | Skip | tuple
Scorer = Callable[[ScoreView], ScoreResult | Awaitable[ScoreResult]]


def _unpack(out: Any) -> tuple[Any, Any]:
    if out.__class__ is float:
        return out, None
    if isinstance(out, Score):
        return out.value, out.evidence
    if isinstance(out, tuple) and len(out) == 2:
        return out[0], out[1]
    return out, None


def score_once(kernel: HaltKernel, scorer: Scorer) -> Sequence[Event]:
    """Ask a sync scorer for the due segment and push the outcome into the kernel.

    Runs once per scored token, so it inlines ``prepare_view`` and ``note_scorer_time``
    (two method calls are a measurable share of the 2 µs/token budget).
    """
    view = kernel.view
    view.start = kernel._scored
    upto = view.upto = kernel._due_upto if kernel._due else kernel._n
    clock = kernel._clock
    t0 = clock()
    try:
        out = scorer(view)
    except Exception as exc:  # a scorer bug must halt the stream, not crash the app
        kernel.note_scorer_time((clock() - t0) * 1000.0)
        return kernel.push_failure(ReasonCode.SCORER_ERROR, f"{type(exc).__name__}: {exc}", upto=upto)
    elapsed = clock() - t0
    kernel._scorer_ms += elapsed * 1000.0
    kernel._scorer_calls += 1
    if out.__class__ is float and kernel._deadline is None:
        return kernel._apply(out, None, upto)
    if inspect.isawaitable(out):
        if hasattr(out, "close"):
            out.close()
        raise TypeError("an async scorer needs aguard_stream/arun_stream")
    return _push_result(kernel, out, upto, elapsed)


def _push_result(kernel: HaltKernel, out: Any, upto: int, elapsed: float) -> Sequence[Event]:
    if out.__class__ is Skip:
        return kernel.push_skip(out.evidence, upto=upto)
    value, evidence = _unpack(out)
    deadline = kernel._deadline
    if deadline is not None and elapsed > deadline:
        msg = f"scorer took {elapsed * 1000.0:.1f} ms (deadline {deadline * 1000.0:.1f} ms)"
        return kernel._late_score(value, evidence, upto, msg)
    return kernel._apply(value, evidence, upto)


async def aiter_any(items: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    """Iterate a sync or an async iterable from async code (token sources, LLM client streams)."""
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def guard_stream(
    tokens: Iterable[str],
    scorer: Scorer,
    config: HaltConfig | HaltKernel | None = None,
    *,
    context: Any = None,
) -> Generator[Event, None, HaltRecord]:
    """Yield events as tokens flow; the generator's return value is the ``HaltRecord``.

    Scores are requested at the cadence of the config; the unscored tail is scored once
    the token source is exhausted, so hold-back mode releases the whole answer if it passes.
    """
    kernel = config if isinstance(config, HaltKernel) else HaltKernel(config)
    kernel.view.context = context
    push_token = kernel.push_token
    for token in tokens:
        evs = push_token(token)
        if evs:
            yield from evs
            if kernel.halted:
                break
        if kernel._due:
            yield from score_once(kernel, scorer)
            if kernel.halted:
                break
    if not kernel.halted:
        yield from kernel.close()
        if kernel.score_due:
            yield from score_once(kernel, scorer)
    return kernel.finish()


def run_stream(
    tokens: Iterable[str],
    scorer: Scorer,
    config: HaltConfig | HaltKernel | None = None,
    *,
    context: Any = None,
    on_event: Callable[[Event], None] | None = None,
) -> HaltRecord:
    """Run a whole stream; ``on_event`` sees each event as it happens.

    Same behaviour as draining ``guard_stream``, written as a plain loop because this
    is the path whose per-token cost the benchmark measures.
    """
    kernel = config if isinstance(config, HaltKernel) else HaltKernel(config)
    kernel.view.context = context
    push_token = kernel.push_token
    for token in tokens:
        evs = push_token(token)
        if evs:
            if on_event is not None:
                for ev in evs:
                    on_event(ev)
            if kernel._halt is not None:
                break
        if kernel._due:
            evs = score_once(kernel, scorer)
            if on_event is not None:
                for ev in evs:
                    on_event(ev)
            if kernel._halt is not None:
                break
    if kernel._halt is None:
        evs = list(kernel.close())
        if kernel.score_due:
            evs.extend(score_once(kernel, scorer))
        if on_event is not None:
            for ev in evs:
                on_event(ev)
    return kernel.finish()


async def ascore_once(kernel: HaltKernel, scorer: Scorer) -> list[Event]:
    """``score_once`` for a sync or async scorer; the deadline is enforced while awaiting.

    Public so that drivers which receive tokens from elsewhere (the host's WebSocket, the
    browser worker) apply scores exactly the way ``aguard_stream`` does.
    """
    view = kernel.prepare_view()
    upto = view.upto
    clock = kernel._clock
    deadline = kernel.config.deadline_ms
    t0 = clock()
    try:
        out = scorer(view)
        if inspect.isawaitable(out):
            if deadline is not None:
                out = await asyncio.wait_for(out, deadline / 1000.0)
            else:
                out = await out
    except TimeoutError:
        kernel.note_scorer_time((clock() - t0) * 1000.0)
        return list(
            kernel.push_failure(ReasonCode.DEADLINE_MISSED, f"scorer gave no score within {deadline} ms", upto=upto)
        )
    except Exception as exc:
        kernel.note_scorer_time((clock() - t0) * 1000.0)
        return list(kernel.push_failure(ReasonCode.SCORER_ERROR, f"{type(exc).__name__}: {exc}", upto=upto))
    elapsed = clock() - t0
    kernel.note_scorer_time(elapsed * 1000.0)
    return list(_push_result(kernel, out, upto, elapsed))


async def aguard_stream(
    tokens: AsyncIterable[str] | Iterable[str],
    scorer: Scorer,
    config: HaltConfig | HaltKernel | None = None,
    *,
    context: Any = None,
) -> AsyncIterator[Event]:
    """Async twin of ``guard_stream``: async or sync token source, async or sync scorer.

    The record is available afterwards from the kernel passed in (``kernel.finish()``).
    """
    kernel = config if isinstance(config, HaltKernel) else HaltKernel(config)
    kernel.view.context = context

    async for token in aiter_any(tokens):
        for ev in kernel.push_token(token):
            yield ev
        if kernel.halted:
            break
        if kernel._due:
            for ev in await ascore_once(kernel, scorer):
                yield ev
            if kernel.halted:
                break
    if not kernel.halted:
        for ev in kernel.close():
            yield ev
        if kernel.score_due:
            for ev in await ascore_once(kernel, scorer):
                yield ev


async def arun_stream(
    tokens: AsyncIterable[str] | Iterable[str],
    scorer: Scorer,
    config: HaltConfig | HaltKernel | None = None,
    *,
    context: Any = None,
    on_event: Callable[[Event], None] | None = None,
) -> HaltRecord:
    """Run a whole stream asynchronously and return its record."""
    kernel = config if isinstance(config, HaltKernel) else HaltKernel(config)
    async for ev in aguard_stream(tokens, scorer, kernel, context=context):
        if on_event is not None:
            on_event(ev)
    return kernel.finish()
