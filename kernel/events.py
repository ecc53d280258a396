"""What the halt kernel tells its consumer: release, warning and halt events, and the final record.

Events are slotted dataclasses (``Release`` a named tuple: one is created per released
segment on the hot path, built with ``tuple.__new__``); ``to_dict`` gives the JSON shape used
by golden vectors, the host's WebSocket frames and the browser bundle, so all three agree on
field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, NamedTuple

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


class Release(NamedTuple):
    """Tokens ``start``..``end`` (exclusive) may be shown; ``text`` is their concatenation."""

    text: str
    start: int
    end: int

    @property
    def kind(self) -> str:
        return "release"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "release", "text": self[0], "start": self[1], "end": self[2]}

    def __repr__(self) -> str:
        return f"Release({self[0]!r}, {self[1]}, {self[2]})"


@dataclass(slots=True, repr=False)
class Warn:
    """A rule or failure that did not halt: the consumer may flag the text."""

    code: WarningCode
    message: str
    score: float | None
    token_index: int
    kind: ClassVar[str] = "warning"

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


@dataclass(slots=True, repr=False)
class Halt:
    """The stream stops. ``token_index`` tokens stand; ``retract`` is the released span to take back."""

    reason: ReasonCode
    message: str
    token_index: int
    score: float | None
    evidence: Any
    soft: bool
    retract: tuple[int, int, str] | None
    kind: ClassVar[str] = "halt"

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


@dataclass(slots=True, repr=False)
class HaltRecord:
    """The outcome of one stream, returned by ``HaltKernel.finish``.

    ``released_text`` is what stands: in optimistic mode the retracted span is already
    removed. ``unreleased_text`` is what was generated but never shown (hold-back tail,
    withheld segments, tokens after a halt).
    """

    released_text: str
    unreleased_text: str
    halted: bool
    reason: ReasonCode | None
    message: str
    token_index: int
    soft: bool
    retract: tuple[int, int, str] | None
    tokens_seen: int
    tokens_dropped: int
    scores: list[float]
    evidence: list[Any]
    warnings: list[Warn]
    timings: dict[str, Any]

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
        state = f"halted {self.reason} at {self.token_index}" if self.halted else "completed"
        return f"HaltRecord({state}, released={len(self.released_text)} chars, scores={len(self.scores)})"
