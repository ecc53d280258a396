"""Personal data: detect, transform (pseudonymise), rehydrate, and rehydrate a stream."""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from haltguard.host import schemas as S
from haltguard.host.audit import text_digest
from haltguard.host.auth import Principal
from haltguard.host.deps import get_state, scoped
from haltguard.host.errors import ApiError
from haltguard.host.operations import op_detect, op_rehydrate, op_transform, open_for_rehydrate
from haltguard.host.state import HostState
from haltguard.kernel.pseudonymize import StreamingRehydrator

router = APIRouter(tags=["pii"])


class DuplexStreamingResponse(StreamingResponse):
    """A streaming response that may keep reading the request body while it streams.

    Starlette's StreamingResponse (under ASGI < 2.4) polls ``receive`` for a disconnect in
    parallel, which steals the body chunks a streaming endpoint still has to read. This
    one only sends; a vanished client shows up as a failed send.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.stream_response(send)
        except OSError:
            from starlette.requests import ClientDisconnect

            raise ClientDisconnect() from None


async def _linger(body: AsyncIterator[bytes], most: int, seconds: float = 2.0) -> None:
    """Read (and drop) a little more of a body the route stopped using, then let the connection close.

    Closing a socket that still has unread input makes the kernel reset it, and a client that is
    still uploading may then lose the last events it was sent (the error that says why). A bounded
    read lets them arrive first; the body is never drained beyond ``most`` bytes or ``seconds``.
    """
    read = 0
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        async for raw in body:
            read += len(raw)
            if read > most or asyncio.get_running_loop().time() > deadline:
                return
    except Exception:  # noqa: BLE001 - the client went away: nothing left to protect
        return


@router.post("/v1/detect", response_model=S.DetectResponse)
async def detect(req: S.DetectRequest, principal: Principal = scoped("detect"),
                 state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Findings (type, span, score) and the prompt-security verdict."""
    return await op_detect(state, principal, req)


@router.post("/v1/transform", response_model=S.TransformResponse)
async def transform(req: S.TransformRequest, principal: Principal = scoped("transform"),
                    state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Pseudonymise the input; the mapping comes back sealed in ``session_state``."""
    return await op_transform(state, principal, req)


@router.post("/v1/rehydrate", response_model=S.RehydrateResponse)
async def rehydrate(req: S.RehydrateRequest, principal: Principal = scoped("rehydrate"),
                    state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Put the original values back into an LLM output."""
    return await op_rehydrate(state, principal, req)


@router.post("/v1/rehydrate/stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}})
async def rehydrate_stream(request: Request, principal: Principal = scoped("rehydrate"),
                           state: HostState = Depends(get_state)) -> StreamingResponse:
    """Stream the output in the request body (any chunking); get SSE ``data:`` events back.

    The session comes in the ``X-Session-State`` header. Events never contain part of a
    placeholder; the last event (``event: done``) carries the counts.
    """
    session_state = request.headers.get("x-session-state")
    if not session_state:  # the body is never read: close instead of draining it
        raise ApiError(400, "missing_session_state", "send the session in the X-Session-State header",
                       headers={"Connection": "close"})
    sess, session, revoked = await open_for_rehydrate(state, principal, session_state)
    r = StreamingRehydrator(session, revoked)

    async def events() -> AsyncIterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        limit, seen = state.config.server.max_body_bytes, 0
        body = request.stream()
        try:
            async for raw in body:
                seen += len(raw)
                if seen > limit:  # a stream that outgrows the limit ends with an error event, not a cut
                    yield f"event: error\ndata: {json.dumps({'code': 'stream_too_long', 'message': f'more than {limit} bytes'})}\n\n"
                    await _linger(body, limit)
                    return
                text = r.feed(decoder.decode(raw))
                if text:
                    yield f"data: {json.dumps({'text': text})}\n\n"
            tail = r.feed(decoder.decode(b"", final=True)) + r.finish()
            if tail:
                yield f"data: {json.dumps({'text': tail})}\n\n"
            done = {"restored": r.restored, "deleted": r.deleted, "unknown_placeholders": r.unknown}
            yield f"event: done\ndata: {json.dumps(done)}\n\n"
        except UnicodeDecodeError:
            yield f"event: error\ndata: {json.dumps({'code': 'invalid_utf8', 'message': 'the body is not UTF-8'})}\n\n"
        state.audit_write("rehydrate_stream", principal, session=text_digest(sess.session_id),
                          restored=r.restored, deleted=r.deleted)

    # the connection closes after the stream: a body cut off at the limit is never drained
    return DuplexStreamingResponse(events(), media_type="text/event-stream",
                                   headers={"Cache-Control": "no-store", "Connection": "close"})
