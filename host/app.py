"""The FastAPI application, assembled: state, lifespan, error envelope, middleware, routers, demo.

Routes live in ``haltguard.host.routers`` (one module per area), the operations they share
with ``/v1/batch`` in ``haltguard.host.operations``, authentication and rate limiting in
``haltguard.host.deps`` (FastAPI dependencies a test may override).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import EllipsisType

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from haltguard.host import schemas as S
from haltguard.host.config import HostConfig
from haltguard.host.demo import mount_demo
from haltguard.host.engines import LoadedEngine
from haltguard.host.errors import install_error_handlers
from haltguard.host.middleware import BodyLimitMiddleware, MetricsMiddleware, RequestIdMiddleware
from haltguard.host.names import NameService
from haltguard.host.routers import ops, pii, proxy, scoring, sessions, stream
from haltguard.host.state import HostState
from haltguard.kernel._version import __version__

__all__ = ["create_app"]

_ERRORS = {code: {"model": S.ErrorResponse} for code in (401, 403, 413, 429)}


def create_app(config: HostConfig | None = None, *, env: dict[str, str] | None = None,
               engine: LoadedEngine | None = None, names: NameService | None | EllipsisType = ...) -> FastAPI:
    """The host app; ``engine`` is a scorer and ``names`` the name model (None: disabled) loaded
    beforehand (else they load at startup)."""
    config = config or HostConfig()
    state = HostState(config, env, engine, names)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(title="haltguard host", version=__version__, lifespan=lifespan, responses=_ERRORS,  # type: ignore[arg-type]
                  description="Guardrails for LLM applications: PII transform/rehydrate, NLI scoring, "
                              "response review and halted streaming.")
    app.state.host = state
    install_error_handlers(app, state.metrics)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.server.max_body_bytes,
                       on_refuse=lambda: state.metrics.errors.labels("body_too_large").inc(),
                       streamed=("/v1/rehydrate/stream",))
    if config.server.cors_origins:  # an allow-list, never "*": keys travel in headers
        app.add_middleware(CORSMiddleware, allow_origins=config.server.cors_origins, allow_methods=["GET", "HEAD", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Session-State",
                                          "X-Haltguard-Session", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "X-Haltguard-Session", "Retry-After"], max_age=600)
    app.add_middleware(RequestIdMiddleware)  # outermost: refusals carry the id too
    for r in (ops, pii, scoring, sessions, stream, proxy):
        app.include_router(r.router)
    if config.server.demo:
        mount_demo(app, config)
    return app
