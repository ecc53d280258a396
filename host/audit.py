"""Hash-chained JSONL audit log: decisions and digests, never raw text or personal data.

Each record carries the previous record's hash and its own (SHA-256 over the canonical
JSON of the record without ``hash``), so editing, inserting, reordering or deleting any
line breaks the chain at that point and ``haltguard audit verify`` names the line.
Several host processes may share one file: writes take an exclusive ``flock`` and re-read
the chain head whenever another writer has grown the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["AuditLog", "verify", "GENESIS", "record_hash", "text_digest"]

GENESIS = "0" * 64
log = logging.getLogger("haltguard.host")


def text_digest(text: str) -> str:
    """What the log keeps instead of a text: enough to match, not to read."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def record_hash(record: dict[str, Any], key: bytes | None = None) -> str:
    """SHA-256 of the record's canonical JSON (without ``hash``), or HMAC-SHA256 under ``key``.

    Unkeyed, anyone who can rewrite the whole file can re-chain it and it verifies; keyed (the
    key lives in the host's config, never in the log), a rewritten log fails ``verify`` unless
    the forger also has the key.
    """
    body = {k: v for k, v in record.items() if k != "hash"}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest() if key else hashlib.sha256(data).hexdigest()


class AuditLog:
    def __init__(self, path: str | Path, key: bytes | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.keyed = key is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        self._lock = threading.Lock()
        self._known_size = -1
        self._head = (GENESIS, 0)

    def _read_head(self, fh: Any) -> tuple[str, int]:
        size = os.fstat(fh.fileno()).st_size
        if size == self._known_size:
            return self._head
        if size == 0:
            return GENESIS, 0
        back = min(size, 65536)
        fh.seek(size - back)
        tail = fh.read(back)
        if not tail.endswith(b"\n"):
            return self._recover_torn(fh, size, tail)
        last = json.loads(tail.decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1])
        return last["hash"], int(last["seq"])

    def _recover_torn(self, fh: Any, size: int, tail: bytes) -> tuple[str, int]:
        """A last line without its newline is a record whose write never finished (a crash, a full
        disk). It is moved to ``<log>.torn`` (kept, not deleted) and the log cut back to its last
        whole record, so the chain goes on from there and every later write succeeds."""
        cut = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else size - len(tail)
        fh.seek(cut)
        fragment = fh.read()
        with open(f"{self.path}.torn", "ab") as side:
            side.write(fragment + b"\n")
        fh.truncate(cut)
        log.warning("audit log %s: an unfinished last record (%d bytes) moved to %s.torn", self.path, len(fragment), self.path)
        self._known_size = -1
        return self._read_head(fh) if cut else (GENESIS, 0)

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._lock, self.path.open("ab+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                prev, seq = self._read_head(fh)
                rec: dict[str, Any] = {"seq": seq + 1, "ts": round(time.time(), 3), "event": event, **fields, "prev": prev}
                if self.keyed:
                    rec["mac"] = "hmac-sha256"  # says verify needs the key
                rec["hash"] = record_hash(rec, self.key)
                line = (json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode()
                fh.seek(0, os.SEEK_END)
                fh.write(line)
                fh.flush()
                self._head = (rec["hash"], rec["seq"])
                self._known_size = os.fstat(fh.fileno()).st_size
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return rec


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        yield from enumerate(fh, 1)


def verify(path: str | Path, key: bytes | None = None) -> dict[str, Any]:
    """Walk the chain; report every line where it breaks, plus the head to anchor elsewhere.

    A keyed record (``"mac": "hmac-sha256"``) verifies only with ``key``; an unkeyed record in a
    log checked with a key is a problem too (it could have been forged without one).
    """
    problems: list[dict[str, Any]] = []
    prev, seq, count = GENESIS, 0, 0
    for n, line in _lines(Path(path)):
        count += 1
        if not line.endswith("\n"):
            problems.append({"line": n, "problem": "last line is incomplete"})
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            rec = None
        if not isinstance(rec, dict):
            problems.append({"line": n, "problem": "not a JSON object"})
            continue
        keyed = rec.get("mac") == "hmac-sha256"
        if keyed and key is None:
            problems.append({"line": n, "problem": "keyed record: verify with the audit key (--key-env)"})
        elif key is not None and not keyed:
            problems.append({"line": n, "problem": "unkeyed record in a keyed log: it could be forged without the key"})
        elif not hmac.compare_digest(str(rec.get("hash")), record_hash(rec, key if keyed else None)):
            problems.append({"line": n, "problem": "record was edited (hash mismatch)"})
        if rec.get("prev") != prev:
            problems.append({"line": n, "problem": "chain broken: a record before it was edited, removed or reordered"})
        if rec.get("seq") != seq + 1:
            problems.append({"line": n, "problem": f"sequence jumps from {seq} to {rec.get('seq')}"})
        prev = str(rec.get("hash"))
        got = rec.get("seq")
        seq = got if isinstance(got, int) else seq + 1
    return {"ok": not problems, "records": count, "head": {"seq": seq, "hash": prev}, "problems": problems}
