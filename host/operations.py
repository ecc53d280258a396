"""The operations behind the routes: ``async def op_*(state, principal, request) -> dict``.

Routes and ``/v1/batch`` both call these, so a batch item behaves exactly like the single
request. Scoring goes through the kernel's one scoring path (``ScoringService``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from haltguard.host import schemas as S
from haltguard.host.audit import text_digest
from haltguard.host.auth import Principal
from haltguard.host.deps import charge
from haltguard.host.engines import ScoringService
from haltguard.host.errors import ApiError, blocked
from haltguard.host.state import HostState
from haltguard.kernel.guard import detect_json, transform_json
from haltguard.kernel.ner import Entity
from haltguard.kernel.policy import Policy
from haltguard.kernel.pseudonymize import BlockedInput, BlockedOutput, Session, protect_output, rehydrate
from haltguard.kernel.scoring import TooMuchWork, review_summary
from haltguard.kernel.sentences import sentence_spans

T = TypeVar("T")

__all__ = ["off_loop", "OFF_LOOP_CHARS", "charge_pairs", "pay_for_judging", "op_detect", "op_transform", "op_rehydrate",
           "op_score", "op_review", "OPS", "check_text", "need_scoring", "open_for_rehydrate", "review"]


# Texts at least this long are detected in a worker thread: a 200k-character text takes about
# a second of regex work, which on the event loop would stall every other request (health
# checks included). Short ones stay inline, where a thread hop would cost more than the work.
OFF_LOOP_CHARS = 20_000


async def off_loop(text: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, in a worker thread when ``text`` is long (see ``OFF_LOOP_CHARS``)."""
    if len(text) < OFF_LOOP_CHARS:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def _pairs_cost(state: HostState, pairs: int) -> float:
    return pairs * state.config.rate_limit.pair_cost


async def charge_pairs(state: HostState, principal: Principal, pairs: int) -> None:
    """Charge the model work a request may do (``rate_limit.pair_cost`` per pair) to its key.

    Work that could never fit the key's burst is refused outright (413), not told to retry.
    """
    cost = _pairs_cost(state, pairs)
    if state.limiter is None or cost <= 0:
        return
    if cost > state.config.rate_limit.burst:
        raise ApiError(413, "too_much_work", f"this request may score {pairs} model pairs ({cost:g} rate tokens), "
                       f"more than the key's burst of {state.config.rate_limit.burst}: split it")
    await charge(state, state.limiter, principal, cost)


async def pay_for_judging(state: HostState, principal: Principal, sentences: int, windows: int) -> bool:
    """Charge sentences a stream had judged (each up to ``windows`` model pairs); False: over the budget.

    Streams pay as they go, after the fact: a WebSocket stream or a proxied answer that returns
    False is ended by its caller.
    """
    cost = _pairs_cost(state, sentences * windows)
    if state.limiter is None or cost <= 0:
        return True
    allowed, _ = await state.limiter.take(principal.key_id, cost)
    if not allowed:
        state.metrics.rate_limited.inc()
    return bool(allowed)


def check_text(state: HostState, text: str, field: str) -> None:
    if len(text) > state.config.server.max_text_chars:
        raise ApiError(413, "text_too_long", f"{field} has {len(text)} characters (limit {state.config.server.max_text_chars})")


def need_scoring(state: HostState) -> ScoringService:
    if state.scoring is None:
        raise ApiError(503, "model_not_ready", "the scorer is still loading")
    return state.scoring


async def names_for(state: HostState, policy: Policy, text: str) -> list[Entity] | None:
    """The name model's entities of ``text`` when the policy asks for them (None: no model ran)."""
    if not policy.uses_names:
        return None
    if state.names is None:
        if policy.detector_mode == "ner":
            raise ApiError(409, "names_unavailable", "the policy's detector_mode is 'ner' but this host runs no name "
                           "model (detector.names.enabled is false)")
        return None
    return (await state.names.entities([text]))[0] if text else []


async def op_detect(state: HostState, principal: Principal, req: S.DetectRequest) -> dict[str, Any]:
    check_text(state, req.text, "text")
    policy, name = state.policy(req.policy)
    out = await off_loop(req.text, detect_json, req.text, policy, await names_for(state, policy, req.text))
    for f in out["findings"]:
        state.metrics.entities.labels(f["type"]).inc()
    state.metrics.prompt_verdicts.labels("flagged" if out["prompt_security"]["flagged"] else "clean").inc()
    state.audit_write("detect", principal, policy=name, text=text_digest(req.text),
                      types=sorted({f["type"] for f in out["findings"]}), prompt=out["prompt_security"]["action"])
    return out


