import base64
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haltguard.host.sealing import SealError, SessionSealer

MAPPING = {"session_id": "s", "entries": {"{{email:1}}": {"type": "email", "value": "a@b.example", "restore": "original",
                                                         "masked": "a@b.example"}}}


def test_roundtrip_binds_tenant_and_policy():
    s = SessionSealer([("k1", "x" * 40)])
    blob, sess = s.seal(MAPPING, tenant="t1", policy="strict")
    assert "a@b.example" not in blob and blob.startswith("hg1.k1.")
    out = s.unseal(blob, tenant="t1")
    assert out.mapping == MAPPING and out.policy == "strict" and out.session_id == sess.session_id
    with pytest.raises(SealError) as ei:
        s.unseal(blob, tenant="t2")
    assert ei.value.code == "session_wrong_tenant"


def _mutate(blob: str, rng: random.Random) -> str:
    kind = rng.randrange(6)
    chars = list(blob)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    if kind == 0:  # flip one character (often the last: its low bits are unused by base64)
        if rng.random() < 0.3:
            chars[-1] = rng.choice([c for c in alphabet[:-1] if c != chars[-1]])
            return "".join(chars)
        i = rng.randrange(len(chars))
        chars[i] = rng.choice([c for c in alphabet if c != chars[i]])
    elif kind == 1:  # truncate
        chars = chars[: rng.randrange(len(chars))]
    elif kind == 2:  # delete a run
        i = rng.randrange(len(chars))
        del chars[i: i + rng.randint(1, 8)]
    elif kind == 3:  # insert garbage
        i = rng.randrange(len(chars) + 1)
        chars[i:i] = rng.choices(alphabet, k=rng.randint(1, 8))
    elif kind == 4:  # flip a bit inside the ciphertext
        ver, kid, ten, payload = blob.split(".")
        raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return ".".join([ver, kid, ten, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])
    else:  # swap two characters
        i, j = rng.randrange(len(chars)), rng.randrange(len(chars))
        if chars[i] == chars[j]:
            chars[i] = "A" if chars[i] != "A" else "B"
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def test_ten_thousand_random_mutations_are_all_rejected():
    s = SessionSealer([("k1", "x" * 40), ("k0", "y" * 40)])
    # payload lengths of every residue mod 3, so base64's unused low bits are exercised too
    blobs = [s.seal({**MAPPING, "session_id": "s" * n}, tenant="t1")[0] for n in range(3)]
    assert len({len(b.split(".")[3]) % 4 for b in blobs}) == 3
    rng = random.Random(20261122)
    codes: dict[str, int] = {}
    for i in range(10_000):
        blob = blobs[i % 3]
        bad = _mutate(blob, rng)
        if bad == blob:
            continue
        with pytest.raises(SealError) as ei:
            s.unseal(bad, tenant="t1")
        codes[ei.value.code] = codes.get(ei.value.code, 0) + 1
    assert set(codes) <= {"session_malformed", "session_tampered", "session_unknown_key", "session_version",
                          "session_wrong_tenant"}
    assert codes["session_tampered"] > 1000  # most mutations reach the AEAD check


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_strings_never_open(text):
    s = SessionSealer([("k1", "x" * 40)])
    with pytest.raises(SealError):
        s.unseal(text, tenant="t1")


def test_rotation_keeps_old_blobs_until_key_removed():
    old = SessionSealer([("k1", "x" * 40)])
    blob, _ = old.seal(MAPPING, tenant="t")
    rotated = SessionSealer([("k2", "z" * 40), ("k1", "x" * 40)])
    assert rotated.unseal(blob, tenant="t").mapping == MAPPING
    new_blob, _ = rotated.seal(MAPPING, tenant="t")
    assert new_blob.startswith("hg1.k2.")
    retired = SessionSealer([("k2", "z" * 40)])
    assert retired.unseal(new_blob, tenant="t").mapping == MAPPING
    with pytest.raises(SealError) as ei:
        retired.unseal(blob, tenant="t")
    assert ei.value.code == "session_unknown_key"


def test_same_kid_other_secret_is_tampered_and_expiry():
    now = [1000.0]
    a = SessionSealer([("k1", "x" * 40)], ttl_s=60, clock=lambda: now[0])
    b = SessionSealer([("k1", "w" * 40)], ttl_s=60, clock=lambda: now[0])
    blob, _ = a.seal(MAPPING, tenant="t")
    with pytest.raises(SealError) as ei:
        b.unseal(blob, tenant="t")
    assert ei.value.code == "session_tampered"
    now[0] += 61
    with pytest.raises(SealError) as ei:
        a.unseal(blob, tenant="t")
    assert ei.value.code == "session_expired"
