import asyncio

import pytest
import redis.asyncio as aioredis

from haltguard.host.ratelimit import MemoryRateLimiter, RedisRateLimiter
from haltguard.host.revocation import FileRevocation, MemoryRevocation, RedisRevocation
from haltguard.testing import run_coroutine as run

KEY = b"k" * 32


async def _exercise(store):
    await store.revoke_session("s_1")
    await store.revoke_value("alice@example.com")
    assert await store.session_revoked("s_1") and not await store.session_revoked("s_2")
    assert await store.revoked_values(["alice@example.com", "bob@example.com"]) == {"alice@example.com"}


def test_memory_store():
    run(_exercise(MemoryRevocation(KEY)))


def test_file_store_survives_restart_and_keeps_only_hashes(tmp_path):
    p = tmp_path / "rev.txt"
    run(_exercise(FileRevocation(KEY, p)))
    again = FileRevocation(KEY, p)
    assert run(again.session_revoked("s_1"))
    other = FileRevocation(KEY, p)  # a second instance sees appends of the first
    run(again.revoke_value("carol@example.com"))
    assert run(other.revoked_values(["carol@example.com"])) == {"carol@example.com"}
    text = p.read_text()
    assert "alice" not in text and "s_1" not in text and "carol" not in text


def test_redis_store_shared_and_hashed(redis_server):
    async def go():
        c1 = aioredis.from_url(redis_server.url, decode_responses=True)
        c2 = aioredis.from_url(redis_server.url, decode_responses=True)
        a, b = RedisRevocation(KEY, c1, "t1:"), RedisRevocation(KEY, c2, "t1:")
        await _exercise(a)
        assert await b.session_revoked("s_1")
        members = await c1.smembers("t1:revoked:values") | await c1.smembers("t1:revoked:sessions")
        assert members and all(len(m) == 64 and "alice" not in m for m in members)
        await c1.aclose()
        await c2.aclose()
    run(go())


def test_memory_bucket_refills():
    now = [0.0]
    rl = MemoryRateLimiter(rate=10, burst=5, clock=lambda: now[0])

    async def go():
        res = [await rl.take("k") for _ in range(7)]
        assert [a for a, _ in res] == [True] * 5 + [False] * 2
        assert res[-1][1] == pytest.approx(0.1)
        now[0] += 0.25
        assert [(await rl.take("k"))[0] for _ in range(3)] == [True, True, False]
        assert (await rl.take("other"))[0]
    run(go())


def test_redis_bucket_is_atomic_under_concurrency(redis_server):
    async def go():
        clients = [aioredis.from_url(redis_server.url, decode_responses=True) for _ in range(4)]
        limiters = [RedisRateLimiter(c, rate=0.001, burst=50, prefix="t2:") for c in clients]
        results = await asyncio.gather(*(limiters[i % 4].take("key") for i in range(200)))
        assert sum(1 for a, _ in results if a) == 50
        for c in clients:
            await c.aclose()
    run(go())


def test_a_redis_outage_is_a_503_not_a_500(tmp_path):
    import httpx

    from haltguard.testing import HostProcess, RedisServer
    from hostenv import auth, base_config

    with RedisServer() as r:
        cfg = base_config(tmp_path, redis={"url": r.url}, revocation={"backend": "redis"}, rate_limit={"backend": "redis"})
        with HostProcess(cfg) as h:
            ok = httpx.post(h.url + "/v1/transform", json={"input": "mail a@b.co"}, headers=auth())
            assert ok.status_code == 200
            r.stop()
            down = httpx.post(h.url + "/v1/transform", json={"input": "mail a@b.co"}, headers=auth(), timeout=30)
            assert down.status_code == 503 and down.json()["error"]["code"] == "dependency_unavailable"
            assert down.headers["retry-after"] == "1"


def test_model_work_is_charged_per_pair_and_per_judged_sentence():
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from haltguard.host.app import create_app
    from haltguard.host.config import load_config
    from hostenv import auth

    cfg = load_config(data={"auth": {"open_access": False, "keys": [{"name": "a", "key": "k" * 20}]},
                            "scorer": {"engine": "heuristic"}, "server": {"demo": False},
                            "rate_limit": {"rate": 0.001, "burst": 10, "pair_cost": 1.0}})
    h = auth("k" * 20)
    with TestClient(create_app(cfg)) as c:  # the heuristic judges 4 evidence windows per claim at most
        pairs = [{"premise": "The sky is blue.", "hypothesis": "The sky is blue."}]
        r = c.post("/v1/score", json={"pairs": pairs * 3}, headers=h)  # 1 + 12 tokens: never fits a burst of 10
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_much_work"
        assert c.post("/v1/score", json={"pairs": pairs * 2}, headers=h).status_code == 200  # 1 + 8
        assert c.post("/v1/score", json={"pairs": pairs}, headers=h).status_code == 429  # 1 + 4, ~0 left
    with TestClient(create_app(cfg)) as c:
        text = "The sky is blue. Grass is green. Snow is white. Coal is black."
        with c.websocket_connect("/v1/stream", headers=h) as ws:
            ws.send_json({"type": "start", "context": text, "text": text})
            frames = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    frames.append(ws.receive_json())
        assert closed.value.code == 4429 and frames[-1]["code"] == "rate_limited"
        assert sum(1 for f in frames if f["type"] == "score") == 3  # 1 + 4 + 4 fit; the third sentence overdraws and ends the stream


def test_a_redis_that_lost_its_data_fails_closed_for_older_sessions(tmp_path):
    import httpx

    from haltguard.testing import HostProcess, RedisServer
    from hostenv import auth, base_config

    r = RedisServer()
    try:
        cfg = base_config(tmp_path, redis={"url": r.url}, revocation={"backend": "redis"})
        with HostProcess(cfg) as h, httpx.Client(base_url=h.url, timeout=30) as c:
            t = c.post("/v1/transform", json={"input": "mail ann@example.com"}, headers=auth()).json()
            back = {"output": "{{email:1}}", "session_state": t["session_state"]}
            assert c.post("/v1/sessions/revoke", json={"session_id": t["session_id"]}, headers=auth()).status_code == 200
            assert c.post("/v1/rehydrate", json=back, headers=auth()).json()["error"]["code"] == "session_revoked"
            port = r.port
            r.stop()  # Redis restarts without persistence: the revocation is gone
            r = RedisServer(port)
            for _ in range(3):  # the client reconnects on its next command
                got = c.post("/v1/rehydrate", json=back, headers=auth())
                if got.status_code != 503:
                    break
            # not "ann@example.com" again: the session predates the loss, so it is refused
            assert got.status_code == 409 and got.json()["error"]["code"] == "session_epoch_changed"
            fresh = c.post("/v1/transform", json={"input": "mail ann@example.com"}, headers=auth()).json()
            again = c.post("/v1/rehydrate", json={"output": "{{email:1}}", "session_state": fresh["session_state"]},
                           headers=auth())
            assert again.json()["restored_text"] == "ann@example.com"  # new sessions work
    finally:
        r.stop()
