"""Authentication, scopes and rate limiting as FastAPI dependencies (tests may override them).

``authenticate`` turns the presented key into a ``Principal``; ``get_limiter`` gives the rate
limiter (None when off); ``scoped(scope)`` combines them for a route. A test replaces either
through ``app.dependency_overrides`` and exercises a route without keys or limits.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.requests import HTTPConnection

from haltguard.host.auth import KeyRing, Principal
from haltguard.host.errors import ApiError
from haltguard.host.ratelimit import retry_after_header
from haltguard.host.state import HostState

__all__ = ["get_state", "presented_key", "authenticate", "get_limiter", "charge", "scoped"]


def get_state(conn: HTTPConnection) -> HostState:
    state: HostState = conn.app.state.host
    return state


def presented_key(conn: HTTPConnection) -> str | None:
    """``Authorization: Bearer <key>`` or ``X-API-Key``."""
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return conn.headers.get("x-api-key")


# Declared so that the OpenAPI document names the two ways a key is presented (Swagger UI's
# "Authorize"); the key itself is read by ``presented_key``, which also serves WebSockets.
_BEARER = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer <key>")
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key in X-API-Key")


async def authenticate(conn: HTTPConnection, state: HostState = Depends(get_state),
                       _b: Any = Security(_BEARER), _k: Any = Security(_API_KEY)) -> Principal:
    return state.keyring.authenticate(presented_key(conn))


def get_limiter(state: HostState = Depends(get_state)) -> Any:
    return state.limiter


async def charge(state: HostState, limiter: Any, principal: Principal, cost: float = 1.0) -> None:
    """Take ``cost`` tokens from the key's bucket or refuse with 429 and ``Retry-After``."""
    if limiter is None:
        return
    allowed, retry = await limiter.take(principal.key_id, cost)
    if not allowed:
        state.metrics.rate_limited.inc()
        raise ApiError(429, "rate_limited", "rate limit exceeded", {"retry_after_s": round(retry, 3)},
                       {"Retry-After": retry_after_header(retry)})


def scoped(scope: str) -> Any:
    """A route dependency: an authenticated principal holding ``scope``, charged one request."""
    async def dep(principal: Principal = Depends(authenticate), limiter: Any = Depends(get_limiter),
                  state: HostState = Depends(get_state)) -> Principal:
        KeyRing.require(principal, scope)
        await charge(state, limiter, principal)
        return principal

    return Depends(dep)
