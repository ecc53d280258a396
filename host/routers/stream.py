"""The guarded stream over a WebSocket (protocol in docs/host.md: start → chunk* → end; frames back)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError

from haltguard.host.audit import text_digest
from haltguard.host.auth import AuthError, KeyRing
from haltguard.host.deps import get_state, presented_key
from haltguard.host.operations import need_scoring, pay_for_judging
from haltguard.kernel.driver import ClaimStream, word_tokens
from haltguard.kernel.errors import FieldError
from haltguard.kernel.presets import resolve_halt
from haltguard.kernel.windows import premise_chunk_spans

router = APIRouter()


def _encodable(msg: dict[str, Any]) -> bool:
    """Whether every string the stream uses can be written back as UTF-8 (JSON allows lone surrogates)."""
    for key in ("context", "text"):
        v = msg.get(key)
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


@router.websocket("/v1/stream")
async def stream(ws: WebSocket) -> None:
    """Guarded stream: each sentence is judged like ``/v1/review`` before it is released."""
    state = get_state(ws)
    key = presented_key(ws) or ws.query_params.get("api_key")
    try:
        principal = state.keyring.authenticate(key)
        KeyRing.require(principal, "stream")
    except AuthError as exc:  # accept, then close with a code: browsers cannot read a refused handshake
        await ws.accept()
        await ws.close(code=4401 if exc.status == 401 else 4403, reason=exc.code)
        return
    if state.limiter is not None:
        allowed, _ = await state.limiter.take(principal.key_id)
        if not allowed:
            state.metrics.rate_limited.inc()
            await ws.accept()
            await ws.close(code=4429, reason="rate_limited")
            return
    await ws.accept()
    driver: ClaimStream | None = None
    driver_windows = 0
    max_chars = state.config.server.max_text_chars
    received = 0

    async def send(frames: list[dict[str, Any]]) -> bool:
        """Send the frames; False when the judging they cost went past the key's rate limit (closed)."""
        for f in frames:
            if f["type"] == "halt":
                state.metrics.halts.labels(f["reason"]).inc()
            await ws.send_json(f)
        judged = sum(1 for f in frames if f["type"] == "score" and f["value"] is not None)
        # each judged sentence is model work: a stream cannot outrun its key's budget
        if judged and not await pay_for_judging(state, principal, judged, driver_windows):
            await ws.send_json({"type": "error", "code": "rate_limited", "message": "rate limit exceeded"})
            await ws.close(code=4429, reason="rate_limited")
            return False
        return True

    async def fail(code: str, message: str) -> None:
        await ws.send_json({"type": "error", "code": code, "message": message})
        await ws.close(code=4400, reason=code)

    try:
        while True:
            event = await ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            raw = event.get("text")
            if raw is None:
                return await fail("binary_frame", "send JSON in text frames")
            received += len(raw)
            if received > max_chars * 2:
                return await fail("stream_too_long", f"more than {max_chars * 2} characters received")
            try:
                msg = json.loads(raw)
            except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
                msg = None
            if not isinstance(msg, dict):
                return await fail("invalid_json", "every message must be a JSON object")
            if not _encodable(msg):
                return await fail("invalid_text", "texts must be valid Unicode (no lone surrogates)")
            kind = msg.get("type")
            if kind == "start":
                if driver is not None:
                    return await fail("already_started", "the stream was already started")
                context = msg.get("context")
                if not isinstance(context, str) or not context.strip():
                    return await fail("no_context", "start needs a non-empty context string")
                scoring = need_scoring(state)
                docs = scoring.documents  # each claim scores its best max_windows of these: bound the set itself
                if len(premise_chunk_spans(context, "", docs.count_tokens, docs.point.max_length)) > state.config.server.max_review_pairs:
                    return await fail("context_too_large", "the context has more evidence windows than server.max_review_pairs")
                try:
                    sent = msg.get("halt")
                    halt = state.default_halt if sent is None else resolve_halt(sent, threshold=scoring.engine.threshold)
                except (FieldError, TypeError, ValueError) as exc:
                    return await fail("invalid_halt_config", str(exc))
                driver = ClaimStream(scoring.documents.claim_judge(scoring.score_pairs), context, halt)
                driver_windows = scoring.documents.point.max_windows
                await ws.send_json({"type": "started", "config": halt.to_dict(), "model": scoring.engine.model_id})
                text = msg.get("text")
                if isinstance(text, str):  # the host streams a whole answer itself
                    for tok in word_tokens(text):
                        if not await send(await driver.feed(tok)):
                            return
                    if not await send(await driver.end()):
                        return
                    state.audit_write("stream", principal, text=text_digest(text), halted=driver.kernel.halted)
                    await ws.close()
                    return
            elif kind == "chunk":
                if driver is None:
                    return await fail("not_started", "send a start message first")
                text = msg.get("text")
                if not isinstance(text, str):
                    return await fail("invalid_chunk", "chunk needs a text string")
                if not await send(await driver.feed(text)):
                    return
            elif kind == "end":
                if driver is None:
                    return await fail("not_started", "send a start message first")
                if not await send(await driver.end()):
                    return
                state.audit_write("stream", principal, halted=driver.kernel.halted)
                await ws.close()
                return
            else:
                return await fail("unknown_message", f"unknown message type {kind!r}")
    except WebSocketDisconnect:
        return
    except RedisError:  # a store is down: the stream cannot be guarded safely, so it ends (retry later)
        state.metrics.errors.labels("dependency_unavailable").inc()
        await ws.close(code=1013, reason="dependency_unavailable")
