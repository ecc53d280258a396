"""Pure ASGI middlewares: body limits, metrics, extra headers (none buffers a body).

Body limits: a declared ``Content-Length`` over the limit is answered with 413
at once; a chunked body is counted as it streams and cut off with 413 the moment it
passes the limit (or, if the response already started, the connection is dropped).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException

from haltguard.host.errors import error_body

__all__ = ["BodyLimitMiddleware", "MetricsMiddleware", "HeadersMiddleware", "RequestIdMiddleware", "REQUEST_ID"]

REQUEST_ID = "x-request-id"
_REQUEST_ID_OK = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it through (it turns others into 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    """``streamed``: paths whose body is a stream the route reads and limits itself (it can still
    answer with an error event once its response has begun; this middleware could only cut it)."""

    def __init__(self, app: Any, max_bytes: int, on_refuse: Callable[[], None] | None = None,
                 streamed: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes, self.streamed = app, max_bytes, streamed
        self.on_refuse = on_refuse or (lambda: None)

    async def _refuse(self, send: Any) -> None:
        self.on_refuse()
        body = json.dumps(error_body("body_too_large", f"the request body exceeds {self.max_bytes} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in self.streamed:
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


class MetricsMiddleware:
    """Latency histogram and request counter per route template (pure ASGI: no body buffering)."""

    def __init__(self, app: Any, metrics: Any) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [500]

        async def tracking_send(msg: Any) -> None:
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("/bundle" if scope["path"].startswith("/bundle/") else "unmatched")
            self.metrics.latency.labels(name).observe(time.perf_counter() - t0)
            self.metrics.requests.labels(name, str(status[0])).inc()


class HeadersMiddleware:
    """Extra response headers for paths with a given prefix (COOP/COEP for the demo bundle)."""

    def __init__(self, app: Any, headers: dict[str, str], prefixes: tuple[str, ...], exact: tuple[str, ...] = ()) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.prefixes, self.exact = prefixes, exact

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path in self.exact or path.startswith(self.prefixes)):
            return await self.app(scope, receive, send)

        async def add(msg: Any) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": list(msg.get("headers", [])) + self.raw}
            await send(msg)

        await self.app(scope, receive, add)


class RequestIdMiddleware:
    """Every HTTP answer carries ``X-Request-ID``: the caller's (when it is a plain token of at most
    128 characters) or a new one, so a client, a load balancer and the host's logs can name the
    same request. The id is in ``scope["state"]["request_id"]`` for the app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v for k, v in scope.get("headers", ()) if k == REQUEST_ID.encode()), None)
        rid = given if given is not None and _REQUEST_ID_OK.match(given) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = rid.decode()

        async def add(msg: Any) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": [*(h for h in msg.get("headers", []) if h[0] != REQUEST_ID.encode()),
                                          (REQUEST_ID.encode(), rid)]}
            await send(msg)

        await self.app(scope, receive, add)
