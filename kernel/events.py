"""What the halt kernel tells its consumer: release, warning and halt events, and the final record.

Events are small slotted objects because one is created per released segment on the hot
path; ``to_dict`` gives the JSON shape used by golden vectors, the host's WebSocket frames
and the browser bundle, so all three agree on field names.
"""

from __future__ import annotations

from enum import Enum
from operator import itemgetter
from typing import Any

__all__ = ["ReasonCode", "WarningCode", "Release", "Warn", "Halt", "HaltRecord", "Event"]


class ReasonCode(str, Enum):
    """Why a stream was halted (stable strings: they are part of the wire format)."""

    HARD_LIMIT = "hard_limit"
    WINDOW_MEAN = "window_mean"
    TREND_DROP = "trend_drop"
    INVALID_SCORE = "invalid_score"
    SCORER_ERROR = "scorer_error"
    DEADLINE_MISSED = "deadline_missed"

    def __str__(self) -> str:
        return self.value


class WarningCode(str, Enum):
    """Why a warning was raised without halting."""

    SOFT_LIMIT = "soft_limit"
    SOFT_HALT_PENDING = "soft_halt_pending"
    INVALID_SCORE = "invalid_score"
    SCORER_ERROR = "scorer_error"
    DEADLINE_MISSED = "deadline_missed"

    def __str__(self) -> str:
        return self.value


class Release(tuple):
    """Tokens ``start``..``end`` (exclusive) may be shown; ``text`` is their concatenation.

    A tuple subclass built with ``tuple.__new__`` (see ``make_release``) because one is
    created per released segment, i.e. per token when scoring every token.
    """

    __slots__ = ()
    kind = "release"
    text = property(itemgetter(0))
    start = property(itemgetter(1))
    end = property(itemgetter(2))

    def __new__(cls, text: str, start: int, end: int) -> "Release":
        return _tuple_new(cls, (text, start, end))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "release", "text": self[0], "start": self[1], "end": self[2]}

    def __repr__(self) -> str:
        return f"Release({self[0]!r}, {self[1]}, {self[2]})"


_tuple_new = tuple.__new__


class Warn:
    """A rule or failure that did not halt: the consumer may flag the text."""

    __slots__ = ("code", "message", "score", "token_index")
    kind = "warning"

    def __init__(self, code: WarningCode, message: str, score: float | None, token_index: int) -> None:
        self.code = code
        self.message = message
        self.score = score
        self.token_index = token_index

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "warning",
            "code": self.code.value,
            "message": self.message,
            "score": self.score,
            "token_index": self.token_index,
        }

    def __repr__(self) -> str:
        return f"Warn({self.code.value}, score={self.score}, at={self.token_index})"


class Halt:
    """The stream stops. ``token_index`` tokens stand; ``retract`` is the released span to take back."""

    __slots__ = ("reason", "message", "token_index", "score", "evidence", "soft", "retract")
    kind = "halt"

    def __init__(
        self,
        reason: ReasonCode,
        message: str,
        token_index: int,
        score: float | None,
        evidence: Any,
        soft: bool,
        retract: tuple[int, int, str] | None,
    ) -> None:
        self.reason = reason
        self.message = message
        self.token_index = token_index
        self.score = score
        self.evidence = evidence
        self.soft = soft
        self.retract = retract

    def to_dict(self) -> dict[str, Any]:
        retract = None
        if self.retract is not None:
            retract = {"start": self.retract[0], "end": self.retract[1], "text": self.retract[2]}
        return {
            "type": "halt",
            "reason": self.reason.value,
            "message": self.message,
            "token_index": self.token_index,
            "score": self.score,
            "evidence": self.evidence,
            "soft": self.soft,
            "retract": retract,
        }

    def __repr__(self) -> str:
        return f"Halt({self.reason.value}, at={self.token_index}, soft={self.soft}, retract={self.retract})"


Event = Release | Warn | Halt


class HaltRecord:
    """The outcome of one stream, returned by ``HaltKernel.finish``.

    ``released_text`` is what stands: in optimistic mode the retracted span is already
    removed. ``unreleased_text`` is what was generated but never shown (hold-back tail,
    withheld segments, tokens after a halt).
    """

    __slots__ = (
        "released_text",
        "unreleased_text",
        "halted",
        "reason",
        "message",
        "token_index",
        "soft",
        "retract",
        "tokens_seen",
        "tokens_dropped",
        "scores",
        "evidence",
        "warnings",
        "timings",
    )

    def __init__(self, **kw: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, kw[name])

    def to_dict(self, timings: bool = True) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["reason"] = self.reason.value if self.reason is not None else None
        out["warnings"] = [w.to_dict() for w in self.warnings]
        if self.retract is not None:
            out["retract"] = {"start": self.retract[0], "end": self.retract[1], "text": self.retract[2]}
        out["scores"] = list(self.scores)
        if not timings:
            del out["timings"]
        return out

    def __repr__(self) -> str:
        state = f"halted {self.reason.value} at {self.token_index}" if self.halted else "completed"
        return f"HaltRecord({state}, released={len(self.released_text)} chars, scores={len(self.scores)})"
