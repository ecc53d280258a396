from __future__ import annotations

import time

import pytest

from haltguard.kernel.detector import Detector, Registry, default_registry, detect
from haltguard.kernel.recognizers import Recognizer, RecognizerError

# one realistic positive per type (with the context a real message would carry)
POSITIVES = {
    "email": "write to jane.doe+news@mail.example.co.uk today",
    "phone": "call me on +1 (415) 555-0132 tomorrow",
    "credit_card": "my card is 4111 1111 1111 1111",
    "iban": "IBAN: GB29 NWBK 6016 1331 9268 19",
    "us_ssn": "SSN 536-22-1234",
    "us_itin": "ITIN 912-70-1234",
    "aba_routing": "routing number 021000021",
    "swift_bic": "SWIFT code DEUTDEFF500",
    "eu_vat": "USt-IdNr. DE136695976",
    "uk_nino": "NI number AB 12 34 56 C",
    "de_tax_id": "Steuer-ID 86095742719",
    "ip_address": "server at 10.20.30.40 is down",
    "ipv6_address": "host 2001:db8:85a3::8a2e:370:7334 answers",
    "mac_address": "device 00:1A:2B:3C:4D:5E",
    "url": "see https://example.org/path?q=1 for more",
    "date": "the meeting on 2024-05-17 moved",
    "date_of_birth": "born on 5 March 1990 in Leeds",
    "passport": "passport number X1234567",
    "crypto_btc": "send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "crypto_eth": "wallet 0x52908400098527886E0F7030069857D2E4169EE7",
    "aws_access_key_id": "key AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github_token": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "slack_token": "xoxb-1234567890-abcdefghijkl",
    "stripe_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "google_api_key": "AIzaSyA-1234567890abcdefghijklmnopqrstu",
    "anthropic_api_key": "sk-ant-api03-" + "aB3_" * 23,
    "openai_api_key": "OPENAI_KEY sk-proj-Ab3dEfGh1jKlMnOpQrStUvWxYz0123",
    "jwt": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "private_key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIbase64==\n-----END EC PRIVATE KEY-----",
    "generic_secret": "db_password: 'Xk9#mP2$qLw7'",
}
NEGATIVES = {
    "credit_card": "order 4111 1111 1111 1112 failed",  # Luhn fails
    "iban": "IBAN GB29 NWBK 6016 1331 9268 18",  # mod-97 fails
    "us_ssn": "SSN 666-22-1234",
    "aba_routing": "routing number 021000022",
    "crypto_btc": "send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
    "ip_address": "version 300.1.2.4 released",
    "jwt": "eyJub3RhbGciOjF9.eyJ4IjoxfQ.sig",
    "date_of_birth": "the meeting on 5 March 1990 was long",  # no birth context
    "passport": "order X1234567 shipped",  # no passport context
    "swift_bic": "the word DEUTDEFF alone",
    "generic_secret": "password: hunter",
    "email": "not an email: john@localhost",
}


def test_at_least_25_types():
    assert len(default_registry()) >= 25
    assert set(POSITIVES) == set(default_registry().types)


@pytest.mark.parametrize("etype", sorted(POSITIVES))
def test_positive(etype):
    text = POSITIVES[etype]
    found = [f for f in detect(text) if f.type == etype]
    assert found, f"{etype} not found in {text!r}: {detect(text)}"
    f = found[0]
    assert text[f.start:f.end] == f.value
    assert 0.5 <= f.score <= 1.0


@pytest.mark.parametrize("etype", sorted(NEGATIVES))
def test_negative(etype):
    assert not [f for f in detect(NEGATIVES[etype]) if f.type == etype]


def test_findings_carry_validator_and_context():
    f = detect("card: 4111 1111 1111 1111")[0]
    assert f.type == "credit_card" and f.validator == "luhn_brand" and f.context == "card" and f.score == 1.0
    g = Detector(min_score=0.0).detect("4111 1111 1111 1111")[0]
    assert g.score == 0.85 and g.context is None


def test_overlaps_resolved_deterministically():
    # SSN-shaped ITIN: both recognizers match the same span; the higher score wins every time
    text = "ITIN 912-70-1234 and SSN 536-22-1234"
    runs = {tuple((f.type, f.start, f.end) for f in detect(text)) for _ in range(5)}
    assert len(runs) == 1
    assert [t for t, *_ in runs.pop()] == ["us_itin", "us_ssn"]
    spans = [(f.start, f.end) for f in detect(POSITIVES["url"] + " " + POSITIVES["email"])]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_many_findings_are_resolved_fast():
    text = "a@b.cd " * 20000
    t0 = time.perf_counter()
    found = detect(text)
    assert len(found) == 20000 and time.perf_counter() - t0 < 10


def test_custom_recognizer_and_registry_errors():
    reg = Registry([])
    reg.add({"type": "employee_id", "patterns": [r"EMP-\d{6}"], "score": 0.9, "context": ["employee"]})
    f = Detector(reg).detect("employee EMP-123456")[0]
    assert (f.type, f.value, f.score) == ("employee_id", "EMP-123456", 1.0)
    with pytest.raises(RecognizerError, match="already exists"):
        reg.add({"type": "employee_id", "patterns": ["x"]})
    with pytest.raises(RecognizerError) as e:
        Recognizer.from_dict({"type": "bad", "patterns": ["(unclosed"]})
    assert e.value.field == "recognizer 'bad'.patterns[0]"
    with pytest.raises(RecognizerError, match="validator"):
        Recognizer.from_dict({"type": "bad", "patterns": ["x"], "validator": "nope"})
    with pytest.raises(RecognizerError, match="unknown field"):
        Recognizer.from_dict({"type": "bad", "patterns": ["x"], "colour": "red"})


