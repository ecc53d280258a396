"""Declarative policies: what to do with each entity type, prompt injections and leaky output.

A policy is plain data (dict/JSON here; the host loads YAML into the same dict), validated
up front so that a typo fails at load time with the field that is wrong, not at the first
request that happens to contain that entity type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from haltguard.kernel.detector import Detector, Finding, Registry, default_registry
from haltguard.kernel.errors import FieldError
from haltguard.kernel.ner import ENTITY_TYPES as NAME_TYPES
from haltguard.kernel.ner import Entity, merge_findings
from haltguard.kernel.places import with_places
from haltguard.kernel.recognizers import Recognizer, RecognizerError

__all__ = ["PolicyError", "EntityRule", "PromptSecurityRule", "OutputProtectionRule", "Policy", "ACTIONS", "RESTORE_MODES",
           "looser_fields"]

ACTIONS = ("tokenize", "mask", "redact", "block", "allow")
# regex: the kernel's recognizers only; ner: the name model's entities only; both: merged
DETECTOR_MODES = ("regex", "ner", "both")
RESTORE_MODES = ("original", "masked", "label")
PROMPT_ACTIONS = ("allow", "strip", "block")
OUTPUT_MODES = ("off", "monitor", "strict")


class PolicyError(FieldError):
    """Invalid policy."""


def _keys(path: str, data: Any, known: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PolicyError(path or "policy", f"must be an object, got {type(data).__name__}")
    unknown = sorted(set(data) - known)
    if unknown:
        raise PolicyError(f"{path}.{unknown[0]}" if path else unknown[0], f"unknown field (known: {', '.join(sorted(known))})")
    return data


def _choice(path: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise PolicyError(path, f"must be one of {', '.join(options)}, got {value!r}")
    return value


def _unit(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise PolicyError(path, f"must be a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class EntityRule:
    action: str = "tokenize"
    restore: str = "original"
    keep_last: int = 4
    mask_char: str = "*"

    @classmethod
    def from_dict(cls, data: Any, path: str) -> EntityRule:
        if isinstance(data, str):
            data = {"action": data}
        d = _keys(path, data, {"action", "restore", "keep_last", "mask_char"})
        rule = cls(**d)
        _choice(f"{path}.action", rule.action, ACTIONS)
        _choice(f"{path}.restore", rule.restore, RESTORE_MODES)
        if isinstance(rule.keep_last, bool) or not isinstance(rule.keep_last, int) or not 0 <= rule.keep_last <= 64:
            raise PolicyError(f"{path}.keep_last", "must be an integer between 0 and 64")
        if not isinstance(rule.mask_char, str) or len(rule.mask_char) != 1:
            raise PolicyError(f"{path}.mask_char", "must be a single character")
        return rule


@dataclass(frozen=True)
class PromptSecurityRule:
    action: str = "block"
    threshold: float = 0.5

    @classmethod
    def from_dict(cls, data: Any, path: str = "prompt_security") -> PromptSecurityRule:
        d = _keys(path, data, {"action", "threshold"})
        rule = cls(**d)
        _choice(f"{path}.action", rule.action, PROMPT_ACTIONS)
        _unit(f"{path}.threshold", rule.threshold)
        return rule


@dataclass(frozen=True)
class OutputProtectionRule:
    mode: str = "monitor"
    action: str = "redact"

    @classmethod
    def from_dict(cls, data: Any, path: str = "output_protection") -> OutputProtectionRule:
        d = _keys(path, data, {"mode", "action"})
        rule = cls(**d)
        _choice(f"{path}.mode", rule.mode, OUTPUT_MODES)
        _choice(f"{path}.action", rule.action, ("redact", "block"))
        return rule


DEFAULT_ENTITY_RULES: dict[str, EntityRule] = {
    "credit_card": EntityRule("mask", restore="original", keep_last=4),
    "private_key": EntityRule("redact"),
    "aws_secret_access_key": EntityRule("redact"),
    "generic_secret": EntityRule("redact"),
}


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    default_action: EntityRule = field(default_factory=EntityRule)
    entities: Mapping[str, EntityRule] = field(default_factory=lambda: dict(DEFAULT_ENTITY_RULES))
    enabled: tuple[str, ...] | None = None
    min_score: float = 0.5
    context_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    custom_recognizers: tuple[Recognizer, ...] = ()
    prompt_security: PromptSecurityRule = field(default_factory=PromptSecurityRule)
    output_protection: OutputProtectionRule = field(default_factory=OutputProtectionRule)
    detector_mode: str = "both"
    enabled_names: tuple[str, ...] | None = None  # name types to keep (None: all of them)

    @property
    def uses_names(self) -> bool:
        """Whether this policy asks for the name model's entities."""
        return self.detector_mode != "regex" and (self.enabled_names is None or bool(self.enabled_names))

    def findings(self, text: str, names: Sequence[Entity] | None = None) -> list[Finding]:
        """Everything to act on in ``text``: the recognizers' findings and the name model's
        ``names`` (entities of this text), merged by ``kernel.ner.merge_findings``.

        ``names=None`` means no name model ran: mode ``both`` then finds what the recognizers
        find, and mode ``ner`` refuses (it would find nothing and say nothing). With the model,
        the kernel's place list (``kernel.places``) adds the well-known places it missed.
        """
        if self.detector_mode == "ner" and names is None:
            raise PolicyError("detector_mode", "is 'ner' but no name model ran (install one, or use 'regex' or 'both')")
        regex = [] if self.detector_mode == "ner" else self.detector().detect(text)
        if self.detector_mode == "regex" or names is None:
            return regex
        if self.enabled_names is None or "location" in self.enabled_names:
            names = with_places(text, list(names))  # the well-known places the model missed
        return merge_findings(text, regex, names, self.enabled_names) if names else regex

    def rule_for(self, entity_type: str) -> EntityRule:
        return self.entities.get(entity_type, self.default_action)

    def detector(self) -> Detector:
        """The detector this policy implies (cached per policy object)."""
        cached = getattr(self, "_detector", None)
        if cached is None:
            base = default_registry()
            registry: Registry = base.subset(self.enabled, self.context_words)
            for rec in self.custom_recognizers:
                registry.add(rec, replace=True)
            cached = Detector(registry, min_score=self.min_score)
            object.__setattr__(self, "_detector", cached)
        return cached

    @classmethod
    def from_dict(cls, data: Any) -> Policy:
        d = _keys("", data, {"name", "default_action", "entities", "enabled", "min_score", "context_words",
                             "custom_recognizers", "prompt_security", "output_protection", "detector_mode"})
        kw: dict[str, Any] = {}
        if "name" in d:
            if not isinstance(d["name"], str) or not d["name"]:
                raise PolicyError("name", "must be a non-empty string")
            kw["name"] = d["name"]
        if "default_action" in d:
            kw["default_action"] = EntityRule.from_dict(d["default_action"], "default_action")
        customs: list[Recognizer] = []
        for i, rd in enumerate(d.get("custom_recognizers") or []):
            try:
                customs.append(Recognizer.from_dict(rd, f"custom_recognizers[{i}]"))
            except RecognizerError as exc:
                prefix = f"recognizer {rd.get('type')!r}" if isinstance(rd, Mapping) else ""
                sub = exc.field[len(prefix):] if prefix and exc.field.startswith(prefix) else ""
                raise PolicyError(f"custom_recognizers[{i}]{sub}", str(exc).split(": ", 1)[-1]) from None
        kw["custom_recognizers"] = tuple(customs)
        known_types = set(default_registry().types) | {r.type for r in customs} | set(NAME_TYPES)
        if "entities" in d:
            ents = _keys("entities", d["entities"], known_types)
            merged = dict(DEFAULT_ENTITY_RULES)
            merged.update({t: EntityRule.from_dict(v, f"entities.{t}") for t, v in ents.items()})
            kw["entities"] = merged
        if "enabled" in d and d["enabled"] is not None:
            if not isinstance(d["enabled"], list) or not all(isinstance(t, str) for t in d["enabled"]):
                raise PolicyError("enabled", "must be a list of entity types or null")
            for i, t in enumerate(d["enabled"]):
                if t not in known_types:
                    raise PolicyError(f"enabled[{i}]", f"unknown entity type {t!r}")
            kw["enabled"] = tuple(t for t in d["enabled"] if t in default_registry().types)
            kw["enabled_names"] = tuple(t for t in d["enabled"] if t in NAME_TYPES)
        if "min_score" in d:
            kw["min_score"] = _unit("min_score", d["min_score"])
        if "detector_mode" in d:
            kw["detector_mode"] = _choice("detector_mode", d["detector_mode"], DETECTOR_MODES)
        if "context_words" in d:
            cw = _keys("context_words", d["context_words"], known_types)
            for t, words in cw.items():
                if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                    raise PolicyError(f"context_words.{t}", "must be a list of non-empty strings")
            kw["context_words"] = {t: tuple(w) for t, w in cw.items()}
        if "prompt_security" in d:
            kw["prompt_security"] = PromptSecurityRule.from_dict(d["prompt_security"])
        if "output_protection" in d:
            kw["output_protection"] = OutputProtectionRule.from_dict(d["output_protection"])
        return cls(**kw)

    @classmethod
    def from_json(cls, text: str) -> Policy:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PolicyError("policy", f"invalid JSON: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        def rule(r: EntityRule) -> dict[str, Any]:
            return {"action": r.action, "restore": r.restore, "keep_last": r.keep_last, "mask_char": r.mask_char}

        return {
            "name": self.name,
            "default_action": rule(self.default_action),
            "entities": {t: rule(r) for t, r in self.entities.items()},
            "enabled": (list(self.enabled) + list(self.enabled_names or ())) if self.enabled is not None else None,
            "detector_mode": self.detector_mode,
            "min_score": self.min_score,
            "context_words": {t: list(w) for t, w in self.context_words.items()},
            "custom_recognizers": [r.to_dict() for r in self.custom_recognizers],
            "prompt_security": {"action": self.prompt_security.action, "threshold": self.prompt_security.threshold},
            "output_protection": {"mode": self.output_protection.mode, "action": self.output_protection.action},
        }


# How strongly each setting protects, for ``looser_fields``: higher is stricter.
_ACTION_RANK = {"allow": 0, "tokenize": 1, "mask": 1, "redact": 2, "block": 3}
_PROMPT_RANK = {"allow": 0, "strip": 1, "block": 2}
_OUTPUT_RANK = {"off": 0, "monitor": 1, "strict": 2}
_OUTPUT_ACTION_RANK = {"redact": 0, "block": 1}


def looser_fields(base: Policy, other: Policy) -> list[str]:
    """The fields where ``other`` protects less than ``base`` (empty: it only tightens).

    What an operator needs to let clients send their own policy without letting them switch off
    what the operator set: an entity handled more weakly (``allow`` < ``tokenize``/``mask`` <
    ``redact`` < ``block``), a type or name type no longer detected, a higher ``min_score``, a
    detector mode that finds less than ``both``, weaker prompt security (action or a higher
    threshold) or output protection.
    """
    out = []
    types = set(base.entities) | set(other.entities)
    if _ACTION_RANK[other.default_action.action] < _ACTION_RANK[base.default_action.action]:
        out.append("default_action.action")
    for t in sorted(types):
        if _ACTION_RANK[other.rule_for(t).action] < _ACTION_RANK[base.rule_for(t).action]:
            out.append(f"entities.{t}.action")
    if base.enabled is None and other.enabled is not None or \
            base.enabled is not None and other.enabled is not None and not set(base.enabled) <= set(other.enabled):
        out.append("enabled")
    if base.uses_names and (not other.uses_names or base.enabled_names is None and other.enabled_names is not None or
                            base.enabled_names is not None and other.enabled_names is not None and
                            not set(base.enabled_names) <= set(other.enabled_names)):
        out.append("enabled (name types)")
    if other.min_score > base.min_score:
        out.append("min_score")
    if other.detector_mode != base.detector_mode and other.detector_mode != "both":
        out.append("detector_mode")
    ps, bps = other.prompt_security, base.prompt_security
    if _PROMPT_RANK[ps.action] < _PROMPT_RANK[bps.action]:
        out.append("prompt_security.action")
    if ps.threshold > bps.threshold:
        out.append("prompt_security.threshold")
    op, bop = other.output_protection, base.output_protection
    if _OUTPUT_RANK[op.mode] < _OUTPUT_RANK[bop.mode]:
        out.append("output_protection.mode")
    elif op.mode == bop.mode == "strict" and _OUTPUT_ACTION_RANK[op.action] < _OUTPUT_ACTION_RANK[bop.action]:
        out.append("output_protection.action")
    return out
