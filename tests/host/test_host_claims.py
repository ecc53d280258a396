"""Review and streams with the shipped model: chit-chat and placeholders never flag or halt a chat answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from haltguard.host.app import create_app
from haltguard.host.config import load_config

PRICING = ("Our Basic plan costs 10 dollars per month and includes email support. The Pro plan costs 25 dollars "
           "per month and adds priority email support and phone support. Refunds are available for annual plans "
           "only, within 30 days of purchase.")
ANSWER = ("Great question! Here is a summary. The Pro plan costs 25 dollars per month. "
          "I have noted your email {{email:1}}. Would you like to upgrade? "
          "Let me know if you need anything else.")


@pytest.fixture(scope="module")
def client():
    cfg = load_config(data={"auth": {"open_access": True}, "server": {"demo": False}})
    with TestClient(create_app(cfg, env={})) as c:
        yield c


def test_review_judges_claims_only(client):
    rv = client.post("/v1/review", json={"response": ANSWER, "context": PRICING}).json()
    verdicts = {c["sentence"]: (c["verdict"], c["reason"]) for c in rv["claims"]}
    assert verdicts["Great question!"] == ("no_claim", "acknowledgement")
    assert verdicts["Here is a summary."] == ("no_claim", "meta")
    assert verdicts["I have noted your email {{email:1}}."] == ("no_claim", "assistant_action")
    assert verdicts["Would you like to upgrade?"] == ("no_claim", "question")
    assert verdicts["Let me know if you need anything else."] == ("no_claim", "offer_help")
    assert verdicts["The Pro plan costs 25 dollars per month."][0] == "supported"
    assert rv["approved"] and rv["coherence"] >= rv["threshold"]
    assert all(c["support"] is None for c in rv["claims"] if c["verdict"] == "no_claim")


def test_a_placeholder_is_never_read_as_a_number(client):
    sent = "Your card {{credit_card:1}} is charged 25 dollars per month for the Pro plan."
    rv = client.post("/v1/review", json={"response": sent, "context": PRICING}).json()
    (claim,) = rv["claims"]
    assert claim["verdict"] != "contradicted" and claim["contradiction"] is None
    score = client.post("/v1/score", json={"pairs": [{"premise": PRICING, "hypothesis": sent}]}).json()
    assert score["scores"][0] == pytest.approx(claim["support"])


def test_the_default_stream_releases_chit_chat_and_halts_what_review_flags(client):
    wrong = "Refunds are available within 90 days of purchase."
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "context": PRICING, "text": ANSWER + " " + wrong})
        frames = []
        while True:
            f = ws.receive_json()
            frames.append(f)
            if f["type"] == "done":
                break
    started = frames[0]
    assert started["config"]["hard_limit"] == pytest.approx(0.53)  # the balanced preset at the model's threshold
    released = "".join(f["text"] for f in frames if f["type"] == "release")
    assert released.startswith(ANSWER)  # every chit-chat sentence released, none judged
    skipped = [f for f in frames if f["type"] == "score" and f["value"] is None]
    assert {f["evidence"]["verdict"] for f in skipped} == {"no_claim"} and len(skipped) >= 4
    halt = next(f for f in frames if f["type"] == "halt")
    assert "90 days" in halt["evidence"]["sentence"] and halt["evidence"]["verdict"] == "contradicted"
    assert "90 days" not in released
    review = client.post("/v1/review", json={"response": wrong, "context": PRICING}).json()
    assert review["claims"][0]["verdict"] == halt["evidence"]["verdict"]
