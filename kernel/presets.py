"""Named halt presets: the halt settings users pick by name, the same in every place.

The host's default (``halt.preset``), the browser worker, the demo page, the Python API and
the README all name one of these, so "the default" means one thing. ``HaltConfig()``'s own
field defaults are the halt spec's reference settings (the golden vectors fill partial
configs from them) and are not a product default.

Values are claim supports from the one scoring path (``haltguard.kernel.scoring``) with the
default model; a contradicted number brings a claim's support well under every hard limit:

- ``strict``: halts earliest; a weak sentence (below 0.25) halts, three weak-ish ones in a row
  (mean below 0.45) halt, and text is judged at least every 40 tokens.
- ``balanced`` (the default): halts on clearly unsupported or contradicted sentences (below
  0.2) or a run of weak ones (mean of 3 below 0.35); warns below 0.45.
- ``chat``: for conversational answers: halts only below 0.15, no run rule, judges every
  sentence (or 64 tokens), warns below 0.4.
"""

from __future__ import annotations

from typing import Any

from haltguard.kernel.config import ConfigError, HaltConfig

__all__ = ["PRESETS", "DEFAULT_PRESET", "preset", "preset_names", "resolve_halt"]

_RAW: dict[str, dict[str, Any]] = {
    "strict": {"hard_limit": 0.25, "soft_limit": 0.5, "window": {"size": 3, "threshold": 0.45}, "trend": None,
               "cadence": {"mode": "sentence", "max_tokens": 40}},
    "balanced": {"hard_limit": 0.2, "soft_limit": 0.45, "window": {"size": 3, "threshold": 0.35}, "trend": None,
                 "cadence": {"mode": "sentence", "max_tokens": 48}},
    "chat": {"hard_limit": 0.15, "soft_limit": 0.4, "window": None, "trend": None,
             "cadence": {"mode": "sentence", "max_tokens": 64}},
}
PRESETS: dict[str, HaltConfig] = {name: HaltConfig.from_dict(raw) for name, raw in _RAW.items()}
DEFAULT_PRESET = "balanced"


def preset_names() -> list[str]:
    return list(PRESETS)


def preset(name: str = DEFAULT_PRESET) -> HaltConfig:
    """The named preset; an unknown name is a ``ConfigError`` that lists the known ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ConfigError("preset", f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None


def resolve_halt(halt: Any = None, default: str = DEFAULT_PRESET) -> HaltConfig:
    """A halt config from what a caller sent: nothing (the default preset), a preset name, a
    ``HaltConfig``, or a dict (a full config, or ``{"preset": name, ...}`` with overrides)."""
    if halt is None:
        return preset(default)
    if isinstance(halt, HaltConfig):
        return halt
    if isinstance(halt, str):
        return preset(halt)
    if isinstance(halt, dict) and "preset" in halt:
        base = preset(halt["preset"]).to_dict()
        base.update({k: v for k, v in halt.items() if k != "preset"})
        return HaltConfig.from_dict(base)
    return HaltConfig.from_dict(halt)
