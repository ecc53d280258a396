"""Real servers for the host tests: one redis-server per session, host processes on 127.0.0.1."""

from __future__ import annotations

import pytest

from haltguard.testing import HostProcess, RedisServer

ADMIN_KEY = "admin-key-0123456789abcdef"
READER_KEY = "detect-only-key-0123456789"
TENANT_KEY = "tenant-b-key-0123456789abc"
SECRET_A = "A" * 40
SECRET_B = "B" * 40


def base_config(tmp_path, **over):
    cfg = {
        "auth": {"keys": [
            {"name": "admin", "key": ADMIN_KEY},
            {"name": "reader", "key": READER_KEY, "scopes": ["detect"]},
            {"name": "tenant-b", "key": TENANT_KEY, "tenant": "b"},
        ]},
        "session": {"keys": [{"kid": "k1", "secret": SECRET_A}]},
        "audit": {"path": str(tmp_path / "audit.jsonl")},
        "rate_limit": {"rate": 1000, "burst": 2000},
        "server": {"demo": False},
    }
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg


@pytest.fixture(scope="session")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The default engine (shipped int8 model on ONNX Runtime) behind a real uvicorn."""
    tmp = tmp_path_factory.mktemp("host")
    cfg = base_config(tmp, revocation={"backend": "file", "path": str(tmp / "revoked.txt")})
    with HostProcess(cfg, log=tmp / "host.log") as h:
        h.tmp = tmp
        yield h


def auth(key=ADMIN_KEY):
    return {"Authorization": f"Bearer {key}"}
