"""Everything a request needs, built once per app from the config: keys, sealer, stores, scorer.

Routes reach it through the ``get_state`` dependency (``haltguard.host.deps``); ``start``
and ``stop`` run in the app's lifespan. The scoring engine may be loaded before the app
starts (``haltguard serve`` does, so a model that cannot load stops the command with one
line instead of a traceback from inside the server).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
from pathlib import Path
from types import EllipsisType
from typing import Any

from haltguard.host.audit import AuditLog
from haltguard.host.auth import KeyRing, Principal
from haltguard.host.config import HostConfig
from haltguard.host.engines import LoadedEngine, ScoringService, load_engine
from haltguard.host.errors import ApiError
from haltguard.host.metrics import HostMetrics
from haltguard.host.names import NameService, load_names
from haltguard.host.ratelimit import MemoryRateLimiter, RedisRateLimiter
from haltguard.host.revocation import FileRevocation, MemoryRevocation, RedisRevocation
from haltguard.host.sealing import SealError, SessionSealer, derive_key
from haltguard.host.upstreams import Upstreams
from haltguard.kernel.config import HaltConfig
from haltguard.kernel.errors import FieldError
from haltguard.kernel.policy import OutputProtectionRule, Policy, PromptSecurityRule, looser_fields

__all__ = ["HostState", "REF_PREFIX"]

log = logging.getLogger("haltguard.host")
REF_PREFIX = "hgref."


class HostState:
    def __init__(self, config: HostConfig, env: dict[str, str] | None = None,
                 engine: LoadedEngine | None = None, names: NameService | None | EllipsisType = ...) -> None:
        self.config = config
        self.env = env
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
        audit_key = config.audit.hmac_secret.encode("utf-8") if config.audit.hmac_secret else None
        self.audit = AuditLog(config.audit.path, audit_key) if config.audit.path else None
        self.policies = self._load_policies()
        unknown = sorted({k.policy for k in config.auth.keys if k.policy and k.policy not in self.policies})
        if unknown:
            raise ValueError(f"auth.keys name policies that do not exist: {', '.join(unknown)} (known: {', '.join(sorted(self.policies))})")
        self.upstreams = Upstreams(config.proxy, env)
        self.loaded: LoadedEngine | None = engine
        self.scoring: ScoringService | None = None
        self._names_preloaded = names is not ...
        self.names: NameService | None = names if not isinstance(names, EllipsisType) else None
        self.default_halt: HaltConfig = config.halt.resolved()  # at the engine's threshold once it loads

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
        if not self._names_preloaded:
            self.names = await loop.run_in_executor(None, load_names, c.detector.names, self.env)
        if self.loaded is None:
            self.loaded = await loop.run_in_executor(None, load_engine, c.scorer, self.env)
        engine = self.loaded.engine
        self.default_halt = c.halt.resolved(engine.threshold)
        self.metrics.model_loaded.labels(engine.description["engine"]).set(1)
        self.scoring = ScoringService(
            engine, c.scorer,
            on_batch=self.metrics.batch_size.observe,
            on_cache=lambda hit: self.metrics.cache.labels("hit" if hit else "miss").inc(),
        )
        await self.scoring.start()
        self._announce()

    def _announce(self) -> None:
        c = self.config
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
        if self.names is not None:
            self.names.close()
        await self.upstreams.aclose()
        if self.redis is not None:
            await self.redis.aclose()

    @property
    def fallback_reason(self) -> str | None:
        return self.loaded.fallback_reason if self.loaded is not None else None

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
        if ref.get("custom_recognizers") and not self.config.detector.allow_client_regex:
            raise ApiError(422, "client_regex_refused", "this host does not run regexes sent in a request's policy "
                           "(detector.allow_client_regex is false); name a policy the operator configured")
        try:
            inline = self._apply_overrides(Policy.from_dict(ref))
        except FieldError as exc:
            raise ApiError(422, "invalid_policy", str(exc), {"field": getattr(exc, "field", None)}) from None
        except (TypeError, ValueError) as exc:
            raise ApiError(422, "invalid_policy", str(exc)) from None
        if self.config.detector.client_policies == "tighten":
            looser = looser_fields(self.policies["default"], inline)
            if looser:
                raise ApiError(422, "policy_loosens", "an inline policy may only protect more than this host's default "
                               "policy (detector.client_policies is tighten); name a configured policy instead",
                               {"fields": looser})
        return inline, "inline"

    # --- sessions --------------------------------------------------------------------------
    async def revocation_epoch(self) -> str | None:
        """The Redis revocation store's epoch: a token written once into an empty store.

        Redis restarted without its data loses the revocations and this token alike; the next
        reader writes a new one. Sessions carry the epoch they were sealed under, so one sealed
        before the loss is refused (``open``) instead of rehydrating again as if never revoked.
        None without a Redis revocation store (memory and file stores do not lose data this way).
        """
        if self.config.revocation.backend != "redis":
            return None
        key = f"{self.config.redis.prefix}revocation:epoch"
        epoch = await self.redis.get(key)
        if epoch is None:
            await self.redis.set(key, secrets.token_urlsafe(12), nx=True)
            epoch = await self.redis.get(key)
        return str(epoch)

    async def seal(self, mapping: dict[str, Any], tenant: str, session_id: str | None, policy: str) -> tuple[str, Any]:
        blob, sess = self.sealer.seal(mapping, tenant=tenant, session_id=session_id, policy=policy,
                                      epoch=await self.revocation_epoch())
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
        if sess.epoch is not None and sess.epoch != await self.revocation_epoch():
            raise ApiError(409, "session_epoch_changed", "the revocation store lost its data since this session was sealed "
                           "(Redis restarted without persistence), so its revocations cannot be checked; start a new session")
        return sess

    # --- revocation, per tenant ------------------------------------------------------------
    # A revocation belongs to one tenant: the store keeps digests of "tenant / id" and "tenant /
    # value", so a tenant's admin can neither revoke another tenant's session nor delete a value
    # everywhere, and a value revoked for one tenant still rehydrates for the others.
    @staticmethod
    def _scoped(tenant: str, item: str) -> str:
        return f"{tenant}\x1f{item}"

    async def revoke_session(self, tenant: str, session_id: str) -> None:
        await self.revocation.revoke_session(self._scoped(tenant, session_id))

    async def revoke_value(self, tenant: str, value: str) -> None:
        await self.revocation.revoke_value(self._scoped(tenant, value))

    async def session_revoked(self, tenant: str, session_id: str) -> bool:
        return bool(await self.revocation.session_revoked(self._scoped(tenant, session_id)))

    async def revoked_values(self, tenant: str, values: Any) -> set[str]:
        scoped = {self._scoped(tenant, v): v for v in values}
        return {scoped[h] for h in await self.revocation.revoked_values(scoped)}

    async def revoked_in(self, tenant: str, session: Any) -> Any:
        """The rehydrator's ``revoked`` predicate for a session's values (None: none of them is revoked)."""
        gone = await self.revoked_values(tenant, (e["value"] for e in session.entries.values()))
        return (lambda _t, v: v in gone) if gone else None

    async def open_live(self, blob: str, tenant: str) -> Any:
        """``open``, refusing a revoked session (403 ``session_revoked``)."""
        sess = await self.open(blob, tenant)
        if await self.session_revoked(tenant, sess.session_id):
            raise ApiError(403, "session_revoked", "this session was revoked")
        return sess

    def tenant_of(self, principal: Principal) -> str:
        return principal.tenant or self.config.session.default_tenant

    def audit_write(self, event: str, principal: Principal, **fields: Any) -> None:
        if self.audit is not None:
            self.audit.write(event, key=principal.key_id, tenant=principal.tenant, **fields)
