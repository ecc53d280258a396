"""Revocation of sessions and entity values: memory, append-only file, or Redis.

Only HMAC-SHA256 digests are stored (keyed by a secret derived from the host's
configuration), so a revocation list leaks neither session ids nor personal data even if
the file or the Redis instance is read by someone else. Revoked sessions refuse to
rehydrate; revoked values rehydrate as ``[DELETED]``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

__all__ = ["RevocationStore", "MemoryRevocation", "FileRevocation", "RedisRevocation", "digest"]


def digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


class RevocationStore(Protocol):
    async def revoke_session(self, session_id: str) -> None: ...
    async def revoke_value(self, value: str) -> None: ...
    async def session_revoked(self, session_id: str) -> bool: ...
    async def revoked_values(self, values: Iterable[str]) -> set[str]: ...
    async def ping(self) -> bool: ...


class MemoryRevocation:
    """One process only: what a single-instance or embedded deployment needs."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._sessions: set[str] = set()
        self._values: set[str] = set()

    def _h(self, kind: str, v: str) -> str:
        return digest(self._key, kind, v)

    async def revoke_session(self, session_id: str) -> None:
        self._sessions.add(self._h("s", session_id))

    async def revoke_value(self, value: str) -> None:
        self._values.add(self._h("v", value))

    async def session_revoked(self, session_id: str) -> bool:
        return self._h("s", session_id) in self._sessions

    async def revoked_values(self, values: Iterable[str]) -> set[str]:
        return {v for v in values if self._h("v", v) in self._values}

    async def ping(self) -> bool:
        return True


class FileRevocation(MemoryRevocation):
    """Append-only file of ``s <hash>`` / ``v <hash>`` lines; survives restarts.

    Every instance that shares the file sees the others' revocations: reads re-load the
    file whenever its size changed (appends only ever grow it).
    """

    def __init__(self, key: bytes, path: str | Path) -> None:
        super().__init__(key)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        self._seen = 0
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        size = self.path.stat().st_size
        if size == self._seen:
            return
        with self._lock, self.path.open("r", encoding="ascii") as fh:
            fh.seek(self._seen)
            chunk = fh.read()
            complete = chunk[: chunk.rfind("\n") + 1]  # a half-written last line waits for the next read
            for line in complete.splitlines():
                kind, _, h = line.partition(" ")
                (self._sessions if kind == "s" else self._values).add(h)
            self._seen += len(complete)

    def _append(self, kind: str, h: str) -> None:
        line = f"{kind} {h}\n".encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)  # one O_APPEND write: atomic for lines this short
            os.fsync(fd)
        finally:
            os.close(fd)

    async def revoke_session(self, session_id: str) -> None:
        self._append("s", self._h("s", session_id))
        self._reload()

    async def revoke_value(self, value: str) -> None:
        self._append("v", self._h("v", value))
        self._reload()

    async def session_revoked(self, session_id: str) -> bool:
        self._reload()
        return await super().session_revoked(session_id)

    async def revoked_values(self, values: Iterable[str]) -> set[str]:
        self._reload()
        return await super().revoked_values(values)

    async def ping(self) -> bool:
        return self.path.exists()


class RedisRevocation:
    """Two Redis sets shared by every instance: a revocation is seen by all on the next request."""

    def __init__(self, key: bytes, client: Any, prefix: str = "haltguard:") -> None:
        self._key = key
        self._r = client
        self._s = prefix + "revoked:sessions"
        self._v = prefix + "revoked:values"

    def _h(self, kind: str, v: str) -> str:
        return digest(self._key, kind, v)

    async def revoke_session(self, session_id: str) -> None:
        await self._r.sadd(self._s, self._h("s", session_id))

    async def revoke_value(self, value: str) -> None:
        await self._r.sadd(self._v, self._h("v", value))

    async def session_revoked(self, session_id: str) -> bool:
        return bool(await self._r.sismember(self._s, self._h("s", session_id)))

    async def revoked_values(self, values: Iterable[str]) -> set[str]:
        vals = list(dict.fromkeys(values))
        if not vals:
            return set()
        flags = await self._r.smismember(self._v, [self._h("v", v) for v in vals])
        return {v for v, f in zip(vals, flags) if f}

    async def ping(self) -> bool:
        return bool(await self._r.ping())