async def op_transform(state: HostState, principal: Principal, req: S.TransformRequest) -> dict[str, Any]:
    check_text(state, req.input, "input")
    tenant = state.tenant_of(principal)
    session_id, prior = None, None
    if req.session_state:
        sess = await state.open_live(req.session_state, tenant)
        session_id, prior = sess.session_id, sess.mapping
    policy, name = state.policy(req.policy)
    names = await names_for(state, policy, req.input)
    try:
        out = await off_loop(req.input, transform_json, req.input, policy, prior, names)
    except BlockedInput as exc:
        types = sorted({f.type for f in exc.findings})
        state.audit_write("transform", principal, policy=name, decision="blocked_entities", types=types)
        raise blocked("input_blocked", "the input contains entities the policy blocks", types=types) from None
    verdict = out["prompt_security"]
    state.metrics.prompt_verdicts.labels(verdict["action"] if verdict["flagged"] else "clean").inc()
    if not verdict["allowed"]:
        state.audit_write("transform", principal, policy=name, decision="blocked_prompt", text=text_digest(req.input))
        raise blocked("prompt_blocked", "the input was flagged as a prompt injection",
                      **{k: verdict.get(k) for k in ("score", "flagged", "rules") if k in verdict})
    for e in out["entities"]:
        state.metrics.entities.labels(e["type"]).inc()
    blob, sess = await state.seal(out["session"], tenant, session_id, name)
    state.audit_write("transform", principal, policy=name, session=text_digest(sess.session_id),
                      text=text_digest(req.input), types=sorted({e["type"] for e in out["entities"]}))
    return {"safe_text": out["safe_text"], "session_id": sess.session_id, "session_state": blob,
            "expires_at": sess.expires_at, "entities": out["entities"], "prompt_security": verdict}


async def open_for_rehydrate(state: HostState, principal: Principal, session_state: str) -> tuple[Any, Session, Any]:
    tenant = state.tenant_of(principal)
    sess = await state.open(session_state, tenant)
    if await state.session_revoked(tenant, sess.session_id):
        state.audit_write("rehydrate", principal, session=text_digest(sess.session_id), decision="session_revoked")
        raise ApiError(403, "session_revoked", "this session was revoked; it can no longer be rehydrated")
    try:
        session = Session.from_dict(sess.mapping)
    except ValueError as exc:
        raise ApiError(400, "session_malformed", str(exc)) from None
    return sess, session, await state.revoked_in(tenant, session)


async def op_rehydrate(state: HostState, principal: Principal, req: S.RehydrateRequest) -> dict[str, Any]:
    check_text(state, req.output, "output")
    sess, session, revoked = await open_for_rehydrate(state, principal, req.session_state)
    policy = state.policies.get(sess.policy or "default", state.policies["default"])
    output, protection = req.output, None
    if policy.output_protection.mode != "off":
        try:
            pr = await off_loop(output, protect_output, output, policy, await names_for(state, policy, output))
        except BlockedOutput as exc:
            raise blocked("output_blocked", "the output contains personal data the model produced itself",
                          types=sorted({f.type for f in exc.findings})) from None
        output = pr.text
        protection = {"action": pr.action, "types": sorted({f.type for f in pr.findings})}
    out = rehydrate(output, session, revoked).to_dict()
    out["output_protection"] = protection
    state.audit_write("rehydrate", principal, session=text_digest(sess.session_id), restored=out["restored"],
                      deleted=out["deleted"], unknown=len(out["unknown_placeholders"]))
    return out


async def op_score(state: HostState, principal: Principal, req: S.ScoreRequest) -> dict[str, Any]:
    if len(req.pairs) > state.config.server.max_pairs:
        raise ApiError(413, "too_many_pairs", f"{len(req.pairs)} pairs (limit {state.config.server.max_pairs})")
    for p in req.pairs:
        check_text(state, p.premise, "premise")
        check_text(state, p.hypothesis, "hypothesis")
    scoring = need_scoring(state)
    await charge_pairs(state, principal, len(req.pairs) * scoring.documents.point.max_windows)
    scores = await scoring.score_documents([(p.premise, p.hypothesis) for p in req.pairs])
    thr = scoring.engine.threshold
    state.audit_write("score", principal, pairs=len(scores))
    return {"scores": scores, "supported": [s >= thr for s in scores], "threshold": thr, "model": scoring.engine.model_id}


async def review(scoring: ScoringService, response: str, premises: list[str],
                 max_pairs: int | None = None) -> dict[str, Any]:
    """Each sentence of ``response`` judged against all ``premises`` (the one scoring path);
    more than ``max_pairs`` model pairs is refused before any is scored."""
    spans = sentence_spans(response)
    try:
        claims = await scoring.documents.ajudge_claims(premises, [response[a:b] for a, b in spans], scoring.score_pairs,
                                                       max_pairs)
    except TooMuchWork as exc:
        raise ApiError(413, "review_too_large", str(exc)) from None
    return {**review_summary(spans, claims, scoring.engine.threshold), "model": scoring.engine.model_id}


async def op_review(state: HostState, principal: Principal, req: S.ReviewRequest) -> dict[str, Any]:
    premises = list(req.facts or []) + ([req.context] if req.context else [])
    if not premises:
        raise ApiError(422, "no_facts", "give facts or context to review against")
    if len(premises) > state.config.server.max_pairs:
        raise ApiError(413, "too_many_facts", f"{len(premises)} facts (limit {state.config.server.max_pairs})")
    for i, p in enumerate(premises):
        check_text(state, p, f"facts[{i}]")
    check_text(state, req.response, "response")
    scoring = need_scoring(state)
    await charge_pairs(state, principal, len(sentence_spans(req.response)) * scoring.documents.point.max_windows)
    out = await review(scoring, req.response, premises, state.config.server.max_review_pairs)
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
