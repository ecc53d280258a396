"""The guarding proxy's two halves: chat messages out (pseudonymised), the answer back (guarded).

Out: every message's text goes through the key's policy like ``/v1/transform`` (prompt
security on user and tool messages), one mapping for the whole conversation, so the same
value gets the same placeholder in every message and, through the sealed session the
client sends back, in every turn.

Back: each choice's answer runs through one :class:`AnswerGuard`, chunk by chunk as the
upstream streams it or as one chunk when it does not (the same steps, so both give the same
text): output protection on whole sentences (raw personal data the model wrote itself:
strict mode holds each sentence until it is checked, monitor mode reads a copy on the side),
and — when the request brings grounding — each sentence judged like ``/v1/stream`` judges it,
as the model wrote it (placeholders are neutral words to the judge; the grounding gets the
session's placeholders too), released only once it passed; then the placeholders are put
back (never a partial one). A halt ends the answer there; nothing of the withheld sentence
is released.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from haltguard.host.operations import off_loop
from haltguard.kernel.driver import ClaimStream
from haltguard.kernel.guard import transform_json
from haltguard.kernel.ner import Entity
from haltguard.kernel.policy import Policy, PromptSecurityRule
from haltguard.kernel.pseudonymize import BlockedOutput, Session, StreamingRehydrator, protect_output, rehydrate
from haltguard.kernel.sentences import sentence_spans

__all__ = ["SentenceCutter", "AnswerGuard", "pseudonymise_messages", "placeholders_for_known", "PromptRefused", "ROLES_SCANNED"]

# the roles whose text comes from outside the application: prompt security applies to them
ROLES_SCANNED = ("user", "tool", "function")
_MAX_HELD = 4000  # characters without a sentence end before the cutter gives up waiting for one

NamesFn = Callable[[Policy, str], Awaitable[list[Entity] | None]]


class PromptRefused(Exception):
    """A message the policy refuses: ``code`` is input_blocked (entities) or prompt_blocked (injection)."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def _texts(message: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every text of a message: a string content or the text parts of a list."""
    content = message.get("content")
    if isinstance(content, str):
        return [(message, "content")]
    if isinstance(content, list):
        return [(part, "text") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []


async def pseudonymise_messages(messages: list[dict[str, Any]], policy: Policy, mapping: dict[str, Any] | None,
                                names: NamesFn) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Copies of ``messages`` with every text pseudonymised, the grown mapping and the types found."""
    quiet = dataclasses.replace(policy, prompt_security=PromptSecurityRule("allow", policy.prompt_security.threshold))
    out: list[dict[str, Any]] = []
    types: set[str] = set()
    from haltguard.kernel.pseudonymize import BlockedInput

    for i, original in enumerate(messages):
        msg = {**original}
        if isinstance(msg.get("content"), list):
            msg["content"] = [dict(p) if isinstance(p, dict) else p for p in msg["content"]]
        rule = policy if msg.get("role") in ROLES_SCANNED else quiet
        for holder, key in _texts(msg):
            text = holder[key]
            try:
                res = await off_loop(text, transform_json, text, rule, mapping, await names(rule, text))
            except BlockedInput as exc:
                raise PromptRefused("input_blocked", f"messages[{i}] contains entities the policy blocks",
                                    {"message_index": i, "types": sorted({f.type for f in exc.findings})}) from None
            verdict = res["prompt_security"]
            if not verdict["allowed"]:
                raise PromptRefused("prompt_blocked", f"messages[{i}] was flagged as a prompt injection",
                                    {"message_index": i, "score": verdict.get("score"), "rules": verdict.get("rules")})
            holder[key] = res["safe_text"]
            mapping = res["session"]
            types.update(e["type"] for e in res["entities"])
        out.append(msg)
    return out, mapping or Session().to_dict(), sorted(types)


def placeholders_for_known(text: str, session: Session) -> str:
    """``text`` with every value the session knows replaced by its placeholder.

    The answer is judged as the model wrote it, placeholders and all (they are neutral
    words to the judge), so the grounding it is judged against must say the same things
    the same way: a user's e-mail in the context becomes ``{{email:1}}`` there too.
    """
    values = sorted(((e["value"], ph) for ph, e in session.entries.items() if e.get("value")), key=lambda v: -len(v[0]))
    for value, ph in values:
        text = text.replace(value, ph)
    return text


class SentenceCutter:
    """Whole sentences out of text that arrives in arbitrary chunks.

    A sentence is final once the next one has begun (or the text ends); each comes out
    alone, with the whitespace after it, so every step after this sees the same pieces
    whatever the chunking. A run of ``_MAX_HELD`` characters with no sentence end is cut at
    its last line break or space, so a code block cannot hold the answer back forever.
    """

    def __init__(self) -> None:
        self._buf = ""

    def feed(self, chunk: str) -> list[str]:
        self._buf += chunk
        spans = sentence_spans(self._buf)
        pieces = self._pieces(spans[:-1], spans[-1][0] if spans else 0)
        if not pieces and len(self._buf) > _MAX_HELD:
            cut = max(self._buf.rfind("\n", 0, _MAX_HELD), self._buf.rfind(" ", 0, _MAX_HELD)) + 1 or _MAX_HELD
            pieces, self._buf = [self._buf[:cut]], self._buf[cut:]
        return pieces

    def finish(self) -> list[str]:
        spans = sentence_spans(self._buf)
        pieces = self._pieces(spans, len(self._buf))
        if self._buf:  # whitespace only
            pieces.append(self._buf)
            self._buf = ""
        return pieces

    def _pieces(self, spans: list[tuple[int, int]], end: int) -> list[str]:
        if not spans:
            return []
        starts = [0] + [a for a, _ in spans[1:]] + [end]
        pieces = [self._buf[starts[i]:starts[i + 1]] for i in range(len(spans))]
        self._buf = self._buf[end:]
        return [p for p in pieces if p]


class AnswerGuard:
    """One answer (one choice) on its way back to the client; see the module doc.

    ``feed`` and ``finish`` return the text the client may see now. ``verdict`` says
    afterwards what happened (after ``settle``): halted (why, the withheld sentence, its
    evidence), warnings, output protection, placeholders restored.
    """

    def __init__(self, session: Session, policy: Policy, names: NamesFn, *, judge: ClaimStream | None = None,
                 revoked: Any = None) -> None:
        self.policy = policy
        self._names = names
        self._judge = judge
        mode = policy.output_protection.mode
        # Strict protection changes the text, so each whole sentence is checked before it goes on
        # (with a judge too, which then sees a sentence end one sentence later); monitor only
        # reports, so it reads whole sentences on the side and never holds the answer back. The
        # judge cuts its own sentences (it knows one ended when the next begins).
        self._protect = mode == "strict"
        self._cutter = SentenceCutter() if self._protect else None
        self._watch = SentenceCutter() if mode == "monitor" else None
        self._reports: list[asyncio.Task[str]] = []
        self._restore = StreamingRehydrator(session, revoked)
        self.halt: dict[str, Any] | None = None
        self.judged = 0  # sentences the model judged (what the key is charged for)
        self.warnings: list[dict[str, Any]] = []
        self.protection: dict[str, Any] = {"action": "none", "types": []}

    @property
    def halted(self) -> bool:
        return self.halt is not None

    def _monitor(self, pieces: list[str]) -> None:
        self._reports += [asyncio.ensure_future(self._protected(p)) for p in pieces]

    async def settle(self) -> None:
        """Wait for the side reports (monitor-mode protection) so ``verdict`` has them all."""
        if self._watch is not None:
            self._monitor(self._watch.finish())
        if self._reports:
            await asyncio.gather(*self._reports)
            self._reports = []

    async def feed(self, chunk: str) -> str:
        if self.halted or not chunk:
            return ""
        if self._watch is not None:
            self._monitor(self._watch.feed(chunk))
        if self._cutter is None:
            return self._restore.feed(self._frames(await self._judge.feed(chunk)) if self._judge is not None else chunk)
        return await self._sentences(self._cutter.feed(chunk))

    async def finish(self) -> str:
        if self.halted:
            return ""
        out = await self._sentences(self._cutter.finish()) if self._cutter is not None else ""
        if not self.halted and self._judge is not None:
            out += self._restore.feed(self._frames(await self._judge.end()))
        return out + ("" if self.halted else self._restore.finish())

    async def _sentences(self, pieces: list[str]) -> str:
        """Whole sentences of the model's own text: protected, judged (placeholders and all), restored."""
        out = []
        for piece in pieces:
            if self.halted:
                break
            if self._protect:
                piece = await self._protected(piece)
                if self.halted:
                    break
            released = self._frames(await self._judge.feed(piece)) if self._judge is not None else piece
            out.append(self._restore.feed(released))
        return "".join(out)

    async def _protected(self, piece: str) -> str:
        try:
            res = protect_output(piece, self.policy, await self._names(self.policy, piece))
        except BlockedOutput as exc:
            types = sorted({f.type for f in exc.findings})
            self.protection = {"action": "block", "types": sorted({*self.protection["types"], *types})}
            self.halt = {"reason": "output_blocked", "message": "the answer contains personal data the model produced itself",
                         "withheld": None, "evidence": None, "types": types}
            return ""
        if res.findings:
            types = sorted({*self.protection["types"], *(f.type for f in res.findings)})
            self.protection = {"action": res.action, "types": types}
        return res.text

    def _frames(self, frames: list[dict[str, Any]]) -> str:
        out = []
        for f in frames:
            kind = f["type"]
            if kind == "release":
                out.append(f["text"])
            elif kind == "score" and f.get("value") is not None:
                self.judged += 1
            elif kind == "warning":
                ev = f.get("evidence") or {}
                self.warnings.append({"reason": f.get("reason"), "message": f.get("message"),
                                      "sentence": self._plain(ev.get("sentence")), "verdict": ev.get("verdict")})
            elif kind == "halt" and self.halt is None:
                ev = f.get("evidence") or {}
                self.halt = {"reason": f.get("reason"), "message": f.get("message"), "withheld": self._plain(ev.get("sentence")),
                             "verdict": ev.get("verdict"), "support": ev.get("support"),
                             "evidence": self._plain(ev.get("evidence")), "contradiction": ev.get("contradiction")}
        return "".join(out)

    def _plain(self, text: str | None) -> str | None:
        """A judged text as the client knows it: its placeholders put back."""
        return None if text is None else rehydrate(text, self._restore.session, self._restore.revoked).text

    def verdict(self) -> dict[str, Any]:
        return {"halted": self.halted, **(self.halt or {}), "warnings": self.warnings,
                "output_protection": self.protection, "restored": self._restore.restored, "judged": self.judged}
