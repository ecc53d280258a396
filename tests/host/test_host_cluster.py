"""Three host processes behind one Redis: what a load-balanced deployment relies on."""

from __future__ import annotations

import concurrent.futures as cf

import httpx
import pytest

from haltguard.testing import HostProcess
from hostenv import auth, base_config

LIMITED_KEY = "limited-key-0123456789abcdef"
PII = "Contact alice@example.com, phone +1 415 555 0100."


@pytest.fixture(scope="module")
def cluster(redis_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    cfg = base_config(tmp, redis={"url": redis_server.url, "prefix": "cluster:"},
                      revocation={"backend": "redis"}, session={"store": "redis"},
                      rate_limit={"backend": "redis", "rate": 0.001, "burst": 60},
                      scorer={"engine": "heuristic"})
    cfg["auth"]["keys"].append({"name": "limited", "key": LIMITED_KEY, "scopes": ["detect"]})
    hosts = [HostProcess(cfg, log=tmp / f"host{i}.log") for i in range(3)]
    try:
        yield hosts
    finally:
        for h in hosts:
            h.stop()


def test_ready_reports_redis(cluster):
    for h in cluster:
        r = httpx.get(h.url + "/v1/ready").json()
        assert r["ready"] and r["redis"] == "ok"


def test_revocation_through_one_is_refused_by_the_others(cluster, redis_server):
    a, b, c = (httpx.Client(base_url=h.url, headers=auth()) for h in cluster)
    t = a.post("/v1/transform", json={"input": PII}).json()
    ref = t["session_state"]
    assert ref.startswith("hgref.")  # server-side store: the client holds only an id
    assert b.post("/v1/rehydrate", json={"output": "{{email:1}}", "session_state": ref}).json()["restored_text"] == "alice@example.com"
    assert a.post("/v1/sessions/revoke", json={"value": "alice@example.com"}).status_code == 200
    assert c.post("/v1/rehydrate", json={"output": "{{email:1}}", "session_state": ref}).json()["restored_text"] == "[DELETED]"
    assert b.post("/v1/sessions/revoke", json={"session_id": t["session_id"]}).status_code == 200
    for cl in (a, c):
        r = cl.post("/v1/rehydrate", json={"output": "{{email:1}}", "session_state": ref})
        assert r.status_code == 403 and r.json()["error"]["code"] == "session_revoked"
    keys = redis_server.command("KEYS", "cluster:revoked:*").decode()
    assert "alice" not in keys


def test_global_rate_limit_holds_across_instances(cluster):
    # burst 60, refill ~0 (0.001/s): exactly 60 requests pass in total, whichever instance serves them
    clients = [httpx.Client(base_url=h.url, headers=auth(LIMITED_KEY), timeout=30) for h in cluster]

    def hit(i):
        return clients[i % 3].post("/v1/detect", json={"text": "hello"})

    with cf.ThreadPoolExecutor(12) as ex:
        results = list(ex.map(hit, range(150)))
    ok = [r for r in results if r.status_code == 200]
    limited = [r for r in results if r.status_code == 429]
    assert len(ok) + len(limited) == 150
    assert len(ok) == 60
    assert all(r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1 for r in limited)
    served_by = {i % 3 for i, r in enumerate(results) if r.status_code == 200}
    assert served_by == {0, 1, 2}
