"""JSON-in/JSON-out entry points: the one place that defines the wire shapes.

The CLI, the Pyodide worker and the host all call these, so a finding or a transform
result looks the same everywhere (and the cross-runtime tests compare exactly these).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from haltguard.kernel.injection import apply_prompt_action, scan_prompt
from haltguard.kernel.ner import Entity
from haltguard.kernel.policy import Policy
from haltguard.kernel.pseudonymize import Session, StreamingRehydrator, protect_output, rehydrate, transform

__all__ = ["load_policy", "detect_json", "transform_json", "rehydrate_json", "rehydrate_stream_json", "protect_json", "relocate"]


def load_policy(policy: Policy | Mapping[str, Any] | None) -> Policy:
    if policy is None:
        return Policy()
    if isinstance(policy, Policy):
        return policy
    return Policy.from_dict(policy)


def relocate(names: Sequence[Entity], text: str, new_text: str) -> list[Entity]:
    """The name model's entities of ``text`` found again in ``new_text`` (a prompt action that
    strips an injection shifts offsets; the names themselves are still there)."""
    if new_text == text:
        return list(names)
    out = []
    for e in names:
        value = text[e.start:e.end]
        i = new_text.find(value)
        while value and i >= 0:
            out.append(Entity(e.type, i, i + len(value), e.score))
            i = new_text.find(value, i + len(value))
    return out


def detect_json(text: str, policy: Policy | Mapping[str, Any] | None = None,
                names: Sequence[Entity] | None = None) -> dict[str, Any]:
    """Findings plus the prompt-security verdict for one text; ``names``: the name model's
    entities of ``text`` when one ran (``Policy.findings`` merges them)."""
    p = load_policy(policy)
    verdict = scan_prompt(text, p.prompt_security.threshold)
    return {
        "findings": [f.to_dict() for f in p.findings(text, names)],
        "prompt_security": {**verdict.to_dict(), "action": p.prompt_security.action if verdict.flagged else "allow"},
    }


def transform_json(text: str, policy: Policy | Mapping[str, Any] | None = None,
                   session: Mapping[str, Any] | None = None, names: Sequence[Entity] | None = None) -> dict[str, Any]:
    """Pseudonymise ``text``; raises ``BlockedInput`` for block-listed entities or a blocked prompt."""
    p = load_policy(policy)
    verdict = scan_prompt(text, p.prompt_security.threshold)
    safe_input, allowed = apply_prompt_action(text, verdict, p.prompt_security.action)
    found = p.findings(safe_input, relocate(names, text, safe_input) if names is not None else None)
    out = transform(safe_input, p, Session.from_dict(session) if session else None, findings=found)
    d = out.to_dict()
    d["prompt_security"] = {**verdict.to_dict(), "action": p.prompt_security.action if verdict.flagged else "allow",
                            "allowed": allowed}
    if not allowed:
        d["safe_text"] = ""
        d["entities"] = []
    return d


def rehydrate_json(output: str, session: Mapping[str, Any], revoked: Any = None) -> dict[str, Any]:
    return rehydrate(output, Session.from_dict(session), revoked).to_dict()


def rehydrate_stream_json(chunks: list[str], session: Mapping[str, Any]) -> dict[str, Any]:
    r = StreamingRehydrator(Session.from_dict(session))
    parts = [r.feed(c) for c in chunks] + [r.finish()]
    return {"chunks": parts, "restored_text": "".join(parts), "unknown_placeholders": r.unknown}


def protect_json(output: str, policy: Policy | Mapping[str, Any] | None = None,
                 names: Sequence[Entity] | None = None) -> dict[str, Any]:
    return protect_output(output, load_policy(policy), names).to_dict()
