"""The detector: one registry of recognizers, findings with offsets, deterministic overlaps.

Throughput matters (the detector runs on every prompt and every streamed answer), so the
work per text is shaped by cheap gates before any regex runs: characters present, digit
runs (digit-scope patterns only scan small windows around them), token length, literal
needles, cached gate regexes, and recognizer-level triggers and context words. Recognizers
that share a pattern (SSN/ITIN, date/date of birth) share one regex pass.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from haltguard.kernel.recognizers import DEFAULT_RECOGNIZERS, Pattern, Recognizer, RecognizerError
from haltguard.kernel.validators import VALIDATORS

__all__ = ["Finding", "Registry", "Detector", "default_registry", "detect"]

_CONTEXT_BEFORE = 48
_CONTEXT_AFTER = 16
_DENY_BEFORE = 24  # "Policy no. " / "Order number " sit right before the number they qualify


class Finding:
    """One detected entity. Offsets index the original string (``text[start:end] == value``)."""

    __slots__ = ("type", "start", "end", "value", "score", "validator", "context")

    def __init__(self, type: str, start: int, end: int, value: str, score: float, validator: str | None, context: str | None) -> None:
        self.type = type
        self.start = start
        self.end = end
        self.value = value
        self.score = score
        self.validator = validator
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type, "start": self.start, "end": self.end, "value": self.value,
            "score": self.score, "validator": self.validator, "context": self.context,
        }

    def __repr__(self) -> str:
        return f"Finding({self.type}, {self.start}:{self.end}, {self.value!r}, {self.score})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self.to_dict() == other.to_dict()


class Registry:
    """The ordered set of recognizers a detector runs; order breaks ties in overlaps."""

    def __init__(self, recognizers: Iterable[Recognizer] = DEFAULT_RECOGNIZERS) -> None:
        self._recs: dict[str, Recognizer] = {}
        for r in recognizers:
            self.add(r)

    def add(self, recognizer: Recognizer | Mapping[str, Any], *, replace: bool = False) -> None:
        if not isinstance(recognizer, Recognizer):
            recognizer = Recognizer.from_dict(recognizer)
        if recognizer.type in self._recs and not replace:
            raise RecognizerError(f"recognizer {recognizer.type!r}", "a recognizer of this type already exists")
        self._recs[recognizer.type] = recognizer

    def get(self, type: str) -> Recognizer:
        return self._recs[type]

    @property
    def types(self) -> list[str]:
        return list(self._recs)

    def __iter__(self):
        return iter(self._recs.values())

    def __len__(self) -> int:
        return len(self._recs)

    def subset(self, enabled: Iterable[str] | None = None, extra_context: Mapping[str, Sequence[str]] | None = None) -> Registry:
        """A copy restricted to ``enabled`` types, with extra context words merged in."""
        keep = list(self._recs) if enabled is None else list(enabled)
        out = Registry(())
        for t in keep:
            if t not in self._recs:
                raise RecognizerError(f"enabled.{t}", f"unknown entity type (known: {', '.join(self._recs)})")
            r = self._recs[t]
            extra = tuple((extra_context or {}).get(t, ()))
            if extra:
                d = r.to_dict()
                d["context"] = list(r.context) + [w.lower() for w in extra]
                r = Recognizer.from_dict(d)
            out.add(r)
        return out


def default_registry() -> Registry:
    return Registry(DEFAULT_RECOGNIZERS)


# Runs of digits and separators; bounded (linear time) but long enough that no entity is cut.
_RUN = re.compile(r"\d[\d().\-/: \t]{0,400}")
_NO_DIGITS = str.maketrans("", "", "0123456789")
_DIGITS = frozenset("0123456789")


class _Pass:
    """One regex run, shared by every recognizer that uses the same pattern and gates."""

    __slots__ = ("rx", "spec", "recs")

    def __init__(self, rx: re.Pattern[str], spec: Pattern) -> None:
        self.rx = rx
        self.spec = spec
        self.recs: tuple[Recognizer, ...] = ()


_GATES: dict[str, re.Pattern[str]] = {}


def _gate_regex(pattern: str) -> re.Pattern[str]:
    """One compiled object per gate pattern, so a gate shared by several passes is searched once per text."""
    rx = _GATES.get(pattern)
    if rx is None:
        rx = _GATES[pattern] = re.compile(pattern)
    return rx


class _Plan:
    """Per-registry precomputation: shared passes, split into whole-text and digit-run passes."""

    def __init__(self, registry: Registry) -> None:
        passes: dict[tuple[str, int, Pattern], _Pass] = {}
        for rec in registry:
            for spec, rx in zip(rec.patterns, rec.compiled):
                # a Pattern is a frozen dataclass: equal specs with equal regex flags share one pass
                key = (rx.pattern, rx.flags, spec)
                if key not in passes:
                    passes[key] = _Pass(rx, spec)
                passes[key].recs += (rec,)
        text_passes = [p for p in passes.values() if p.spec.scope == "text"]
        # cheapest requirement first: a run with nd digits stops at the first min_digits > nd
        digit_passes = sorted((p for p in passes.values() if p.spec.scope == "digits"), key=lambda p: p.spec.min_digits)
        self.needs_runs = bool(digit_passes) or any(p.spec.min_run_digits for p in text_passes)
        # flat tuples for the hot loops (unpacking a tuple is cheaper than attribute lookups)
        self.text_loop = [
            (p.rx, p.recs, any(_has_literal_gates(r) for r in p.recs), frozenset(p.spec.chars) or None, p.spec.needle,
             _gate_regex(p.spec.gate) if p.spec.gate is not None else None, p.spec.min_run_digits,
             p.spec.min_token_len, p.spec.score)
            for p in text_passes
        ]
        self.digit_loop = [
            (p.rx, p.recs, any(_has_literal_gates(r) for r in p.recs), p.spec.min_digits, p.spec.run_chars,
             p.spec.before, p.spec.after, p.spec.upper_before, p.spec.score)
            for p in digit_passes
        ]


def _has_literal_gates(rec: Recognizer) -> bool:
    return bool(rec.triggers or rec.lower_triggers or rec.context_required)


def _literal_gates_ok(rec: Recognizer, text: str, lower: str) -> bool:
    """Recognizer-level gates (literal triggers, context words), checked only when a pass is about to run."""
    if rec.triggers and not any(t in text for t in rec.triggers):
        return False
    if rec.lower_triggers and not any(t in lower for t in rec.lower_triggers):
        return False
    if rec.context_required and not any(w in lower for w in rec.context):
        return False
    return True


class Detector:
    """Finds entities with the recognizers of a registry.

    ``min_score`` drops weak findings (a bare 8-digit number is a phone only with context).
    """

    def __init__(self, registry: Registry | None = None, *, min_score: float = 0.5) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.min_score = min_score
        self._plan = _Plan(self.registry)
        self._order = {t: i for i, t in enumerate(self.registry.types)}

    def detect(self, text: str) -> list[Finding]:
        if text.__class__ is not str:
            raise TypeError(f"detect() takes str, got {type(text).__name__}")
        if not text:
            return []
        plan = self._plan
        lower = text.lower()
        present = set(text)
        ok: dict[str, bool] = {}
        cands: list[Finding] = []
        min_score = self.min_score
        finding = self._finding

        def active_recs(recs: tuple[Recognizer, ...]) -> list[Recognizer]:
            out = []
            for r in recs:
                v = ok.get(r.type)
                if v is None:
                    v = ok[r.type] = _literal_gates_ok(r, text, lower)
                if v:
                    out.append(r)
            return out

        runs = []
        max_nd = 0
        if plan.needs_runs and not present.isdisjoint(_DIGITS):
            for m in _RUN.finditer(text):
                run = m.group().rstrip("().-/: \t")
                nd = len(run) - len(run.translate(_NO_DIGITS))
                runs.append((m.start(), m.start() + len(run), nd))
                if nd > max_nd:
                    max_nd = nd
        gates: dict[Any, bool] = {}
        maxtok = -1
        n = len(text)
        for rx, recs, gated, chars, needle, gate_rx, min_run, min_tok, score in plan.text_loop:
            if min_run > max_nd or (chars is not None and chars.isdisjoint(present)):
                continue
            if min_tok:
                if maxtok < 0:
                    maxtok = max(map(len, text.split()), default=0)
                if maxtok < min_tok:
                    continue
            if needle is not None and needle not in text:
                continue
            if gate_rx is not None:
                g = gates.get(gate_rx)
                if g is None:
                    g = gates[gate_rx] = gate_rx.search(text) is not None
                if not g:
                    continue
            active = active_recs(recs) if gated else recs
            if not active:
                continue
            for m in rx.finditer(text):
                for rec in active:
                    f = finding(rec, m, text, lower, min_score, score)
                    if f is not None:
                        cands.append(f)
        digit_loop = plan.digit_loop
        for start, end, nd in runs:
            span = text[start - 2 if start > 2 else 0:end]
            for rx, recs, gated, min_digits, run_chars, before, after, upper_before, score in digit_loop:
                if min_digits > nd:
                    break
                if run_chars and not any(c in span for c in run_chars):
                    continue
                if upper_before:
                    head = text[start - before if start > before else 0:start]
                    if head == head.lower():
                        continue
                active = active_recs(recs) if gated else recs
                if not active:
                    continue
                for mm in rx.finditer(text, start - before if start > before else 0, end + after if end + after < n else n):
                    for rec in active:
                        f = finding(rec, mm, text, lower, min_score, score)
                        if f is not None:
                            cands.append(f)
        return self._resolve(cands) if len(cands) > 1 else cands

    @staticmethod
    def _finding(rec: Recognizer, m: re.Match[str], text: str, lower: str, min_score: float,
                 base: float | None = None) -> Finding | None:
        start, end = m.span(rec.group)
        if start < 0:
            return None
        value = text[start:end]
        if rec.type == "url":
            stripped = value.rstrip(".,;:!?)]}'\"")
            end -= len(value) - len(stripped)
            value = stripped
        vname = rec.validator
        if vname is not None and not VALIDATORS[vname](value):
            return None
        score = rec.score if base is None else base
        hit = None
        if rec.deny_context:
            near = lower[max(0, start - _DENY_BEFORE):start]
            if any(w in near for w in rec.deny_context) and not any(w in near for w in rec.context if w != "number"):
                return None
        if rec.context:
            window = lower[max(0, start - _CONTEXT_BEFORE):start] + " " + lower[end:end + _CONTEXT_AFTER]
            for w in rec.context:
                if w in window:
                    hit = w
                    break
            if hit is not None:
                score = min(1.0, score + rec.context_boost)
            elif rec.context_required:
                return None
        if score < min_score:
            return None
        return Finding(rec.type, start, end, value, round(score, 4), vname, hit)

    def _resolve(self, cands: list[Finding]) -> list[Finding]:
        """Keep the best non-overlapping findings: higher score, then longer, then earlier, then registry order.

        Kept spans never overlap, so they stay sorted by start and one bisect finds the
        only neighbours a candidate could overlap: O(n log n) even for 100k findings.
        """
        order = self._order
        cands.sort(key=lambda f: (-f.score, f.start - f.end, f.start, order[f.type]))
        starts: list[int] = []
        kept: list[Finding] = []
        for f in cands:
            i = bisect_right(starts, f.start)
            if i and kept[i - 1].end > f.start:
                continue
            if i < len(kept) and kept[i].start < f.end:
                continue
            starts.insert(i, f.start)
            kept.insert(i, f)
        return kept


_DEFAULT: Detector | None = None


def detect(text: str) -> list[Finding]:
    """Detect with the default registry (built once, lazily)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Detector()
    return _DEFAULT.detect(text)
