from __future__ import annotations

import pytest

from haltguard.kernel.policy import Policy, PolicyError


def test_defaults_and_round_trip():
    p = Policy()
    assert p.rule_for("email").action == "tokenize" and p.rule_for("credit_card").action == "mask"
    again = Policy.from_dict(p.to_dict())
    assert again.to_dict() == p.to_dict()


@pytest.mark.parametrize("data, field", [
    ({"entities": {"email": {"action": "shred"}}}, "entities.email.action"),
    ({"entities": {"email": {"restore": "sometimes"}}}, "entities.email.restore"),
    ({"entities": {"emial": "tokenize"}}, "entities.emial"),
    ({"entities": {"credit_card": {"keep_last": -1}}}, "entities.credit_card.keep_last"),
    ({"enabled": ["email", "fax"]}, "enabled[1]"),
    ({"min_score": 2}, "min_score"),
    ({"prompt_security": {"action": "ignore"}}, "prompt_security.action"),
    ({"prompt_security": {"threshold": "high"}}, "prompt_security.threshold"),
    ({"output_protection": {"mode": "paranoid"}}, "output_protection.mode"),
    ({"context_words": {"phone": "hotline"}}, "context_words.phone"),
    ({"custom_recognizers": [{"type": "x1", "patterns": ["("]}]}, "custom_recognizers[0].patterns[0]"),
    ({"colour": 1}, "colour"),
])
def test_errors_name_the_field(data, field):
    with pytest.raises(PolicyError) as err:
        Policy.from_dict(data)
    assert err.value.field == field, str(err.value)


def test_custom_recognizer_enabled_and_context_words():
    p = Policy.from_dict({
        "enabled": ["email", "ticket"],
        "custom_recognizers": [{"type": "ticket", "patterns": [r"TCK-\d{5}"], "score": 0.8}],
        "entities": {"ticket": "redact"},
        "context_words": {"email": ["inbox"]},
    })
    found = p.detector().detect("inbox a@b.io, TCK-12345, 4111 1111 1111 1111")
    assert [f.type for f in found] == ["email", "ticket"]
    assert found[0].context == "inbox"
    assert p.rule_for("ticket").action == "redact"


def test_invalid_json_policy():
    with pytest.raises(PolicyError, match="invalid JSON"):
        Policy.from_json("{")


def test_name_types_and_detector_modes():
    from haltguard.kernel.ner import Entity
    from haltguard.kernel.policy import Policy, PolicyError

    text = "I'm Jane Roe, mail jane@example.com"
    names = [Entity("person", 4, 12, 0.9)]
    p = Policy.from_dict({"entities": {"person": "redact"}})  # a name type is a known entity
    assert p.rule_for("person").action == "redact" and p.detector_mode == "both" and p.uses_names
    assert [f.type for f in p.findings(text, names)] == ["person", "email"]
    assert [f.type for f in p.findings(text)] == ["email"]  # no name model ran: the recognizers' findings
    assert [f.type for f in Policy.from_dict({"detector_mode": "regex"}).findings(text, names)] == ["email"]
    only = Policy.from_dict({"detector_mode": "ner"})
    assert [f.type for f in only.findings(text, names)] == ["person"]
    with pytest.raises(PolicyError, match="detector_mode.*no name model"):
        only.findings(text)
    some = Policy.from_dict({"enabled": ["email", "location"]})
    assert some.enabled_names == ("location",) and [f.type for f in some.findings(text, names)] == ["email"]
    assert not Policy.from_dict({"enabled": ["email"]}).uses_names
    assert Policy.from_dict(some.to_dict()) == some  # round trip keeps the name types
    with pytest.raises(PolicyError, match="detector_mode"):
        Policy.from_dict({"detector_mode": "spacy"})


def test_looser_fields_names_what_a_policy_weakens():
    from haltguard.kernel.policy import looser_fields

    base = Policy.from_dict({"entities": {"email": {"action": "redact"}}, "prompt_security": {"action": "block"}})
    assert looser_fields(base, base) == []
    tighter = Policy.from_dict({"entities": {"email": {"action": "block"}, "phone": {"action": "redact"}},
                                "prompt_security": {"action": "block", "threshold": 0.3}, "min_score": 0.4,
                                "output_protection": {"mode": "strict"}})
    assert looser_fields(base, tighter) == []
    looser = Policy.from_dict({"entities": {"email": {"action": "allow"}}, "enabled": ["email"], "min_score": 0.9,
                               "detector_mode": "regex", "prompt_security": {"action": "allow", "threshold": 0.9},
                               "output_protection": {"mode": "off"}})
    assert looser_fields(base, looser) == ["entities.email.action", "enabled", "enabled (name types)", "min_score",
                                           "detector_mode", "prompt_security.action", "prompt_security.threshold",
                                           "output_protection.mode"]
