"""Refuse oversize bodies before anything parses them.

A pure ASGI middleware: a declared ``Content-Length`` over the limit is answered with 413
at once; a chunked body is counted as it streams and cut off with 413 the moment it
passes the limit (or, if the response already started, the connection is dropped).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from starlette.exceptions import HTTPException

__all__ = ["BodyLimitMiddleware"]


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it through (it turns others into 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_bytes: int, on_refuse: Callable[[], None] | None = None) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.on_refuse = on_refuse or (lambda: None)

    async def _refuse(self, send: Any) -> None:
        self.on_refuse()
        body = json.dumps({"error": {"code": "body_too_large",
                                     "message": f"the request body exceeds {self.max_bytes} bytes", "details": None}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    return await self._refuse(send)
        seen = 0
        started = False

        async def counting_receive() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return msg

        async def tracking_send(msg: Any) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)
