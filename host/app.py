"""The FastAPI application: wiring of config, auth, limits, sessions, scoring and metrics.

Every operation is an ``async def op_*`` that takes the principal and a validated request
and returns a plain dict; routes and ``/v1/batch`` both call these, so a batch item behaves
exactly like the single request. Every refusal is an ``ApiError`` with a stable
machine-readable code; nothing a client sends may produce a 500.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import json
import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from haltguard.host import schemas as S
from haltguard.host.audit import AuditLog, text_digest
from haltguard.host.auth import AuthError, KeyRing, Principal
from haltguard.host.config import HostConfig
from haltguard.host.engines import ScoringService, load_engine
from haltguard.host.middleware import BodyLimitMiddleware, MetricsMiddleware
from haltguard.host.metrics import HostMetrics
from haltguard.host.ratelimit import MemoryRateLimiter, RedisRateLimiter, retry_after_header
from haltguard.host.review import review
from haltguard.host.revocation import FileRevocation, MemoryRevocation, RedisRevocation
from haltguard.host.sealing import SealError, SessionSealer, derive_key
from haltguard.kernel.claims import premise_windows
from haltguard.kernel.config import ConfigError, HaltConfig
from haltguard.kernel.driver import ClaimStream, word_tokens
from haltguard.kernel.errors import FieldError
from haltguard.kernel.guard import detect_json, transform_json
from haltguard.kernel.policy import OutputProtectionRule, Policy, PromptSecurityRule
from haltguard.kernel.sentences import sentence_spans
from haltguard.kernel.pseudonymize import BlockedInput, BlockedOutput, Session, StreamingRehydrator, protect_output, rehydrate

__all__ = ["create_app", "ApiError", "HostState"]

log = logging.getLogger("haltguard.host")
REF_PREFIX = "hgref."


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


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


def _error_response(status: int, code: str, message: str, details: Any = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status, headers=headers)


def _default_model_dir() -> Path:
    from haltguard.paths import REPO

    return REPO / "models" / "default"


class HostState:
    """Everything a request needs, built once per app from the config."""

    def __init__(self, config: HostConfig, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.metrics = HostMetrics()
        self.keyring = KeyRing(config.auth, env)
        keys = [(k.kid, k.secret) for k in config.session.keys]
        self.dev_secret = not keys
        if self.dev_secret:
            keys = [("dev", secrets.token_urlsafe(48))]
        self.sealer = SessionSealer(keys, config.session.ttl_s)
        rev_secret = config.revocation.hmac_secret
        self._hmac_key = (derive_key(rev_secret, "revocation", "revocation-hmac") if rev_secret
                          else derive_key(keys[-1][1], keys[-1][0], "revocation-hmac"))
        self.redis: Any = None
        self.revocation: Any = None
        self.limiter: Any = None
        self.audit = AuditLog(config.audit.path) if config.audit.path else None
        self.policies = self._load_policies()
        self.scoring: ScoringService | None = None
        self.engine_fallback: str | None = None
        self.default_halt = HaltConfig.from_dict(config.halt.config)

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        c = self.config
        if c.redis.url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(c.redis.url, decode_responses=True, socket_timeout=5)
        if c.revocation.backend == "redis":
            self.revocation = RedisRevocation(self._hmac_key, self.redis, c.redis.prefix)
        elif c.revocation.backend == "file":
            self.revocation = FileRevocation(self._hmac_key, c.revocation.path or "")
        else:
            self.revocation = MemoryRevocation(self._hmac_key)
        if c.rate_limit.enabled:
            if c.rate_limit.backend == "redis":
                self.limiter = RedisRateLimiter(self.redis, c.rate_limit.rate, c.rate_limit.burst, c.redis.prefix)
            else:
                self.limiter = MemoryRateLimiter(c.rate_limit.rate, c.rate_limit.burst)
        loop = asyncio.get_running_loop()
        engine, self.engine_fallback = await loop.run_in_executor(None, load_engine, c.scorer, _default_model_dir())
        self.metrics.model_loaded.labels(engine.description["engine"]).set(1)
        self.scoring = ScoringService(
            engine, c.scorer,
            on_batch=self.metrics.batch_size.observe,
            on_cache=lambda hit: self.metrics.cache.labels("hit" if hit else "miss").inc(),
        )
        await self.scoring.start()
        if self.dev_secret:
            log.warning("*" * 72)
            log.warning("haltguard: NO session.keys CONFIGURED - using a random DEV secret.")
            log.warning("Sealed sessions die with this process. NOT FOR PRODUCTION.")
            log.warning("*" * 72)
        if c.auth.open_access:
            log.warning("haltguard: auth.open_access is on - every route is open to anyone who can reach it")
        elif len(self.keyring) == 0:
            log.warning("haltguard: no API keys configured - /v1 routes (except health/ready) refuse every request; "
                        "set HALTGUARD_API_KEYS=name:key[:scope+scope] or auth.keys in the config")

    async def stop(self) -> None:
        if self.scoring is not None:
            await self.scoring.stop()
        if self.redis is not None:
            await self.redis.aclose()

    # --- policies ------------------------------------------------------------------------
    def _apply_overrides(self, p: Policy) -> Policy:
        ps, op = self.config.prompt_security, self.config.output_protection
        if ps.threshold is not None or ps.action is not None:
            p = dataclasses.replace(p, prompt_security=PromptSecurityRule(
                ps.action or p.prompt_security.action, ps.threshold if ps.threshold is not None else p.prompt_security.threshold))
        if op.mode is not None or op.action is not None:
            p = dataclasses.replace(p, output_protection=OutputProtectionRule(
                op.mode or p.output_protection.mode, op.action or p.output_protection.action))
        return p

    def _load_policies(self) -> dict[str, Policy]:
        out = {"default": self._apply_overrides(Policy())}
        d = self.config.detector.policies_dir
        if d:
            import yaml

            for f in sorted(Path(d).glob("*")):
                if f.suffix not in (".json", ".yaml", ".yml"):
                    continue
                raw = json.loads(f.read_text("utf-8")) if f.suffix == ".json" else yaml.safe_load(f.read_text("utf-8"))
                try:
                    out[f.stem] = self._apply_overrides(Policy.from_dict({"name": f.stem, **raw}))
                except FieldError as exc:
                    raise ValueError(f"policy file {f}: {exc}") from None
        default = self.config.detector.default_policy
        if default:
            if default not in out:
                raise ValueError(f"detector.default_policy {default!r} is not in {d}")
            out["default"] = out[default]
        return out

    def policy(self, ref: str | dict[str, Any] | None) -> tuple[Policy, str]:
        if ref is None:
            return self.policies["default"], "default"
        if isinstance(ref, str):
            p = self.policies.get(ref)
            if p is None:
                raise ApiError(400, "unknown_policy", f"no policy named {ref!r}", {"known": sorted(self.policies)})
            return p, ref
        try:
            return self._apply_overrides(Policy.from_dict(ref)), "inline"
        except FieldError as exc:
            raise ApiError(422, "invalid_policy", str(exc), {"field": getattr(exc, "field", None)}) from None
        except (TypeError, ValueError) as exc:
            raise ApiError(422, "invalid_policy", str(exc)) from None

    # --- sessions --------------------------------------------------------------------------
    async def seal(self, mapping: dict[str, Any], tenant: str, session_id: str | None, policy: str) -> tuple[str, Any]:
        blob, sess = self.sealer.seal(mapping, tenant=tenant, session_id=session_id, policy=policy)
        if self.config.session.store == "redis":
            await self.redis.set(f"{self.config.redis.prefix}session:{sess.session_id}", blob, ex=self.config.session.ttl_s)
            return REF_PREFIX + sess.session_id, sess
        return blob, sess

    async def open(self, state: str, tenant: str) -> Any:
        if state.startswith(REF_PREFIX):
            if self.config.session.store != "redis":
                raise ApiError(400, "session_malformed", "session references need session.store = redis")
            blob = await self.redis.get(f"{self.config.redis.prefix}session:{state[len(REF_PREFIX):]}")
            if blob is None:
                raise ApiError(404, "session_not_found", "no stored session with this id (expired or never issued)")
            state = blob
        try:
            sess = self.sealer.unseal(state, tenant=tenant)
        except SealError as exc:
            status = {"session_expired": 410, "session_wrong_tenant": 403}.get(exc.code, 400)
            raise ApiError(status, exc.code, str(exc)) from None
        return sess

    def audit_write(self, event: str, principal: Principal, **fields: Any) -> None:
        if self.audit is not None:
            self.audit.write(event, key=principal.key_id, tenant=principal.tenant, **fields)


# --- operations: shared by the routes and /v1/batch ---------------------------------------------
def tenant_of(state: HostState, principal: Principal) -> str:
    return principal.tenant or state.config.session.default_tenant


def _check_text(state: HostState, text: str, field: str) -> None:
    if len(text) > state.config.server.max_text_chars:
        raise ApiError(413, "text_too_long", f"{field} has {len(text)} characters (limit {state.config.server.max_text_chars})")


async def op_detect(state: HostState, principal: Principal, req: S.DetectRequest) -> dict[str, Any]:
    _check_text(state, req.text, "text")
    policy, name = state.policy(req.policy)
    out = detect_json(req.text, policy)
    for f in out["findings"]:
        state.metrics.entities.labels(f["type"]).inc()
    state.metrics.prompt_verdicts.labels("flagged" if out["prompt_security"]["flagged"] else "clean").inc()
    state.audit_write("detect", principal, policy=name, text=text_digest(req.text),
                      types=sorted({f["type"] for f in out["findings"]}), prompt=out["prompt_security"]["action"])
    return out


async def op_transform(state: HostState, principal: Principal, req: S.TransformRequest) -> dict[str, Any]:
    _check_text(state, req.input, "input")
    tenant = tenant_of(state, principal)
    session_id, prior = None, None
    if req.session_state:
        sess = await state.open(req.session_state, tenant)
        if await state.revocation.session_revoked(sess.session_id):
            raise ApiError(403, "session_revoked", "this session was revoked")
        session_id, prior = sess.session_id, sess.mapping
    policy, name = state.policy(req.policy)
    try:
        out = transform_json(req.input, policy, prior)
    except BlockedInput as exc:
        types = sorted({f.type for f in exc.findings})
        state.audit_write("transform", principal, policy=name, decision="blocked_entities", types=types)
        raise ApiError(422, "input_blocked", "the input contains entities the policy blocks", {"types": types}) from None
    verdict = out["prompt_security"]
    state.metrics.prompt_verdicts.labels(verdict["action"] if verdict["flagged"] else "clean").inc()
    if not verdict["allowed"]:
        state.audit_write("transform", principal, policy=name, decision="blocked_prompt", text=text_digest(req.input))
        raise ApiError(422, "prompt_blocked", "the input was flagged as a prompt injection",
                       {k: verdict.get(k) for k in ("score", "flagged", "rules") if k in verdict})
    for e in out["entities"]:
        state.metrics.entities.labels(e["type"]).inc()
    blob, sess = await state.seal(out["session"], tenant, session_id, name)
    state.audit_write("transform", principal, policy=name, session=text_digest(sess.session_id),
                      text=text_digest(req.input), types=sorted({e["type"] for e in out["entities"]}))
    return {"safe_text": out["safe_text"], "session_id": sess.session_id, "session_state": blob,
            "expires_at": sess.expires_at, "entities": out["entities"], "prompt_security": verdict}


async def _open_for_rehydrate(state: HostState, principal: Principal, session_state: str) -> tuple[Any, Session, Any]:
    sess = await state.open(session_state, tenant_of(state, principal))
    if await state.revocation.session_revoked(sess.session_id):
        state.audit_write("rehydrate", principal, session=text_digest(sess.session_id), decision="session_revoked")
        raise ApiError(403, "session_revoked", "this session was revoked; it can no longer be rehydrated")
    try:
        session = Session.from_dict(sess.mapping)
    except ValueError as exc:
        raise ApiError(400, "session_malformed", str(exc)) from None
    gone = await state.revocation.revoked_values(e["value"] for e in session.entries.values())
    return sess, session, (lambda _t, v: v in gone) if gone else None


async def op_rehydrate(state: HostState, principal: Principal, req: S.RehydrateRequest) -> dict[str, Any]:
    _check_text(state, req.output, "output")
    sess, session, revoked = await _open_for_rehydrate(state, principal, req.session_state)
    policy = state.policies.get(sess.policy or "default", state.policies["default"])
    output, protection = req.output, None
    if policy.output_protection.mode != "off":
        try:
            pr = protect_output(output, policy)
        except BlockedOutput as exc:
            raise ApiError(422, "output_blocked", "the output contains personal data the model produced itself",
                           {"types": sorted({f.type for f in exc.findings})}) from None
        output = pr.text
        protection = {"action": pr.action, "types": sorted({f.type for f in pr.findings})}
    out = rehydrate(output, session, revoked).to_dict()
    out["output_protection"] = protection
    state.audit_write("rehydrate", principal, session=text_digest(sess.session_id), restored=out["restored"],
                      deleted=out["deleted"], unknown=len(out["unknown_placeholders"]))
    return out


def _need_scoring(state: HostState) -> ScoringService:
    if state.scoring is None:
        raise ApiError(503, "model_not_ready", "the scorer is still loading")
    return state.scoring


async def op_score(state: HostState, principal: Principal, req: S.ScoreRequest) -> dict[str, Any]:
    if len(req.pairs) > state.config.server.max_pairs:
        raise ApiError(413, "too_many_pairs", f"{len(req.pairs)} pairs (limit {state.config.server.max_pairs})")
    for p in req.pairs:
        _check_text(state, p.premise, "premise")
        _check_text(state, p.hypothesis, "hypothesis")
    scoring = _need_scoring(state)
    scores = await scoring.score_documents([(p.premise, p.hypothesis) for p in req.pairs])
    thr = scoring.engine.threshold
    state.audit_write("score", principal, pairs=len(scores))
    return {"scores": scores, "supported": [s >= thr for s in scores], "threshold": thr, "model": scoring.engine.model_id}


async def op_review(state: HostState, principal: Principal, req: S.ReviewRequest) -> dict[str, Any]:
    premises = list(req.facts or []) + ([req.context] if req.context else [])
    if not premises:
        raise ApiError(422, "no_facts", "give facts or context to review against")
    if len(premises) > state.config.server.max_pairs:
        raise ApiError(413, "too_many_facts", f"{len(premises)} facts (limit {state.config.server.max_pairs})")
    for i, p in enumerate(premises):
        _check_text(state, p, f"facts[{i}]")
    _check_text(state, req.response, "response")
    work = len(sentence_spans(req.response)) * len(premise_windows(premises))
    if work > state.config.server.max_review_pairs:
        raise ApiError(413, "review_too_large", f"{work} claim x evidence pairs (limit {state.config.server.max_review_pairs})")
    out = await review(_need_scoring(state), req.response, premises)
    state.audit_write("review", principal, text=text_digest(req.response), approved=out["approved"],
                      coherence=round(out["coherence"], 4), claims=len(out["claims"]))
    return out


OPS: dict[str, tuple[str, type[BaseModel], Callable[..., Awaitable[dict[str, Any]]]]] = {
    "detect": ("detect", S.DetectRequest, op_detect),
    "transform": ("transform", S.TransformRequest, op_transform),
    "rehydrate": ("rehydrate", S.RehydrateRequest, op_rehydrate),
    "score": ("score", S.ScoreRequest, op_score),
    "review": ("review", S.ReviewRequest, op_review),
}


# --- app -----------------------------------------------------------------------------------------
def create_app(config: HostConfig | None = None, *, env: dict[str, str] | None = None) -> FastAPI:
    config = config or HostConfig()
    state = HostState(config, env)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(title="haltguard host", version=_version(), lifespan=lifespan,
                  description="Guardrails for LLM applications: PII transform/rehydrate, NLI scoring, "
                              "response review and halted streaming.",
                  responses={401: {"model": S.ErrorResponse}, 403: {"model": S.ErrorResponse},
                             413: {"model": S.ErrorResponse}, 429: {"model": S.ErrorResponse}})
    app.state.host = state
    m = state.metrics

    # --- errors: one shape, a code for every refusal --------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        m.errors.labels(exc.code).inc()
        return _error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(AuthError)
    async def _auth_error(_: Request, exc: AuthError) -> JSONResponse:
        m.errors.labels(exc.code).inc()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error_response(exc.status, exc.code, str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            m.errors.labels("invalid_json").inc()
            return _error_response(400, "invalid_json", "the body is not valid JSON")
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errs]
        m.errors.labels("invalid_request").inc()
        return _error_response(422, "invalid_request", "the request does not match the schema", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "invalid_body", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(exc.status_code, "http_error")
        m.errors.labels(code).inc()
        msg = "the body is not valid UTF-8 JSON" if exc.status_code == 400 else str(exc.detail)
        return _error_response(exc.status_code, code, msg)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("unhandled error")
        m.errors.labels("internal_error").inc()
        return _error_response(500, "internal_error", "internal error (logged)")

    app.add_middleware(MetricsMiddleware, metrics=m)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.server.max_body_bytes,
                       on_refuse=lambda: m.errors.labels("body_too_large").inc())

    # --- auth + rate limit as a dependency ------------------------------------------------------
    def presented_key(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return request.headers.get("x-api-key")

    async def rate_limit(principal: Principal, cost: float = 1.0) -> None:
        if state.limiter is None:
            return
        allowed, retry = await state.limiter.take(principal.key_id, cost)
        if not allowed:
            m.rate_limited.inc()
            raise ApiError(429, "rate_limited", "rate limit exceeded", {"retry_after_s": round(retry, 3)},
                           {"Retry-After": retry_after_header(retry)})

    def scoped(scope: str) -> Any:
        async def dep(request: Request) -> Principal:
            principal = state.keyring.authenticate(presented_key(request))
            KeyRing.require(principal, scope)
            await rate_limit(principal)
            return principal
        return Depends(dep)

    # --- routes ------------------------------------------------------------------------------------
    @app.get("/v1/health", response_model=S.Health, tags=["ops"])
    async def health() -> dict[str, Any]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/v1/ready", response_model=S.Ready, tags=["ops"], responses={503: {"model": S.Ready}})
    async def ready() -> Any:
        """Readiness: the model is loaded and Redis (when configured) answers."""
        redis_state = "not_configured"
        if state.redis is not None:
            try:
                redis_state = "ok" if await state.redis.ping() else "down"
            except Exception:  # noqa: BLE001 - any failure means not ready
                redis_state = "down"
        model: dict[str, Any] = {"loaded": state.scoring is not None}
        if state.scoring is not None:
            model.update(state.scoring.engine.description, id=state.scoring.engine.model_id,
                         threshold=state.scoring.engine.threshold, number_penalty=state.scoring.engine.number_penalty,
                         fallback_reason=state.engine_fallback)
        ok = state.scoring is not None and redis_state != "down"
        body = {"ready": ok, "model": model, "redis": redis_state}
        return JSONResponse(body, 200 if ok else 503)

    @app.post("/v1/detect", response_model=S.DetectResponse, tags=["pii"])
    async def detect(req: S.DetectRequest, principal: Principal = scoped("detect")) -> dict[str, Any]:
        """Findings (type, span, score) and the prompt-security verdict."""
        return await op_detect(state, principal, req)

    @app.post("/v1/transform", response_model=S.TransformResponse, tags=["pii"])
    async def transform(req: S.TransformRequest, principal: Principal = scoped("transform")) -> dict[str, Any]:
        """Pseudonymise the input; the mapping comes back sealed in ``session_state``."""
        return await op_transform(state, principal, req)

    @app.post("/v1/rehydrate", response_model=S.RehydrateResponse, tags=["pii"])
    async def rehydrate_route(req: S.RehydrateRequest, principal: Principal = scoped("rehydrate")) -> dict[str, Any]:
        """Put the original values back into an LLM output."""
        return await op_rehydrate(state, principal, req)

    @app.post("/v1/rehydrate/stream", tags=["pii"], response_class=StreamingResponse,
              responses={200: {"content": {"text/event-stream": {}}}})
    async def rehydrate_stream(request: Request, principal: Principal = scoped("rehydrate")) -> StreamingResponse:
        """Stream the output in the request body (any chunking); get SSE ``data:`` events back.

        The session comes in the ``X-Session-State`` header. Events never contain part of a
        placeholder; the last event (``event: done``) carries the counts.
        """
        session_state = request.headers.get("x-session-state")
        if not session_state:
            raise ApiError(400, "missing_session_state", "send the session in the X-Session-State header")
        sess, session, revoked = await _open_for_rehydrate(state, principal, session_state)
        r = StreamingRehydrator(session, revoked)

        async def events() -> AsyncIterator[str]:
            decoder = codecs.getincrementaldecoder("utf-8")("strict")
            try:
                async for raw in request.stream():
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

        return DuplexStreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.post("/v1/score", response_model=S.ScoreResponse, tags=["scoring"])
    async def score(req: S.ScoreRequest, principal: Principal = scoped("score")) -> dict[str, Any]:
        """P(supported) for each premise/hypothesis pair (long premises are windowed, max taken)."""
        return await op_score(state, principal, req)

    @app.post("/v1/review", response_model=S.ReviewResponse, tags=["scoring"])
    async def review_route(req: S.ReviewRequest, principal: Principal = scoped("review")) -> dict[str, Any]:
        """Approve or reject a finished response; per-sentence verdicts with their evidence."""
        return await op_review(state, principal, req)

    @app.post("/v1/sessions/revoke", response_model=S.RevokeResponse, tags=["pii"])
    async def revoke(req: S.RevokeRequest, principal: Principal = scoped("admin")) -> dict[str, Any]:
        """Revoke a session (by id or blob) and/or an entity value (it rehydrates as [DELETED])."""
        done: list[str] = []
        sid = req.session_id
        if req.session_state:
            sid = (await state.open(req.session_state, tenant_of(state, principal))).session_id
        if sid:
            await state.revocation.revoke_session(sid)
            m.revocations.labels("session").inc()
            done.append("session")
        if req.value:
            await state.revocation.revoke_value(req.value)
            m.revocations.labels("value").inc()
            done.append("value")
        if not done:
            raise ApiError(422, "nothing_to_revoke", "give session_id, session_state or value")
        state.audit_write("revoke", principal, kinds=done, session=text_digest(sid) if sid else None)
        return {"revoked": done}

    @app.post("/v1/batch", response_model=S.BatchResponse, tags=["ops"])
    async def batch(req: S.BatchRequest, request: Request) -> dict[str, Any]:
        """Several operations in one request; each item needs its own scope and counts against the rate limit."""
        if len(req.items) > config.server.max_batch_items:
            raise ApiError(413, "too_many_items", f"{len(req.items)} items (limit {config.server.max_batch_items})")
        principal = state.keyring.authenticate(presented_key(request))
        for item in req.items:
            KeyRing.require(principal, OPS[item.op][0])
        await rate_limit(principal, float(len(req.items)))
        results = []
        for item in req.items:
            _, model, fn = OPS[item.op]
            try:
                body = await fn(state, principal, model.model_validate(item.body))
                results.append({"status": 200, "body": body})
            except ValidationError as exc:
                results.append({"status": 422, "body": {"error": {"code": "invalid_request", "message": str(exc.errors()[:3])}}})
            except ApiError as exc:
                results.append({"status": exc.status, "body": {"error": {"code": exc.code, "message": exc.message,
                                                                          "details": exc.details}}})
        return {"results": results}

    @app.get("/v1/metrics", tags=["ops"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    async def metrics(principal: Principal = scoped("admin")) -> Response:
        """Prometheus exposition."""
        return Response(m.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.websocket("/v1/stream")
    async def stream(ws: WebSocket) -> None:
        """Guarded stream. Protocol in docs/host.md: start → chunk* → end; frames back."""
        await _stream_ws(state, ws, presented_key)

    from haltguard.host.demo import mount_demo

    if config.server.demo:
        mount_demo(app, config)
    return app


async def _stream_ws(state: HostState, ws: WebSocket, presented_key: Callable[[Any], str | None]) -> None:
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
    driver: Any = None
    max_chars = state.config.server.max_text_chars
    received = 0

    async def send(frames: list[dict[str, Any]]) -> None:
        for f in frames:
            if f["type"] == "halt":
                state.metrics.halts.labels(f["reason"]).inc()
            await ws.send_json(f)

    async def fail(code: str, message: str) -> None:
        await ws.send_json({"type": "error", "code": code, "message": message})
        await ws.close(code=4400, reason=code)

    try:
        while True:
            raw = await ws.receive_text()
            received += len(raw)
            if received > max_chars * 2:
                return await fail("stream_too_long", f"more than {max_chars * 2} characters received")
            try:
                msg = json.loads(raw)
            except json.JSONDecodeError:
                msg = None
            if not isinstance(msg, dict):
                return await fail("invalid_json", "every message must be a JSON object")
            kind = msg.get("type")
            if kind == "start":
                if driver is not None:
                    return await fail("already_started", "the stream was already started")
                context = msg.get("context")
                if not isinstance(context, str) or not context.strip():
                    return await fail("no_context", "start needs a non-empty context string")
                if len(premise_windows([context])) > state.config.server.max_review_pairs:
                    return await fail("context_too_large", "the context has more evidence windows than server.max_review_pairs")
                try:
                    halt = HaltConfig.from_dict(msg["halt"]) if msg.get("halt") is not None else state.default_halt
                except (ConfigError, FieldError, TypeError, ValueError) as exc:
                    return await fail("invalid_halt_config", str(exc))
                scoring = _need_scoring(state)
                driver = ClaimStream(scoring.score, scoring.engine.threshold, context, halt)
                await ws.send_json({"type": "started", "config": halt.to_dict(), "model": scoring.engine.model_id})
                text = msg.get("text")
                if isinstance(text, str):  # the host streams a whole answer itself
                    for tok in word_tokens(text):
                        await send(await driver.feed(tok))
                    await send(await driver.end())
                    state.audit_write("stream", principal, text=text_digest(text), halted=driver.kernel.halted)
                    await ws.close()
                    return
            elif kind == "chunk":
                if driver is None:
                    return await fail("not_started", "send a start message first")
                text = msg.get("text")
                if not isinstance(text, str):
                    return await fail("invalid_chunk", "chunk needs a text string")
                await send(await driver.feed(text))
            elif kind == "end":
                if driver is None:
                    return await fail("not_started", "send a start message first")
                await send(await driver.end())
                state.audit_write("stream", principal, halted=driver.kernel.halted)
                await ws.close()
                return
            else:
                return await fail("unknown_message", f"unknown message type {kind!r}")
    except WebSocketDisconnect:
        return


def _version() -> str:
    from haltguard.kernel._version import __version__

    return __version__
