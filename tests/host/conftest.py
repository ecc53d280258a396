"""Real servers for the host tests: one redis-server per session, host processes on 127.0.0.1."""

from __future__ import annotations

import pytest

from haltguard.testing import HostProcess, RedisServer
from hostenv import base_config


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

