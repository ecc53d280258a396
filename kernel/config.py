"""Halt configuration: one validated, JSON-serialisable record per rule.

Configs travel between CPython, Pyodide workers and the host as plain JSON, so every
class here round-trips through ``to_dict``/``from_dict`` and refuses unknown keys or
out-of-range values with a message that names the offending field. The semantics of
each field are defined in docs/halt-spec.md; this module only guards their shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from haltguard.kernel.errors import FieldError

__all__ = [
    "ConfigError",
    "WindowRule",
    "TrendRule",
    "SoftMode",
    "Cadence",
    "FailOpen",
    "HaltConfig",
    "RELEASE_MODES",
    "CADENCE_MODES",
]

RELEASE_MODES = ("hold_back", "optimistic")
CADENCE_MODES = ("every_n", "sentence", "adaptive")


class ConfigError(FieldError):
    """A halt config value is missing, of the wrong type or out of range."""


def _num(path: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(path, f"must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(path, "must be finite")
    if lo is not None and value < lo:
        raise ConfigError(path, f"must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ConfigError(path, f"must be <= {hi}, got {value}")
    return value


def _int(path: str, value: Any, lo: int = 1, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, f"must be an integer, got {type(value).__name__}")
    if value < lo:
        raise ConfigError(path, f"must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ConfigError(path, f"must be <= {hi}, got {value}")
    return value


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, f"must be true or false, got {type(value).__name__}")
    return value


def _check_keys(path: str, data: Any, cls: type) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(path or "config", f"must be an object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise ConfigError(where, f"unknown field (known: {', '.join(sorted(known))})")
    return data


@dataclass(frozen=True, slots=True)
class WindowRule:
    """Halt when the mean of the last ``size`` scores is below ``threshold``."""

    size: int = 10
    threshold: float = 0.55

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _int("window.size", self.size, 1, 100_000))
        object.__setattr__(self, "threshold", _num("window.threshold", self.threshold, 0.0, 1.0))

    @classmethod
    def from_dict(cls, data: Any, path: str = "window") -> WindowRule:
        return cls(**_check_keys(path, data, cls))


@dataclass(frozen=True, slots=True)
class TrendRule:
    """Halt when the least-squares line over the last ``size`` scores falls by more than ``max_drop``."""

    size: int = 5
    max_drop: float = 0.15

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _int("trend.size", self.size, 2, 100_000))
        object.__setattr__(self, "max_drop", _num("trend.max_drop", self.max_drop, 0.0, 1.0))

    @classmethod
    def from_dict(cls, data: Any, path: str = "trend") -> TrendRule:
        return cls(**_check_keys(path, data, cls))


@dataclass(frozen=True, slots=True)
class SoftMode:
    """Let window/trend halts finish the current sentence (at most ``max_wait_tokens`` more tokens)."""

    enabled: bool = False
    max_wait_tokens: int = 50

    def __post_init__(self) -> None:
        object.__setattr__(self, "enabled", _bool("soft_mode.enabled", self.enabled))
        object.__setattr__(
            self, "max_wait_tokens", _int("soft_mode.max_wait_tokens", self.max_wait_tokens, 0, 1_000_000)
        )

    @classmethod
    def from_dict(cls, data: Any, path: str = "soft_mode") -> SoftMode:
        return cls(**_check_keys(path, data, cls))


@dataclass(frozen=True, slots=True)
class Cadence:
    """When the kernel asks for a score.

    ``every_n``: every ``every`` tokens. ``sentence``: at each sentence end, or after
    ``max_tokens`` unscored tokens. ``adaptive``: every ``min_every`` tokens while scores
    are below ``relax_above``; each score at or above it doubles the interval up to
    ``max_every``.
    """

    mode: str = "every_n"
    every: int = 1
    max_tokens: int = 64
    min_every: int = 1
    max_every: int = 8
    relax_above: float = 0.8

    def __post_init__(self) -> None:
        if self.mode not in CADENCE_MODES:
            raise ConfigError("cadence.mode", f"must be one of {', '.join(CADENCE_MODES)}, got {self.mode!r}")
        object.__setattr__(self, "every", _int("cadence.every", self.every, 1, 1_000_000))
        object.__setattr__(self, "max_tokens", _int("cadence.max_tokens", self.max_tokens, 1, 1_000_000))
        object.__setattr__(self, "min_every", _int("cadence.min_every", self.min_every, 1, 1_000_000))
        object.__setattr__(self, "max_every", _int("cadence.max_every", self.max_every, 1, 1_000_000))
        object.__setattr__(self, "relax_above", _num("cadence.relax_above", self.relax_above, 0.0, 1.0))
        if self.max_every < self.min_every:
            raise ConfigError("cadence.max_every", f"must be >= cadence.min_every ({self.min_every})")

    @classmethod
    def from_dict(cls, data: Any, path: str = "cadence") -> Cadence:
        return cls(**_check_keys(path, data, cls))


@dataclass(frozen=True, slots=True)
class FailOpen:
    """Per failure class: ``True`` lets the segment through with a warning instead of halting."""

    invalid_score: bool = False
    scorer_error: bool = False
    deadline: bool = False

    def __post_init__(self) -> None:
        for f in ("invalid_score", "scorer_error", "deadline"):
            _bool(f"fail_open.{f}", getattr(self, f))

    @classmethod
    def from_dict(cls, data: Any, path: str = "fail_open") -> FailOpen:
        return cls(**_check_keys(path, data, cls))


@dataclass(frozen=True, slots=True)
class HaltConfig:
    """Every knob of the halt kernel; defaults match the benchmark settings of the spec."""

    hard_limit: float = 0.5
    window: WindowRule | None = field(default_factory=WindowRule)
    trend: TrendRule | None = field(default_factory=TrendRule)
    soft_limit: float | None = 0.6
    soft_mode: SoftMode = field(default_factory=SoftMode)
    release: str = "hold_back"
    cadence: Cadence = field(default_factory=Cadence)
    fail_open: FailOpen = field(default_factory=FailOpen)
    deadline_ms: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hard_limit", _num("hard_limit", self.hard_limit, 0.0, 1.0))
        if self.soft_limit is not None:
            object.__setattr__(self, "soft_limit", _num("soft_limit", self.soft_limit, 0.0, 1.0))
        if self.release not in RELEASE_MODES:
            raise ConfigError("release", f"must be one of {', '.join(RELEASE_MODES)}, got {self.release!r}")
        if self.deadline_ms is not None:
            object.__setattr__(self, "deadline_ms", _num("deadline_ms", self.deadline_ms, 0.0))
        for name, cls in (("window", WindowRule), ("trend", TrendRule)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, cls):
                raise ConfigError(name, f"must be a {cls.__name__} or null")
        for name, part in (("soft_mode", SoftMode), ("cadence", Cadence), ("fail_open", FailOpen)):
            if not isinstance(getattr(self, name), part):
                raise ConfigError(name, f"must be a {part.__name__}")

    # --- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def plain(obj: Any) -> Any:
            if obj is None or isinstance(obj, (bool, int, float, str)):
                return obj
            return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}

        return plain(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> HaltConfig:
        data = dict(_check_keys("", data, cls))
        for name, sub in (("window", WindowRule), ("trend", TrendRule)):
            if name in data and data[name] is not None:
                data[name] = sub.from_dict(data[name], name)
        for name, part in (("soft_mode", SoftMode), ("cadence", Cadence), ("fail_open", FailOpen)):
            if name in data:
                data[name] = part.from_dict(data[name], name)
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> HaltConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("config", f"invalid JSON: {exc}") from None
        return cls.from_dict(data)