def test_detect_rejects_non_strings():
    with pytest.raises(TypeError):
        detect(b"bytes")  # type: ignore[arg-type]
    assert detect("") == []


MB = 1_000_000
_UNITS = {
    "a@": "a@", "words@": "ab.cd@", "digits": "1", "dots": ".", "base64": "QUJD", "spaces": " ", "digit-dots": "1.",
    "digit-dash": "1-", "colons": "a:", "hex-colons": "ab:", "upper-digits": "AB12", "password": "password=",
    "sk-": "sk-", "phone-ish": "+1 (", "digits-space": "12 ", "www": "www.", "braces": "{{email:",
}
ADVERSARIAL = {k: u * (MB // len(u) + 1) for k, u in _UNITS.items()}
ADVERSARIAL.update({"long-local": "a" * MB + "@", "eyJ": "eyJ" + "a" * MB, "pem": "-----BEGIN PRIVATE KEY-----" + "a" * MB})


@pytest.mark.parametrize("family", sorted(ADVERSARIAL))
def test_linear_time_on_adversarial_input(family):
    """Generous bound: exists to catch catastrophic (super-linear) backtracking."""
    text = ADVERSARIAL[family]
    assert len(text) >= MB
    t0 = time.perf_counter()
    detect(text)
    assert time.perf_counter() - t0 < 15, f"{family}: detector took too long on 1 MB"


def _luhn_complete(prefix: str, length: int) -> str:
    """A card number with this prefix and length whose last digit makes the Luhn sum right."""
    body = (prefix + "7" * length)[: length - 1]
    for check in "0123456789":
        n = body + check
        total = sum(int(d) if i % 2 == 0 else (2 * int(d) - 9 if 2 * int(d) > 9 else 2 * int(d))
                    for i, d in enumerate(reversed(n)))
        if total % 10 == 0:
            return n
    raise AssertionError("unreachable")


CARDS = {"visa13": ("4", 13), "visa16": ("4", 16), "visa19": ("4", 19), "mastercard": ("5425", 16), "mc2": ("2223", 16),
         "amex": ("37", 15), "discover": ("6011", 16), "diners": ("3056", 14), "jcb16": ("3530", 16), "jcb15": ("2131", 15),
         "unionpay": ("6212", 19), "maestro12": ("6304", 12), "maestro19": ("5018", 19)}


@pytest.mark.parametrize("brand", sorted(CARDS))
@pytest.mark.parametrize("sep", ["", " ", "-", "."])
def test_cards_of_every_major_issuer_in_every_common_grouping(brand, sep):
    prefix, length = CARDS[brand]
    num = _luhn_complete(prefix, length)
    if brand in ("amex", "diners") and sep:
        shown = sep.join([num[:4], num[4:10], num[10:]])
    else:
        shown = sep.join(num[i:i + 4] for i in range(0, len(num), 4)) if sep else num
    text = f"Please charge my card {shown} today."
    found = [(f.type, text[f.start:f.end]) for f in detect(text)]
    assert ("credit_card", shown) in found, found


@pytest.mark.parametrize("phone", ["+1-545-880-7302x157", "854-275-2772x0405", "(0116) 4960157", "+44(0)1154960997",
                                   "+441154960200", "1-858-073-0215", "1 (529) 078-4547", "(790)091-7442", "042 078 6381"])
def test_phone_formats_with_extensions_and_trunk_prefixes(phone):
    text = f"You can call me at {phone} after five."
    assert ("phone", phone) in [(f.type, text[f.start:f.end]) for f in detect(text)]


@pytest.mark.parametrize("text", ["ZIP 31697-0842", "between 1985-2003", "Invoice 1978-12-8519 is due.",
                                  "Order number 699-5586683 shipped.", "Policy no. 480 134 9434", "Account 12345678901 was closed.",
                                  "Reference: 482913/5521", "Tracking 1Z9384756102"])
def test_phone_does_not_fire_on_other_identifiers(text):
    assert "phone" not in [f.type for f in detect(text)]


def test_a_phone_followed_by_a_label_and_a_phone_word_beside_other_words():
    text = "(85) 5986-8343-Office, 751-954-9268-Fax"
    assert [text[f.start:f.end] for f in detect(text) if f.type == "phone"] == ["(85) 5986-8343", "751-954-9268"]
    assert "phone" in [f.type for f in detect("My phone number is 2614597755")]  # ten bare digits need a phone word
    assert "phone" not in [f.type for f in detect("Serial 2614597755 was shipped")]


def test_lower_case_iban_and_iso_date_times():
    text = "iban gb50mvfc38361978683032 on 1993-01-04 14:56:41."
    found = [(f.type, text[f.start:f.end]) for f in detect(text)]
    assert ("iban", "gb50mvfc38361978683032") in found and ("date", "1993-01-04 14:56:41") in found
    assert "iban" not in [f.type for f in detect("code gb50mvfc38361978683033")]  # mod-97 fails
