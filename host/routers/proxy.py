"""The OpenAI-compatible guarding proxy: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Point the official ``openai`` SDK (or anything that speaks the OpenAI wire format) at the host
with a haltguard key that holds the ``proxy`` scope: messages leave pseudonymised, answers
come back rehydrated and output-protected, and with grounding (the ``haltguard`` field of the
request body) every sentence is judged before the client sees it. The pipeline is in
``haltguard.host.proxy``; the upstreams in ``haltguard.host.upstreams``; the contract in
docs/host.md ("The guarding proxy").
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from haltguard.host.audit import text_digest
from haltguard.host.auth import Principal
from haltguard.host.deps import get_state, scoped
from haltguard.host.errors import ApiError
from haltguard.host.operations import names_for, need_scoring, pay_for_judging
from haltguard.host.proxy import AnswerGuard, PromptRefused, placeholders_for_known, pseudonymise_messages
from haltguard.host.state import HostState
from haltguard.host.upstreams import UpstreamError
from haltguard.kernel.driver import ClaimStream
from haltguard.kernel.errors import FieldError
from haltguard.kernel.policy import Policy
from haltguard.kernel.presets import resolve_halt
from haltguard.kernel.pseudonymize import Session
from haltguard.kernel.windows import premise_chunk_spans

router = APIRouter(tags=["proxy"])

SESSION_HEADER = "X-Haltguard-Session"


class _OutOfBudget(Exception):
    """A streamed answer's judging overdrew its key's rate limit."""
_EXTENSION_KEYS = {"context", "facts", "session", "halt"}


@router.get("/v1/models")
async def models(principal: Principal = scoped("proxy"), state: HostState = Depends(get_state)) -> dict[str, Any]:
    """The models the upstreams serve, in the OpenAI list format."""
    return {"object": "list", "data": await state.upstreams.models()}


def _invalid(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, {"param": param} if param else None)


async def _body(request: Request, state: HostState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat request and its ``haltguard`` extension, checked."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _invalid("model is required", "model")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in msgs):
        raise _invalid("messages must be a non-empty list of objects with a role", "messages")
    if len(msgs) > state.config.proxy.max_messages:
        raise ApiError(413, "too_many_messages", f"{len(msgs)} messages (limit {state.config.proxy.max_messages})")
    ext = body.pop("haltguard", None) or {}
    if not isinstance(ext, dict) or set(ext) - _EXTENSION_KEYS:
        raise _invalid(f"haltguard must be an object with some of {sorted(_EXTENSION_KEYS)}", "haltguard")
    if ext.get("context") is not None and not isinstance(ext["context"], str):
        raise _invalid("haltguard.context must be a string", "haltguard.context")
    facts = ext.get("facts")
    if facts is not None and (not isinstance(facts, list) or not all(isinstance(f, str) for f in facts)):
        raise _invalid("haltguard.facts must be a list of strings", "haltguard.facts")
    for i, m in enumerate(msgs):
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise _invalid(f"messages[{i}].content must be a string, a list of parts or null", f"messages[{i}].content")
        for text in ([content] if isinstance(content, str) else
                     [p.get("text") for p in content or () if isinstance(p, dict)]):
            if isinstance(text, str) and len(text) > state.config.server.max_text_chars:
                raise ApiError(413, "text_too_long", f"a message has {len(text)} characters "
                               f"(limit {state.config.server.max_text_chars})")
    return body, ext


def _grounding(ext: dict[str, Any]) -> str | None:
    parts = list(ext.get("facts") or []) + ([ext["context"]] if ext.get("context") else [])
    text = "\n\n".join(p for p in parts if p.strip())
    return text or None


async def _open_session(state: HostState, principal: Principal, blob: str | None) -> tuple[str | None, dict[str, Any] | None]:
    if not blob:
        return None, None
    sess = await state.open_live(blob, state.tenant_of(principal))
    return sess.session_id, sess.mapping


class _Answers:
    """What every choice of one request shares: policy, session, the judge factory."""

    def __init__(self, state: HostState, policy: Policy, session: Session, revoked: Any, context: str | None,
                 halt: Any, names: Any) -> None:
        self.state, self.policy, self.session, self.revoked = state, policy, session, revoked
        self.halt, self.names = halt, names
        # judged as the model wrote it: the grounding speaks in the same placeholders
        self.context = None if context is None else placeholders_for_known(context, session)

    def guard(self) -> AnswerGuard:
        judge = None
        if self.context is not None:
            scoring = need_scoring(self.state)
            judge = ClaimStream(scoring.documents.claim_judge(scoring.score_pairs), self.context, self.halt)
        return AnswerGuard(self.session, self.policy, self.names, judge=judge, revoked=self.revoked)


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False, separators=(',', ':'))}\n\n"


@router.post("/v1/chat/completions", responses={200: {"content": {"text/event-stream": {}}}})
async def chat_completions(request: Request, principal: Principal = scoped("proxy"),
                           state: HostState = Depends(get_state)) -> Any:
    """An OpenAI chat completion through the guard (streamed when the request says ``stream``)."""
    body, ext = await _body(request, state)
    policy_name = principal.policy or "default"
    policy, _ = state.policy(policy_name)
    try:
        route = state.upstreams.route(body["model"])
    except UpstreamError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    upstream = route.upstream.name
    session_id, prior = await _open_session(state, principal, request.headers.get(SESSION_HEADER) or ext.get("session"))
    context = _grounding(ext)
    halt = state.default_halt
    if context is not None:
        scoring = need_scoring(state)
        docs = scoring.documents
        if len(premise_chunk_spans(context, "", docs.count_tokens, docs.point.max_length)) > state.config.server.max_review_pairs:
            raise ApiError(413, "context_too_large", "the grounding has more evidence windows than server.max_review_pairs")
        if ext.get("halt") is not None:
            try:
                halt = resolve_halt(ext["halt"], threshold=scoring.engine.threshold)
            except (FieldError, TypeError, ValueError) as exc:
                raise ApiError(422, "invalid_halt_config", str(exc)) from None

    async def names(p: Policy, text: str) -> Any:
        return await names_for(state, p, text)

    try:
        messages, mapping, types = await pseudonymise_messages(body["messages"], policy, prior, names)
    except PromptRefused as exc:
        state.metrics.proxy_requests.labels(upstream, "blocked").inc()
        state.audit_write("proxy", principal, upstream=upstream, model=body["model"], decision=exc.code)
        raise ApiError(422, exc.code, exc.message, exc.details) from None
    for t in types:
        state.metrics.entities.labels(t).inc()
    blob, sealed = await state.seal(mapping, state.tenant_of(principal), session_id, policy_name)
    session = Session.from_dict(mapping)
    answers = _Answers(state, policy, session, await state.revoked_in(state.tenant_of(principal), session), context, halt,
                       names)
    info = {"session": blob, "session_id": sealed.session_id, "upstream": upstream}
    headers = {SESSION_HEADER: blob, "Cache-Control": "no-store"}
    out_body = {**body, "messages": messages}
    audit = {"upstream": upstream, "model": body["model"], "session": text_digest(sealed.session_id), "types": types,
             "grounded": context is not None}

    windows = need_scoring(state).documents.point.max_windows if context is not None else 0

    async def pay(sentences: int) -> bool:
        return await pay_for_judging(state, principal, sentences, windows)

    if not body.get("stream"):
        try:
            data, secs = await state.upstreams.complete(route, out_body)
        except UpstreamError as exc:
            state.metrics.proxy_requests.labels(upstream, "upstream_error").inc()
            state.audit_write("proxy", principal, **audit, stream=False, decision=exc.code)
            raise ApiError(exc.status, exc.code, exc.message) from None
        state.metrics.proxy_upstream_seconds.labels(upstream).observe(secs)
        verdicts: list[dict[str, Any]] = []
        for choice in data["choices"]:
            msg = choice.get("message") if isinstance(choice, dict) else None
            g = answers.guard()
            if isinstance(msg, dict) and isinstance(msg.get("content"), str):
                msg["content"] = await g.feed(msg["content"]) + await g.finish()
                await g.settle()
                if g.halted:
                    choice["finish_reason"] = "content_filter"
            choice.pop("logprobs", None)  # per-token text would show what was withheld or restored
            verdicts.append({"index": choice.get("index", len(verdicts)), **g.verdict()})
        await pay(sum(v["judged"] for v in verdicts))  # a whole answer is charged after the fact
        halted = any(v["halted"] for v in verdicts)
        for v in verdicts:
            if v["halted"]:
                state.metrics.halts.labels(str(v.get("reason"))).inc()
        data["haltguard"] = {**info, **(verdicts[0] if verdicts else {}), "choices": verdicts}
        state.metrics.proxy_requests.labels(upstream, "halted" if halted else "ok").inc()
        state.audit_write("proxy", principal, **audit, stream=False, halted=halted)
        return JSONResponse(data, headers=headers)

    try:
        events = await state.upstreams.stream(route, {**out_body, "stream": True})
    except UpstreamError as exc:
        state.metrics.proxy_requests.labels(upstream, "upstream_error").inc()
        state.audit_write("proxy", principal, **audit, stream=True, decision=exc.code)
        raise ApiError(exc.status, exc.code, exc.message) from None
    t_start = time.perf_counter()

    async def sse() -> AsyncIterator[str]:
        guards: dict[int, AnswerGuard] = {}
        done: set[int] = set()
        base: dict[str, Any] = {"object": "chat.completion.chunk"}
        outcome = "ok"
        first = True

        def chunk(i: int, delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None) -> str:
            return _sse({**base, "choices": [{"index": i, "delta": delta, "logprobs": None, "finish_reason": finish}],
                         **(extra or {})})

        def closing(i: int, g: AnswerGuard, finish: str | None) -> str:
            return chunk(i, {}, "content_filter" if g.halted else finish or "stop",
                         {"haltguard": {**info, "index": i, **g.verdict()}})

        try:
            async for ev in events:
                if first:
                    state.metrics.proxy_upstream_seconds.labels(upstream).observe(time.perf_counter() - t_start)
                    first = False
                for k in ("id", "created", "model", "system_fingerprint"):
                    if k in ev:
                        base[k] = ev[k]
                choices = ev.get("choices")
                if not choices:  # the usage chunk (stream_options.include_usage) and the like
                    if ev.get("usage") is not None:
                        yield _sse({**base, "choices": [], "usage": ev["usage"]})
                    continue
                for ch in choices:
                    i = int(ch.get("index", 0))
                    if i in done:
                        continue
                    g = guards.get(i) or guards.setdefault(i, answers.guard())
                    delta = dict(ch.get("delta") or {})
                    content = delta.pop("content", None)
                    before = g.judged
                    text = await g.feed(content) if isinstance(content, str) else ""
                    if text or delta:  # role, tool calls: passed on as they come
                        yield chunk(i, {**delta, **({"content": text} if text else {})})
                    if g.judged > before and not await pay(g.judged - before):
                        raise _OutOfBudget
                    finish = ch.get("finish_reason")
                    if not g.halted and finish:
                        tail = await g.finish()
                        if tail:
                            yield chunk(i, {"content": tail})
                    if g.halted or finish:
                        done.add(i)
                        outcome = "halted" if g.halted else outcome
                        await g.settle()
                        yield closing(i, g, finish)
                if guards and done >= set(guards) and all(guards[i].halted for i in done):
                    break  # every answer halted: stop reading (and paying for) the upstream
            for i, g in guards.items():  # an upstream that ended without a finish_reason
                if i not in done:
                    tail = await g.finish()
                    if tail:
                        yield chunk(i, {"content": tail})
                    outcome = "halted" if g.halted else outcome
                    await g.settle()
                    yield closing(i, g, "stop")
        except UpstreamError as exc:
            outcome = "upstream_error"
            yield _sse({"error": {"message": exc.message, "type": "api_error", "param": None, "code": exc.code}})
        except _OutOfBudget:  # each judged sentence is model work: a stream cannot outrun its key's budget
            outcome = "rate_limited"
            yield _sse({"error": {"message": "rate limit exceeded: the judged sentences of this answer used the key's "
                                             "budget", "type": "rate_limit_error", "param": None, "code": "rate_limited"}})
        except (AttributeError, KeyError, TypeError, ValueError):  # an event that is JSON but not a chunk
            outcome = "upstream_error"
            yield _sse({"error": {"message": f"upstream {upstream!r} sent an event that is not a chat completion chunk",
                                  "type": "api_error", "param": None, "code": "upstream_bad_response"}})
        finally:
            await events.aclose()  # type: ignore[attr-defined]
            state.metrics.proxy_requests.labels(upstream, outcome).inc()
            for g in guards.values():
                if g.halt:
                    state.metrics.halts.labels(str(g.halt.get("reason"))).inc()
            state.audit_write("proxy", principal, **audit, stream=True, halted=any(g.halted for g in guards.values()),
                              decision=outcome)
        yield "data: [DONE]\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream", headers=headers)
