"""Kernel behaviour that golden vectors cannot express: reuse, drivers, records, errors."""

from __future__ import annotations

import asyncio

import pytest

from haltguard.kernel import (
    Cadence,
    HaltConfig,
    HaltKernel,
    KernelStateError,
    ReasonCode,
    Release,
    Score,
    SoftMode,
    WindowRule,
    arun_stream,
    guard_stream,
    run_stream,
)
from haltguard.testing import run_coroutine

PLAIN = HaltConfig(window=None, trend=None, soft_limit=None)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_reset_makes_the_kernel_reusable_with_same_config():
    k = HaltKernel(PLAIN)
    k.push_token("a")
    k.push_score(0.1)
    assert k.halted
    first = k.finish()
    assert first.halted and first.reason is ReasonCode.HARD_LIMIT
    k.reset()
    assert not k.halted and k.token_count == 0
    k.push_token("b")
    evs = k.push_score(0.9)
    assert [e.text for e in evs] == ["b"]
    rec = k.finish()
    assert not rec.halted and rec.released_text == "b" and rec.scores == [0.9]
    assert k.config is PLAIN


def test_finish_is_idempotent_and_closes():
    k = HaltKernel(PLAIN)
    k.push_token("a")
    r1, r2 = k.finish(), k.finish()
    assert r1.to_dict(timings=False) == r2.to_dict(timings=False)
    with pytest.raises(KernelStateError):
        k.push_token("b")


def test_tokens_after_halt_are_dropped_not_released():
    k = HaltKernel(HaltConfig(release="optimistic", window=None, trend=None))
    k.push_token("a")
    k.push_score(0.2)
    assert k.push_token("b") == ()
    rec = k.finish()
    assert rec.tokens_dropped == 1 and rec.tokens_seen == 1


def test_run_stream_releases_everything_that_passes():
    toks = ["Hello", " world", ".", " Bye", "."]
    events = []
    rec = run_stream(toks, lambda v: 0.9, HaltConfig(), on_event=events.append)
    assert rec.released_text == "Hello world. Bye."
    assert "".join(e.text for e in events if isinstance(e, Release)) == rec.released_text
    assert rec.timings["scorer_calls"] == 5 and rec.timings["total_ms"] >= 0


def test_guard_stream_returns_the_record_and_scores_the_tail():
    cfg = HaltConfig(cadence=Cadence(mode="every_n", every=3), window=None, trend=None)
    gen = guard_stream(["a", "b", "c", "d"], lambda v: 0.9, cfg)
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        rec = stop.value
    assert [e.text for e in events] == ["abc", "d"]  # the tail after close() is scored too
    assert rec.released_text == "abcd" and rec.timings["scorer_calls"] == 2


def test_scorer_sees_segment_and_context():
    seen = []

    def scorer(view):
        seen.append((view.segment, view.text, view.context))
        return 0.9

    cfg = HaltConfig(cadence=Cadence(mode="every_n", every=2), window=None, trend=None)
    run_stream(["a", "b", "c", "d"], scorer, cfg, context="facts")
    assert seen == [("ab", "ab", "facts"), ("cd", "abcd", "facts")]


def test_scorer_returning_score_and_tuple_carries_evidence():
    outs = iter([Score(0.9, {"n": 1}), (0.2, {"n": 2})])
    rec = run_stream(["a", "b"], lambda v: next(outs), PLAIN)
    assert rec.halted and rec.reason is ReasonCode.HARD_LIMIT
    assert [e["evidence"] for e in rec.evidence] == [{"n": 1}, {"n": 2}]


def test_scorer_exception_fails_closed_with_message():
    def boom(view):
        raise RuntimeError("model crashed")

    rec = run_stream(["a"], boom, PLAIN)
    assert rec.halted and rec.reason is ReasonCode.SCORER_ERROR and "model crashed" in rec.message
    assert rec.released_text == ""


def test_scorer_exception_fail_open():
    cfg = HaltConfig.from_dict({"window": None, "trend": None, "fail_open": {"scorer_error": True}})
    rec = run_stream(["a", "b"], lambda v: 1 / 0, cfg)
    assert not rec.halted and rec.released_text == "ab"
    assert {w.code.value for w in rec.warnings} == {"scorer_error"}


def test_sync_scorer_deadline_uses_the_kernel_clock():
    clock = Clock()
    cfg = HaltConfig.from_dict({"window": None, "trend": None, "deadline_ms": 50})
    k = HaltKernel(cfg, clock=clock)

    def slow(view):
        clock.now += 0.2
        return 0.9

    rec = run_stream(["a"], slow, k)
    assert rec.reason is ReasonCode.DEADLINE_MISSED and rec.released_text == ""


