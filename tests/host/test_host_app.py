"""The assembled app: overridable dependencies, no silent fallback, presets over the WebSocket."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from haltguard.host.app import create_app
from haltguard.host.auth import Principal
from haltguard.host.config import ALL_SCOPES, load_config
from haltguard.host.deps import authenticate, get_limiter
from haltguard.host.engines import EngineLoadError
from haltguard.kernel.demo import ANSWER, CONTEXT
from haltguard.kernel.presets import preset

HEURISTIC = {"scorer": {"engine": "heuristic"}, "server": {"demo": False}}


def test_auth_and_rate_limit_are_dependencies_a_test_can_replace():
    app = create_app(load_config(data={**HEURISTIC, "rate_limit": {"rate": 0.001, "burst": 1}}), env={})
    with TestClient(app) as c:
        assert c.post("/v1/detect", json={"text": "a@b.io"}).status_code == 401  # no key configured
        app.dependency_overrides[authenticate] = lambda: Principal("test", frozenset(ALL_SCOPES), None, "test")
        assert c.post("/v1/detect", json={"text": "a@b.io"}).status_code == 200
        assert c.post("/v1/detect", json={"text": "a@b.io"}).status_code == 429  # burst 1: the real limiter
        app.dependency_overrides[get_limiter] = lambda: None
        r = c.post("/v1/detect", json={"text": "write to a@b.io"})
        assert r.status_code == 200 and r.json()["findings"][0]["type"] == "email"


def test_a_model_that_cannot_load_stops_startup_unless_the_fallback_is_configured(tmp_path):
    cfg = {"scorer": {"model_dir": str(tmp_path)}, "server": {"demo": False}}
    with pytest.raises(EngineLoadError, match="scorer.fallback: heuristic"):
        with TestClient(create_app(load_config(data=cfg), env={})):
            pass
    cfg["scorer"]["fallback"] = "heuristic"
    with TestClient(create_app(load_config(data=cfg), env={})) as c:
        ready = c.get("/v1/ready").json()
    assert ready["ready"] and ready["model"]["engine"] == "heuristic" and "manifest.json" in ready["model"]["fallback_reason"]


def test_stream_takes_a_preset_by_name_and_defaults_to_the_configured_one():
    cfg = load_config(data={**HEURISTIC, "auth": {"open_access": True}, "halt": {"preset": "chat"}})
    with TestClient(create_app(cfg, env={})) as c:
        t = 0.28  # the heuristic engine's threshold: presets are relative to it
        for sent, want in ((None, preset("chat", t)), ("strict", preset("strict", t)),
                           ({"preset": "balanced", "hard_limit": 0.3}, None)):
            with c.websocket_connect("/v1/stream") as ws:
                ws.send_json({"type": "start", "context": CONTEXT, "text": ANSWER,
                              **({"halt": sent} if sent is not None else {})})
                started = ws.receive_json()
                got = started["config"]
                if want is not None:
                    assert got == want.to_dict()
                else:
                    assert got == {**preset("balanced", t).to_dict(), "hard_limit": 0.3}
        with c.websocket_connect("/v1/stream") as ws:
            ws.send_json({"type": "start", "context": CONTEXT, "halt": "lenient"})
            err = ws.receive_json()
            assert err["type"] == "error" and err["code"] == "invalid_halt_config" and "lenient" in err["message"]


def test_a_context_with_more_windows_than_the_review_cap_is_refused():
    cfg = load_config(data={**HEURISTIC, "auth": {"open_access": True}, "server": {"demo": False, "max_review_pairs": 3},
                            "scorer": {"engine": "onnx"}})
    context = " ".join(f"Fact number {i} is stated here in some detail about the tower." for i in range(200))
    with TestClient(create_app(cfg, env={})) as c, c.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "context": context})
        err = ws.receive_json()
    assert err["type"] == "error" and err["code"] == "context_too_large"


def test_cors_allows_the_listed_origins_only():
    cfg = load_config(data={**HEURISTIC, "auth": {"open_access": True},
                            "server": {"demo": False, "cors_origins": ["https://app.example.com"]}})
    with TestClient(create_app(cfg)) as c:
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        ok = c.options("/v1/detect", headers={"Origin": "https://app.example.com", **pre})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example.com"
        bad = c.options("/v1/detect", headers={"Origin": "https://evil.example.net", **pre})
        assert "access-control-allow-origin" not in bad.headers
        r = c.post("/v1/detect", json={"text": "x"}, headers={"Origin": "https://app.example.com"})
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    cfg = load_config(data={**HEURISTIC, "auth": {"open_access": True}, "server": {"demo": False}})
    with TestClient(create_app(cfg)) as c:  # no list: no CORS headers at all
        r = c.post("/v1/detect", json={"text": "x"}, headers={"Origin": "https://app.example.com"})
        assert "access-control-allow-origin" not in r.headers


def test_openapi_names_how_keys_are_presented():
    cfg = load_config(data={**HEURISTIC, "server": {"demo": False}})
    with TestClient(create_app(cfg)) as c:
        o = c.get("/openapi.json").json()
        assert set(o["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
        assert {"HTTPBearer": []} in o["paths"]["/v1/detect"]["post"]["security"]
        assert "security" not in o["paths"]["/v1/health"]["get"]
        assert c.head("/v1/health").status_code == 200
