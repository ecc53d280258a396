"""Operations: liveness, readiness, Prometheus metrics and ``/v1/batch``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from haltguard.host import schemas as S
from haltguard.host.auth import KeyRing, Principal
from haltguard.host.deps import authenticate, charge, get_limiter, get_state, scoped
from haltguard.host.errors import ApiError, error_body
from haltguard.host.operations import OPS
from haltguard.host.state import HostState

router = APIRouter(tags=["ops"])


@router.get("/v1/health", response_model=S.Health)
async def health() -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.head("/v1/health", include_in_schema=False)
async def health_head() -> Response:
    """Liveness for probes that send HEAD."""
    return Response(status_code=200)


@router.get("/v1/ready", response_model=S.Ready, responses={503: {"model": S.Ready}})
async def ready(state: HostState = Depends(get_state)) -> Any:
    """Readiness: the model is loaded and Redis (when configured) answers.

    A host serving the heuristic in place of its model says so (``model.fallback_reason``);
    it only does when the operator configured ``scorer.fallback: heuristic``.
    """
    redis_state = "not_configured"
    if state.redis is not None:
        try:
            redis_state = "ok" if await state.redis.ping() else "down"
        except Exception:  # noqa: BLE001 - any failure means not ready
            redis_state = "down"
    model: dict[str, Any] = {"loaded": state.scoring is not None}
    if state.scoring is not None and state.loaded is not None:
        engine = state.scoring.engine
        model.update(engine.description, id=engine.model_id, threshold=engine.threshold,
                     number_penalty=engine.point.number_penalty, source=state.loaded.model_source,
                     fallback_reason=state.fallback_reason)
    ok = state.scoring is not None and redis_state != "down"
    names = {"loaded": True, **state.names.description} if state.names is not None else {"loaded": False}
    body = {"ready": ok, "model": model, "names": names, "redis": redis_state}
    return JSONResponse(body, 200 if ok else 503)


@router.get("/v1/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(principal: Principal = scoped("metrics"), state: HostState = Depends(get_state)) -> Response:
    """Prometheus exposition."""
    return Response(state.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.post("/v1/batch", response_model=S.BatchResponse)
async def batch(req: S.BatchRequest, request: Request, principal: Principal = Depends(authenticate),
                limiter: Any = Depends(get_limiter), state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Several operations in one request; each item needs its own scope and counts against the rate limit."""
    if len(req.items) > state.config.server.max_batch_items:
        raise ApiError(413, "too_many_items", f"{len(req.items)} items (limit {state.config.server.max_batch_items})")
    for item in req.items:
        KeyRing.require(principal, OPS[item.op][0])
    await charge(state, limiter, principal, float(len(req.items)))
    results = []
    for item in req.items:
        _, model, fn = OPS[item.op]
        try:
            body = await fn(state, principal, model.model_validate(item.body))
            results.append({"status": 200, "body": body})
        except ValidationError as exc:
            results.append({"status": 422, "body": error_body("invalid_request", str(exc.errors()[:3]))})
        except ApiError as exc:
            results.append({"status": exc.status, "body": exc.body()})
    return {"results": results}
