"""Named halt presets: the halt settings users pick by name, the same in every place.

The host's default (``halt.preset``), the browser worker, the demo page, the Python API and
the README all name one of these, so "the default" means one thing. ``HaltConfig()``'s own
field defaults are the halt spec's reference settings (the golden vectors fill partial
configs from them) and are not a product default.

A preset is stated relative to the scorer's threshold ``t`` (the model manifest's operating
point, the one ``/v1/review`` decides with), so streams and review agree: a sentence the
reviewer calls unsupported or contradicted is one the default preset halts on.

- ``strict``: halts below ``t``; also halts on three claims in a row whose mean is below
  ``t + 0.1``; warns below ``t + 0.15``; judges at least every 40 tokens.
- ``balanced`` (the default): halts below ``t`` — exactly what review flags; warns below
  ``t + 0.1``; judges each sentence (or 48 tokens).
- ``chat``: relaxed for conversation: halts only below ``t / 2`` (clearly unsupported, and every
  contradicted number, whose support is capped at 0.15); warns below ``t``; 64 tokens.

Sentences that make no claim (greetings, questions back, offers of help) are never judged
(``kernel.claims``), so no preset halts on them.
"""

from __future__ import annotations

from typing import Any

from haltguard.kernel.config import ConfigError, HaltConfig

__all__ = ["PRESET_NAMES", "DEFAULT_PRESET", "DEFAULT_THRESHOLD", "preset", "resolve_halt"]

PRESET_NAMES = ("strict", "balanced", "chat")
DEFAULT_PRESET = "balanced"
# the threshold a preset assumes when the caller names none (a model's manifest default)
DEFAULT_THRESHOLD = 0.5


def _clip(x: float) -> float:
    return round(min(max(x, 0.0), 1.0), 6)


def _raw(name: str, t: float) -> dict[str, Any]:
    if name == "strict":
        return {"hard_limit": _clip(t), "soft_limit": _clip(t + 0.15), "window": {"size": 3, "threshold": _clip(t + 0.1)},
                "trend": None, "cadence": {"mode": "sentence", "max_tokens": 40}}
    if name == "balanced":
        return {"hard_limit": _clip(t), "soft_limit": _clip(t + 0.1), "window": None, "trend": None,
                "cadence": {"mode": "sentence", "max_tokens": 48}}
    if name == "chat":
        return {"hard_limit": _clip(t / 2), "soft_limit": _clip(t), "window": None, "trend": None,
                "cadence": {"mode": "sentence", "max_tokens": 64}}
    raise ConfigError("preset", f"unknown preset {name!r} (known: {', '.join(PRESET_NAMES)})")


def preset(name: str = DEFAULT_PRESET, threshold: float | None = None) -> HaltConfig:
    """The named preset for a scorer whose support threshold is ``threshold`` (default 0.5)."""
    if not isinstance(name, str):
        raise ConfigError("preset", f"must be a preset name, got {type(name).__name__}")
    t = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not 0.0 <= t <= 1.0:
        raise ConfigError("threshold", f"must be within [0, 1], got {t}")
    return HaltConfig.from_dict(_raw(name, t))


def resolve_halt(halt: Any = None, default: str = DEFAULT_PRESET, threshold: float | None = None) -> HaltConfig:
    """A halt config from what a caller sent: nothing (the default preset), a preset name, a
    ``HaltConfig``, or a dict (a full config, or ``{"preset": name, ...}`` with overrides);
    presets are resolved at the scorer's ``threshold``."""
    if halt is None:
        return preset(default, threshold)
    if isinstance(halt, HaltConfig):
        return halt
    if isinstance(halt, str):
        return preset(halt, threshold)
    if isinstance(halt, dict) and "preset" in halt:
        base = preset(halt["preset"], threshold).to_dict()
        base.update({k: v for k, v in halt.items() if k != "preset"})
        return HaltConfig.from_dict(base)
    return HaltConfig.from_dict(halt)
