"""The streaming halt kernel: the rules of docs/halt-spec.md, push-driven.

The kernel is a state machine fed from outside (``push_token``/``push_score``/
``push_failure``), so the same object serves a sync loop, an asyncio task, a Pyodide
worker receiving scores from onnxruntime-web and the host scoring on a GPU. Drivers that
call a scorer for you live in ``haltguard.kernel.stream``.

Performance matters (one call per token, 20k-token streams): the healthy path of
``push_score`` is a handful of float operations on running sums; exact recomputation
with ``math.fsum`` happens only when a value is within 1e-9 of a threshold, which makes
ties deterministic without paying for it on every token.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.events import Event, Halt, HaltRecord, ReasonCode, Release, Warn, WarningCode
from haltguard.kernel.sentences import SentenceTracker

__all__ = ["HaltKernel", "ScoreView", "KernelStateError"]

_EMPTY: tuple[()] = ()
_new = tuple.__new__  # builds Release tuples without a Python-level frame
_EPS = 1e-9
_RESYNC = 4096  # recompute running sums from history every this many scores


class KernelStateError(RuntimeError):
    """The kernel was used out of order (score beyond the generated text, token after close)."""


class ScoreView:
    """What a scorer sees: the generated text up to ``upto`` and the unscored ``segment``.

    The kernel reuses one view per stream; it is only valid during the scorer call.
    Text is joined lazily, so scorers that need only the segment never pay for the
    whole answer.
    """

    __slots__ = ("_tokens", "start", "upto", "context")

    def __init__(self, tokens: list[str], context: Any = None) -> None:
        self._tokens = tokens
        self.start = 0
        self.upto = 0
        self.context = context

    @property
    def text(self) -> str:
        return "".join(self._tokens[: self.upto])

    @property
    def segment(self) -> str:
        return "".join(self._tokens[self.start : self.upto])


class HaltKernel:
    """One stream at a time; ``reset()`` re-arms it with the same config for the next."""

    def __init__(self, config: HaltConfig | None = None, *, clock: Callable[[], float] | None = None) -> None:
        self.config = config if config is not None else HaltConfig()
        self._clock = clock or time.perf_counter
        c = self.config
        self._hold = c.release == "hold_back"
        self._hard = c.hard_limit
        self._soft_limit = c.soft_limit if c.soft_limit is not None else -1.0
        self._soft_mode = c.soft_mode.enabled
        self._max_wait = c.soft_mode.max_wait_tokens
        self._deadline = c.deadline_ms / 1000.0 if c.deadline_ms is not None else None
        w = c.window
        self._w = w.size if w is not None else 0
        if w is not None:
            self._w_lo = w.threshold * w.size - _EPS
            self._w_hi = w.threshold * w.size + _EPS
        t = c.trend
        self._t = t.size if t is not None else 0
        if t is not None:
            n = t.size
            self._t_xbar = (n - 1) / 2.0
            self._t_sxx = n * (n * n - 1) / 12.0
            self._t_k = (n - 1) / self._t_sxx
            self._t_lo = t.max_drop - _EPS
            self._t_hi = t.max_drop + _EPS
        cad = c.cadence
        self._mode = cad.mode
        self._track = self._soft_mode or cad.mode == "sentence"
        self._adaptive = cad.mode == "adaptive"
        self._sentence_cadence = cad.mode == "sentence"
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        """Forget the stream (tokens, scores, halt) but keep the config; timings restart."""
        self._tokens: list[str] = []
        self._n = 0
        self._released = 0  # tokens shown to the consumer
        self._accepted = 0  # tokens covered by an accepted score
        self._scored = 0  # coverage end of the last score consumed
        self._closed = False
        self._finished = False
        self._halt: Halt | None = None
        self._dropped = 0
        self._scores: list[float] = []
        self._evidence: list[dict[str, Any]] = []
        self._warnings: list[Warn] = []
        self._pending: tuple[ReasonCode, str, float, Any, int] | None = None
        self._bounds: list[int] = []
        self._tracker = SentenceTracker() if self._track else None
        self._sum_w = 0.0
        self._s_y = 0.0
        self._s_iy = 0.0
        cad = self.config.cadence
        self._interval = cad.every if cad.mode == "every_n" else cad.min_every
        self._due = False
        self._due_upto = 0
        self._due_since: float | None = None
        self._t_start: float | None = None
        self._t_first_release: float | None = None
        self._t_halt: float | None = None
        self._t_end: float | None = None
        self._scorer_ms = 0.0
        self._scorer_calls = 0
        self._simple = False
        self.view = ScoreView(self._tokens)

    # ------------------------------------------------------------------ read-only state
    @property
    def halted(self) -> bool:
        return self._halt is not None

    @property
    def halt_event(self) -> Halt | None:
        return self._halt

    @property
    def token_count(self) -> int:
        return self._n

    @property
    def released_count(self) -> int:
        return self._released

    @property
    def score_due(self) -> bool:
        """True when the cadence asks for a score covering tokens up to ``due_upto``."""
        return self._due and self._halt is None

    @property
    def due_upto(self) -> int:
        return self._due_upto

    @property
    def scored_upto(self) -> int:
        return self._scored

    @property
    def closed(self) -> bool:
        return self._closed

    def prepare_view(self) -> ScoreView:
        """Point ``view`` at the segment that is due (or everything unscored)."""
        v = self.view
        v.start = self._scored
        v.upto = self._due_upto if self._due else self._n
        return v

    # ------------------------------------------------------------------ input
    def push_token(self, token: str) -> Sequence[Event]:
        """Append one generated token; returns the events it causes (often none)."""
        if self._simple:
            # hold-back, no sentence tracking, no pending soft halt, no deadline, running
            if token.__class__ is not str:
                raise TypeError(f"token must be str, got {type(token).__name__}")
            self._tokens.append(token)
            n = self._n = self._n + 1
            if not self._due and n - self._scored >= self._interval:
                self._due = True
                self._due_upto = n
            return _EMPTY
        return self._push_token_general(token)

    def _push_token_general(self, token: str) -> Sequence[Event]:
        if self._halt is not None:
            self._dropped += 1
            return _EMPTY
        if self._closed:
            raise KernelStateError("push_token after close(): the stream has ended")
        if token.__class__ is not str:
            raise TypeError(f"token must be str, got {type(token).__name__}")
        self._tokens.append(token)
        n = self._n = self._n + 1
        if self._t_start is None:
            self._t_start = self._clock()
            self._refresh_simple()
        events: list[Event] | None = None
        if self._track:
            bounds = self._tracker.push(token)  # type: ignore[union-attr]
            if bounds:
                self._bounds.extend(bounds)
                if self._pending is not None:
                    events = []
                    self._check_pending(events)
                    if self._halt is not None:
                        return events
        if not self._hold:
            ev = _new(Release, (token, n - 1, n))
            self._released = n
            if self._t_first_release is None:
                self._t_first_release = self._clock()
            if events is None:
                events = [ev]
            else:
                events.append(ev)
        pending = self._pending
        if pending is not None and n - pending[4] > self._max_wait:
            if events is None:
                events = []
            self._fire_pending(events, min(self._accepted, pending[4] + self._max_wait))
            return events
        if not self._due:
            self._update_due()
        elif self._deadline is not None:
            late = self.check_deadline()
            if late:
                return list(late) if events is None else events + list(late)
        return events if events is not None else _EMPTY

    def _refresh_simple(self) -> None:
        """Enable the lean token path when nothing but counting is needed per token."""
        self._simple = (
            self._hold
            and not self._track
            and self._deadline is None
            and self._pending is None
            and self._halt is None
            and not self._closed
            and self._t_start is not None
            and not self._sentence_cadence
        )

    def push_score(self, value: Any, evidence: Any = None, *, upto: int | None = None) -> Sequence[Event]:
        """A coherence score in [0, 1] for the text up to ``upto`` tokens (default: all so far)."""
        if self._halt is not None:
            return _EMPTY
        upto = self._n if upto is None else self._checked_upto(upto)
        if self._deadline is not None and self._due_since is not None:
            late = self._clock() - self._due_since
            if late > self._deadline:
                msg = f"score arrived {late * 1000:.1f} ms after it was due (deadline {self._deadline * 1000:.1f} ms)"
                return self._late_score(value, evidence, upto, msg)
        return self._apply(value, evidence, upto)

    def _late_score(self, value: Any, evidence: Any, upto: int, message: str) -> Sequence[Event]:
        """A score that missed its deadline: halt, or (fail-open) warn and apply it anyway."""
        if not self.config.fail_open.deadline:
            return self._failure(ReasonCode.DEADLINE_MISSED, message, upto, evidence)
        w = Warn(WarningCode.DEADLINE_MISSED, message + " (fail-open: score applied)", None, upto)
        self._warnings.append(w)
        return [w, *self._apply(value, evidence, upto)]

    def _apply(self, value: Any, evidence: Any, upto: int) -> Sequence[Event]:
        v = value
        if v.__class__ is not float:
            if v.__class__ is int:
                v = float(v)
            else:
                return self._failure(ReasonCode.INVALID_SCORE, f"score {value!r} is not a number", upto, evidence)
        if not 0.0 <= v <= 1.0:  # False for NaN as well
            return self._failure(ReasonCode.INVALID_SCORE, f"score {value!r} is outside [0, 1]", upto, evidence)

        scores = self._scores
        scores.append(v)
        count = len(scores)
        if evidence is not None:
            self._evidence.append({"score_index": count - 1, "token_index": upto, "evidence": evidence})
        self._scored = upto
        if v < self._hard:
            return self._halt_now(
                ReasonCode.HARD_LIMIT, f"score {v:.4g} below hard limit {self._hard:.4g}", v, evidence, []
            )
        events: list[Event] = []
        if v < self._soft_limit:
            w = Warn(WarningCode.SOFT_LIMIT, f"score {v:.4g} below soft limit {self._soft_limit:.4g}", v, upto)
            self._warnings.append(w)
            events.append(w)
        W, T = self._w, self._t
        if W:
            self._sum_w += v - scores[-W - 1] if count > W else v
        if T:
            s_y = self._s_y
            if count > T:
                old = scores[-T - 1]
                self._s_iy += old - s_y + (T - 1) * v
                self._s_y = s_y + v - old
            else:
                self._s_iy += (count - 1) * v
                self._s_y = s_y + v
        if count % _RESYNC == 0:
            self._resync()
        trip: tuple[ReasonCode, str] | None = None
        if W and count >= W and self._sum_w < self._w_hi:
            threshold = self.config.window.threshold  # type: ignore[union-attr]
            mean = self._sum_w / W if self._sum_w < self._w_lo else math.fsum(scores[-W:]) / W
            if mean < threshold:
                trip = (ReasonCode.WINDOW_MEAN, f"mean of last {W} scores {mean:.4g} below {threshold:.4g}")
        if T and count >= T and trip is None:
            drop = (self._t_xbar * self._s_y - self._s_iy) * self._t_k
            if drop > self._t_lo:
                max_drop = self.config.trend.max_drop  # type: ignore[union-attr]
                if drop <= self._t_hi:
                    drop = self._exact_drop(scores[-T:])
                if drop > max_drop:
                    trip = (ReasonCode.TREND_DROP, f"scores fell {drop:.4g} over the last {T} (max {max_drop:.4g})")
        if trip is not None:
            if not self._soft_mode or self._max_wait == 0:
                return self._halt_now(trip[0], trip[1], v, evidence, events)
            if self._pending is None:
                self._pending = (trip[0], trip[1], v, evidence, upto)
                self._simple = False
                w = Warn(WarningCode.SOFT_HALT_PENDING, f"{trip[1]}; halting at the end of the sentence", v, upto)
                self._warnings.append(w)
                events.append(w)
        if self._adaptive:
            cad = self.config.cadence
            self._interval = min(self._interval * 2, cad.max_every) if v >= cad.relax_above else cad.min_every
        return self._advance(upto, events)

    def _checked_upto(self, upto: Any) -> int:
        if upto.__class__ is not int or upto < self._scored or upto > self._n:
            raise KernelStateError(
                f"upto={upto!r} must be an int between the last scored position ({self._scored}) "
                f"and the generated length ({self._n})"
            )
        return int(upto)

    def push_skip(self, evidence: Any = None, *, upto: int | None = None) -> Sequence[Event]:
        """The text up to ``upto`` makes no claim to judge (a greeting, a question back, a
        meta sentence): accept it without a score.

        It is released as a passing score would release it, but no score is recorded, so it
        neither lowers nor props up the window and trend rules; a soft halt pending at a
        sentence end still halts there. ``evidence`` (why it was skipped) goes to the record
        with ``score_index`` None. Only a scorer that decided so may call this: a failed or
        missing score must stay a failure (``push_failure``), never a skip.
        """
        if self._halt is not None:
            return _EMPTY
        upto = self._n if upto is None else self._checked_upto(upto)
        if evidence is not None:
            self._evidence.append({"score_index": None, "token_index": upto, "evidence": evidence})
        self._scored = upto
        return self._advance(upto, [])

    def _advance(self, upto: int, events: list[Event]) -> list[Event]:
        """Accept the text up to ``upto`` once it passed (or was skipped), and work out what is due next."""
        if self._pending is not None or not self._hold:
            self._accept(upto, events)
            if self._halt is not None:
                return events
        else:
            # hold-back fast path: everything up to ``upto`` is now accepted and shown
            if upto > self._accepted:
                self._accepted = upto
                a = self._released
                tokens = self._tokens
                events.append(_new(Release, (tokens[a] if upto == a + 1 else "".join(tokens[a:upto]), a, upto)))
                self._released = upto
                if self._t_first_release is None:
                    self._t_first_release = self._clock()
            self._due_since = None
        n = self._n
        if n - upto >= self._interval and not self._sentence_cadence:
            self._due = True
            self._due_upto = n
            if self._deadline is not None:
                self._due_since = self._clock()
        elif n > upto:
            self._update_due()
        else:
            self._due = False
        return events

    def push_failure(self, reason: ReasonCode | str, message: str, *, upto: int | None = None) -> Sequence[Event]:
        """The scorer failed (``scorer_error``) or missed its deadline (``deadline_missed``)."""
        if self._halt is not None:
            return _EMPTY
        reason = ReasonCode(reason)
        if reason not in (ReasonCode.SCORER_ERROR, ReasonCode.DEADLINE_MISSED, ReasonCode.INVALID_SCORE):
            raise ValueError(f"push_failure takes scorer_error, deadline_missed or invalid_score, not {reason.value}")
        if upto is None:
            upto = self._due_upto if self._due else self._n
        return self._failure(reason, message, upto, None)

    def check_deadline(self) -> Sequence[Event]:
        """Fail (or warn, if fail-open) when a due score is later than ``deadline_ms``."""
        if self._halt is not None or self._deadline is None or not self._due or self._due_since is None:
            return _EMPTY
        late = self._clock() - self._due_since
        if late <= self._deadline:
            return _EMPTY
        return self._failure(
            ReasonCode.DEADLINE_MISSED,
            f"no score {late * 1000:.1f} ms after it was due (deadline {self._deadline * 1000:.1f} ms)",
            self._due_upto,
            None,
        )

    def note_scorer_time(self, ms: float) -> None:
        """Drivers report time spent in the scorer so the record can show it."""
        self._scorer_ms += ms
        self._scorer_calls += 1

    def close(self) -> Sequence[Event]:
        """No more tokens. The unscored tail becomes due; pending soft halts may now fire."""
        if self._closed or self._halt is not None:
            self._closed = True
            return _EMPTY
        self._closed = True
        self._simple = False
        events: list[Event] = []
        if self._tracker is not None:
            self._bounds.extend(self._tracker.close())
        if self._n and (not self._bounds or self._bounds[-1] < self._n):
            self._bounds.append(self._n)  # the end of the stream ends the last sentence
        if self._pending is not None:
            self._check_pending(events)
        if self._halt is None and self._scored < self._n:
            self._due = True
            self._due_upto = self._n
            if self._due_since is None:
                self._due_since = self._clock()
        return events

    def finish(self) -> HaltRecord:
        """Close the stream and return its record. Call ``reset()`` before reusing the kernel."""
        if not self._finished:
            self.close()
            if self._pending is not None and self._halt is None:
                self._fire_pending([], self._accepted)
            self._finished = True
            self._t_end = self._clock()
        h = self._halt
        tokens = self._tokens
        stand = h.token_index if h is not None else self._released
        t0 = self._t_start if self._t_start is not None else self._t_end
        assert t0 is not None and self._t_end is not None

        def ms(t: float | None) -> float | None:
            return None if t is None else round((t - t0) * 1000.0, 4)

        return HaltRecord(
            released_text="".join(tokens[:stand]),
            unreleased_text="".join(tokens[stand:]),
            halted=h is not None,
            reason=h.reason if h is not None else None,
            message=h.message if h is not None else "",
            token_index=stand,
            soft=h.soft if h is not None else False,
            retract=h.retract if h is not None else None,
            tokens_seen=self._n,
            tokens_dropped=self._dropped,
            scores=list(self._scores),
            evidence=list(self._evidence),
            warnings=list(self._warnings),
            timings={
                "total_ms": ms(self._t_end),
                "first_release_ms": ms(self._t_first_release),
                "halt_ms": ms(self._t_halt),
                "scorer_ms": round(self._scorer_ms, 4),
                "scorer_calls": self._scorer_calls,
            },
        )

    # ------------------------------------------------------------------ internals
    def _update_due(self) -> None:
        n, scored = self._n, self._scored
        if n <= scored:
            self._due = False
            return
        mode = self._mode
        if mode == "sentence":
            b = self._bounds[-1] if self._bounds else 0
            if b > scored:
                self._set_due(b)
            elif n - scored >= self.config.cadence.max_tokens:
                self._set_due(n)
            else:
                self._due = False
        elif n - scored >= self._interval:
            self._set_due(n)
        else:
            self._due = False

    def _set_due(self, upto: int) -> None:
        self._due = True
        self._due_upto = upto
        if self._deadline is not None:
            self._due_since = self._clock()

    def _accept(self, upto: int, events: list[Event]) -> None:
        if upto > self._accepted:
            self._accepted = upto
        self._due_since = None
        if self._pending is not None:
            self._check_pending(events)
            if self._halt is not None:
                return
        if self._hold and self._accepted > self._released:
            self._release_to(self._accepted, events)

    def _release_to(self, end: int, events: list[Event]) -> None:
        a = self._released
        tokens = self._tokens
        events.append(_new(Release, (tokens[a] if end == a + 1 else "".join(tokens[a:end]), a, end)))
        self._released = end
        if self._t_first_release is None:
            self._t_first_release = self._clock()

    def _check_pending(self, events: list[Event]) -> None:
        """Fire a deferred soft halt once an accepted score reaches a sentence end after the trip."""
        pending = self._pending
        assert pending is not None
        bounds = self._bounds
        i = bisect_left(bounds, pending[4])
        if i < len(bounds) and bounds[i] <= self._accepted:
            self._fire_pending(events, bounds[i])

    def _fire_pending(self, events: list[Event], cut: int) -> None:
        reason, message, score, evidence, _ = self._pending  # type: ignore[misc]
        self._pending = None
        self._stop(reason, message, score, evidence, cut, True, events)

    def _halt_now(
        self, reason: ReasonCode, message: str, score: float | None, evidence: Any, events: list[Event]
    ) -> list[Event]:
        self._stop(reason, message, score, evidence, self._accepted, False, events)
        return events

    def _stop(
        self,
        reason: ReasonCode,
        message: str,
        score: float | None,
        evidence: Any,
        cut: int,
        soft: bool,
        events: list[Event],
    ) -> None:
        retract = None
        if self._hold:
            if cut > self._released:
                self._release_to(cut, events)
            # what stands is exactly what was shown (a boundary confirmed late can sit
            # before an already released whitespace token)
            cut = self._released
        elif self._released > cut:
            retract = (cut, self._released, "".join(self._tokens[cut : self._released]))
        halt = Halt(reason, message, cut, score, evidence, soft, retract)
        self._halt = halt
        self._simple = False
        self._due = False
        self._t_halt = self._clock()
        events.append(halt)

    def _failure(self, reason: ReasonCode, message: str, upto: int, evidence: Any) -> list[Event]:
        fail_open = self.config.fail_open
        opened = {
            ReasonCode.INVALID_SCORE: fail_open.invalid_score,
            ReasonCode.SCORER_ERROR: fail_open.scorer_error,
            ReasonCode.DEADLINE_MISSED: fail_open.deadline,
        }[reason]
        events: list[Event] = []
        if not opened:
            return self._halt_now(reason, message, None, evidence, events)
        w = Warn(WarningCode(reason.value), message + " (fail-open: segment let through)", None, upto)
        self._warnings.append(w)
        events.append(w)
        if upto > self._scored:
            self._scored = upto
        self._accept(upto, events)
        if self._halt is None:
            self._update_due()
        return events

    def _exact_drop(self, ys: list[float]) -> float:
        xbar = self._t_xbar
        num = math.fsum((i - xbar) * y for i, y in enumerate(ys))
        return -num * self._t_k

    def _resync(self) -> None:
        scores = self._scores
        if self._w:
            self._sum_w = math.fsum(scores[-self._w :])
        if self._t:
            ys = scores[-self._t :]
            self._s_y = math.fsum(ys)
            self._s_iy = math.fsum(i * y for i, y in enumerate(ys))