def test_nan_from_a_scorer_halts():
    rec = run_stream(["a"], lambda v: float("nan"), HaltConfig())
    assert rec.reason is ReasonCode.INVALID_SCORE


def test_async_scorer_and_async_source():
    async def tokens():
        for t in ["a", "b", "c"]:
            yield t

    async def scorer(view):
        await asyncio.sleep(0)
        return 0.9 if view.upto < 3 else 0.1

    rec = run_coroutine(arun_stream(tokens(), scorer, PLAIN))
    assert rec.halted and rec.released_text == "ab"


def test_async_scorer_timeout_is_deadline_missed():
    async def hang(view):
        await asyncio.sleep(5)
        return 0.9

    cfg = HaltConfig.from_dict({"window": None, "trend": None, "deadline_ms": 20})
    rec = run_coroutine(arun_stream(["a"], hang, cfg))
    assert rec.reason is ReasonCode.DEADLINE_MISSED


def test_async_scorer_in_sync_driver_is_a_clear_error():
    async def scorer(view):
        return 0.9

    with pytest.raises(TypeError, match="async scorer"):
        run_stream(["a"], scorer, PLAIN)


def test_soft_mode_cuts_at_sentence_end_in_a_real_stream():
    toks = ["Fine", " text", ".", " Then", " drift", " starts", " here", ".", " More", " drift", "."]
    scores = iter([0.9, 0.9, 0.9, 0.9, 0.3, 0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    cfg = HaltConfig(hard_limit=0.2, window=WindowRule(2, 0.5), trend=None, soft_limit=None,
                     soft_mode=SoftMode(enabled=True, max_wait_tokens=20))
    rec = run_stream(toks, lambda v: next(scores), cfg)
    assert rec.halted and rec.soft and rec.reason is ReasonCode.WINDOW_MEAN
    assert rec.released_text == "Fine text. Then drift starts here."


def test_record_serialises_to_json():
    import json

    rec = run_stream(["a", "b"], lambda v: 0.3, HaltConfig())
    d = json.loads(json.dumps(rec.to_dict()))
    assert d["reason"] == "hard_limit" and d["halted"] is True and set(d["timings"]) >= {"total_ms", "halt_ms"}


def test_push_score_rejects_out_of_order_positions():
    k = HaltKernel(PLAIN)
    k.push_token("a")
    with pytest.raises(KernelStateError):
        k.push_score(0.9, upto=5)
    with pytest.raises(KernelStateError):
        k.push_score(0.9, upto=-1)


def test_long_stream_resync_keeps_decisions_exact():
    # 10,000 scores exercise the periodic resync; mean exactly at the threshold never halts.
    cfg = HaltConfig(hard_limit=0.0, window=WindowRule(2, 0.5), trend=None, soft_limit=None)
    k = HaltKernel(cfg)
    for i in range(10_000):
        k.push_token("x")
        k.push_score(0.75 if i % 2 else 0.25)
    assert not k.halted
    k.push_token("y")
    k.push_score(0.2)
    assert k.halted


def test_a_skipped_segment_is_released_without_a_score_and_leaves_the_rules_alone():
    from haltguard.kernel.stream import Skip

    cfg = HaltConfig.from_dict({"hard_limit": 0.1, "soft_limit": None, "trend": None,
                                "window": {"size": 2, "threshold": 0.5}, "cadence": {"mode": "sentence"}})
    scores = iter([0.4, Skip({"verdict": "no_claim"}), 0.7, 0.2])

    def scorer(view):
        return next(scores)

    tokens = ["Weak claim. ", "Great question! ", "Good claim. ", "Bad claim. ", "End."]
    rec = run_stream(tokens, scorer, cfg)
    # windows: [0.4, 0.7] mean 0.55 passes; without the skip it would have been [0.4, 1.0] or [x, 0.4]
    # and [0.7, 0.2] = 0.45 < 0.5 halts at the fourth sentence
    assert rec.scores == [0.4, 0.7, 0.2] and rec.halted and rec.reason is ReasonCode.WINDOW_MEAN
    assert rec.released_text == "Weak claim. Great question! Good claim. "
    assert {"score_index": None, "token_index": 2, "evidence": {"verdict": "no_claim"}} in rec.evidence


def test_push_skip_validates_its_position_and_does_nothing_after_a_halt():
    k = HaltKernel(PLAIN)
    k.push_token("a")
    with pytest.raises(KernelStateError):
        k.push_skip(upto=5)
    assert [e.to_dict()["type"] for e in k.push_skip(upto=1)] == ["release"]
    k.push_token("b")
    k.push_score(0.0)
    assert k.halted and k.push_skip() == ()
