"""Sealed client-held sessions: the transform mapping travels with the client, encrypted.

Envelope (compact, URL-safe, dot-separated like a JWT so it survives headers and URLs)::

    hg1.<kid>.<b64url(tenant)>.<b64url(nonce || AES-256-GCM ciphertext+tag)>

The per-kid key comes from HKDF-SHA256 over the configured secret, so secrets of any form
become proper AES keys and one secret can never serve two key ids. The version, kid and
tenant are the associated data: editing any of them (or presenting a blob under another
tenant) fails authentication. The tenant is also in clear so that a wrong tenant gets its
own error code instead of a generic "invalid".
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SessionSealer", "SealError", "SealedSession", "derive_key", "new_session_id"]

VERSION = "hg1"
_NONCE = 12
_MAX_BLOB = 2_000_000


class SealError(ValueError):
    """A blob that cannot be opened. ``code`` is the machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SealedSession:
    session_id: str
    tenant: str
    policy: str | None
    issued_at: int
    expires_at: int
    mapping: dict[str, Any]
    epoch: str | None = None  # the revocation store's epoch when sealed (see HostState.open)


def derive_key(secret: str | bytes, kid: str, purpose: str = "session-aead") -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"haltguard/v1",
                info=f"{purpose}|{kid}".encode()).derive(raw)


def new_session_id() -> str:
    return "s_" + secrets.token_urlsafe(16)


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _b64d(s: str) -> bytes:
    if not s or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in s):
        raise SealError("session_malformed", "session_state is not URL-safe base64")
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise SealError("session_malformed", "session_state is not URL-safe base64") from None
    if _b64e(raw) != s:  # non-canonical (unused low bits set): a changed blob must never pass
        raise SealError("session_malformed", "session_state is not canonical base64")
    return raw


class SessionSealer:
    """Key ring: the first key encrypts, every key decrypts (drop a key to retire its blobs)."""

    def __init__(self, keys: Sequence[tuple[str, str | bytes]], ttl_s: int = 86_400,
                 clock: Callable[[], float] = time.time) -> None:
        if not keys:
            raise ValueError("the key ring needs at least one key")
        self._ring = {kid: AESGCM(derive_key(secret, kid)) for kid, secret in keys}
        self.current = keys[0][0]
        self.ttl_s = ttl_s
        self._clock = clock

    @property
    def kids(self) -> list[str]:
        return list(self._ring)

    def seal(self, mapping: Mapping[str, Any], *, tenant: str, session_id: str | None = None,
             policy: str | None = None, ttl_s: int | None = None, epoch: str | None = None) -> tuple[str, SealedSession]:
        now = int(self._clock())
        sess = SealedSession(session_id or new_session_id(), tenant, policy, now, now + (ttl_s or self.ttl_s), dict(mapping),
                             epoch)
        fields = {"sid": sess.session_id, "ten": tenant, "pol": policy, "iat": sess.issued_at, "exp": sess.expires_at,
                  "map": sess.mapping, **({"ep": epoch} if epoch is not None else {})}
        body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        nonce = os.urandom(_NONCE)
        ten = _b64e(tenant.encode("utf-8"))
        ct = self._ring[self.current].encrypt(nonce, body.encode("utf-8"), self._aad(self.current, ten))
        return f"{VERSION}.{self.current}.{ten}.{_b64e(nonce + ct)}", sess

    @staticmethod
    def _aad(kid: str, ten: str) -> bytes:
        return f"{VERSION}.{kid}.{ten}".encode("ascii")

    def unseal(self, blob: str, *, tenant: str) -> SealedSession:
        if not isinstance(blob, str) or len(blob) > _MAX_BLOB:
            raise SealError("session_malformed", "session_state must be a string of at most 2 MB")
        parts = blob.split(".")
        if len(parts) != 4:
            raise SealError("session_malformed", "session_state must have 4 dot-separated parts")
        ver, kid, ten, payload = parts
        if ver != VERSION:
            raise SealError("session_version", f"unsupported session_state version {ver[:8]!r}")
        aead = self._ring.get(kid)
        if aead is None:
            raise SealError("session_unknown_key", "session_state was sealed with a key this host no longer has")
        try:
            blob_tenant = _b64d(ten).decode("utf-8")
        except UnicodeDecodeError:
            raise SealError("session_malformed", "session_state tenant is not UTF-8") from None
        if blob_tenant != tenant:
            raise SealError("session_wrong_tenant", "session_state belongs to another tenant")
        raw = _b64d(payload)
        if len(raw) < _NONCE + 16:
            raise SealError("session_malformed", "session_state is truncated")
        try:
            body = aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(kid, ten))
        except InvalidTag:
            raise SealError("session_tampered", "session_state failed authentication (tampered or truncated)") from None
        d = json.loads(body)
        if d.get("ten") != tenant:  # cannot happen without the key; defence in depth
            raise SealError("session_wrong_tenant", "session_state belongs to another tenant")
        if int(d["exp"]) <= int(self._clock()):
            raise SealError("session_expired", "session_state has expired")
        return SealedSession(d["sid"], d["ten"], d.get("pol"), int(d["iat"]), int(d["exp"]), d["map"], d.get("ep"))
