"""The chat-answer probe of issue #35 and `haltguard eval nli --chat`."""

from __future__ import annotations

from haltguard.models.chat_probe import PROBE, meets_goal, probe_rows
from haltguard.models.evaluate import eval_chat


def test_probe_rows_cover_every_paragraph_and_kind():
    rows = probe_rows()
    assert {r["kind"] for r in rows} == {"supported", "wrong", "chitchat"}
    assert len({r["context"] for r in rows}) == len(PROBE) == 8
    assert sum(r["kind"] == "wrong" for r in rows) == sum(r["kind"] == "supported" for r in rows) == 40


def test_goal_rule():
    def rep(chat, wrong, sup):
        return {"chitchat": {"n": 48, "flagged": chat}, "wrong": {"n": 40, "flagged": wrong}, "supported": {"n": 40, "flagged": sup}}

    assert meets_goal(rep(0, 36, 2)) and not meets_goal(rep(1, 40, 0))
    assert not meets_goal(rep(0, 35, 0)) and not meets_goal(rep(0, 40, 3))


def test_no_chit_chat_sentence_of_the_probe_is_judged():
    out = eval_chat(backend="heuristic")["heuristic"]
    assert out["chitchat"] == {"n": 48, "flagged": 0, "examples": []}
    # a wrong fact is always judged (the examples are the ones that passed), never taken for chit-chat
    assert out["wrong"]["n"] == 40 and all(e["verdict"] == "supported" for e in out["wrong"]["examples"])
