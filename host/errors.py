"""One error envelope for every refusal: ``{"error": {"code", "message", "details"}}``.

Routes raise :class:`ApiError` (or the auth layer's ``AuthError``); the handlers installed by
:func:`install_error_handlers` turn those, schema errors and stray HTTP errors into the
envelope with a stable machine-readable code, so nothing a client sends produces a 500.
:func:`blocked` is the one shape of "the guard refused this content" (input entities, a
prompt injection, personal data in an output).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from haltguard.host.auth import AuthError
from haltguard.host.metrics import HostMetrics

__all__ = ["ApiError", "error_body", "error_response", "openai_error_body", "blocked", "install_error_handlers", "OPENAI_PATHS"]

log = logging.getLogger("haltguard.host")


class ApiError(Exception):
    """A refusal with its HTTP status, stable code, message and optional details/headers."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The envelope itself (also used by the body-limit middleware and /v1/batch items)."""
    return {"error": {"code": code, "message": message, "details": details}}


# The OpenAI-compatible routes answer errors in OpenAI's shape too: the same envelope plus
# ``type`` and ``param``, so the openai SDK raises its usual exception with our message.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")
_OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
                 422: "invalid_request_error", 429: "rate_limit_error"}


def openai_error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    param = details.get("param") if isinstance(details, dict) else None
    return {"error": {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"), "param": param, "code": code,
                      "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None, request: Request | None = None) -> JSONResponse:
    if request is not None and request.url.path in OPENAI_PATHS:
        return JSONResponse(openai_error_body(status, code, message, details), status, headers=headers)
    return JSONResponse(error_body(code, message, details), status, headers=headers)


def blocked(code: str, message: str, **details: Any) -> ApiError:
    """422 for content the policy refuses: ``input_blocked``, ``prompt_blocked``, ``output_blocked``."""
    return ApiError(422, code, message, details)


def install_error_handlers(app: FastAPI, metrics: HostMetrics) -> None:
    m = metrics

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        m.errors.labels(exc.code).inc()
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers, request)

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        m.errors.labels(exc.code).inc()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, str(exc), headers=headers, request=request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            m.errors.labels("invalid_json").inc()
            return error_response(400, "invalid_json", "the body is not valid JSON", request=request)
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errs]
        m.errors.labels("invalid_request").inc()
        return error_response(422, "invalid_request", "the request does not match the schema", details, request=request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "invalid_body", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(exc.status_code, "http_error")
        m.errors.labels(code).inc()
        msg = "the body is not valid UTF-8 JSON" if exc.status_code == 400 else str(exc.detail)
        return error_response(exc.status_code, code, msg, request=request)

    @app.exception_handler(RedisError)
    async def _redis(request: Request, exc: RedisError) -> JSONResponse:
        # Redis holds revocations, rate limits and stored sessions: without it the host cannot
        # decide safely, so it refuses (503, retry later) instead of failing open or with a 500
        log.warning("redis unavailable: %s", type(exc).__name__)
        m.errors.labels("dependency_unavailable").inc()
        return error_response(503, "dependency_unavailable", "a store this host depends on (Redis) is unavailable; retry later",
                              headers={"Retry-After": "1"}, request=request)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("unhandled error")
        m.errors.labels("internal_error").inc()
        return error_response(500, "internal_error", "internal error (logged)")
