"""API keys with scopes and optional tenant binding.

Keys are kept only as SHA-256 digests; a presented key is hashed and compared with every
configured digest in constant time (no early exit), so neither timing nor a memory dump
reveals a usable key. Open access exists only when the config says so explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from haltguard.host.config import ALL_SCOPES, DEFAULT_SCOPES, MIN_KEY_LENGTH, AuthConfig

__all__ = ["Principal", "KeyRing", "AuthError", "hash_key", "parse_env_keys"]


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]
    tenant: str | None
    key_id: str  # a short digest prefix: what logs, metrics and rate limits see
    policy: str | None = None  # the named policy the proxy applies (None: the host's default)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_env_keys(raw: str) -> list[dict[str, object]]:
    """``name:key[:scope+scope[:tenant]]`` entries separated by commas.

    A key that names no scopes gets ``DEFAULT_SCOPES`` (no admin, no metrics). Errors name the
    entry by position and name, never by its text: an entry without a colon may be a bare key.
    """
    out: list[dict[str, object]] = []
    for n, item in enumerate(filter(None, (p.strip() for p in raw.split(","))), 1):
        parts = item.split(":")
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(f"API key entry #{n}: expected name:key[:scopes[:tenant]]")
        where = f"API key entry #{n} ({parts[0]!r})"
        if len(parts[1]) < MIN_KEY_LENGTH:
            raise ValueError(f"{where}: the key must be at least {MIN_KEY_LENGTH} characters")
        scopes = parts[2].split("+") if len(parts) > 2 and parts[2] else list(DEFAULT_SCOPES)
        bad = [s for s in scopes if s not in ALL_SCOPES]
        if bad:
            raise ValueError(f"{where}: unknown scopes {bad} (known: {', '.join(ALL_SCOPES)})")
        out.append({"name": parts[0], "key": parts[1], "scopes": scopes,
                    "tenant": parts[3] if len(parts) > 3 and parts[3] else None})
    return out


class KeyRing:
    def __init__(self, config: AuthConfig, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        entries: list[tuple[str, str, frozenset[str], str | None, str | None]] = []
        for k in config.keys:
            digest = k.key_sha256 or hash_key(k.key or "")
            entries.append((k.name, digest, frozenset(k.scopes), k.tenant, k.policy))
        if config.env_keys and env.get(config.env_keys):
            for e in parse_env_keys(env[config.env_keys]):
                scopes: list[str] = e["scopes"]  # type: ignore[assignment]
                tenant: str | None = e["tenant"]  # type: ignore[assignment]
                entries.append((str(e["name"]), hash_key(str(e["key"])), frozenset(scopes), tenant, None))
        self._entries = entries
        self.open_access = config.open_access

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            if self.open_access:
                return Principal("anonymous", frozenset(ALL_SCOPES), None, "anonymous")
            raise AuthError(401, "missing_api_key", "an API key is required (Authorization: Bearer <key> or X-API-Key)")
        digest = hash_key(presented)
        found = None
        for entry in self._entries:  # no early exit: constant work whatever matches
            if hmac.compare_digest(entry[1], digest):
                found = entry
        if found is None:
            raise AuthError(401, "invalid_api_key", "the API key is not valid")
        return Principal(found[0], found[2], found[3], found[1][:12], found[4])

    @staticmethod
    def require(principal: Principal, scope: str) -> None:
        if scope not in principal.scopes:
            raise AuthError(403, "missing_scope", f"this API key lacks the {scope!r} scope")
