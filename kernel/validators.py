"""Validators for structured identifiers: checksums and structure rules.

A regex only says "looks like"; these functions say "is a valid one", which is what keeps
false positives down (a random 16-digit number passes Luhn one time in ten). Each takes
the matched text and returns True/False; none of them raises on odd input.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import ipaddress
import json
import math
import re
from collections import Counter

__all__ = [
    "VALIDATORS",
    "luhn",
    "credit_card",
    "iban",
    "us_ssn",
    "us_itin",
    "aba_routing",
    "swift_bic",
    "eu_vat",
    "uk_nino",
    "de_tax_id",
    "ipv4",
    "ipv6",
    "mac",
    "btc_address",
    "eth_address",
    "jwt",
    "pem_private_key",
    "high_entropy_secret",
    "shannon_entropy",
    "phone",
    "date",
    "digits_only",
]


def digits_only(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def luhn(number: str) -> bool:
    total, alt = 0, False
    for ch in reversed(number):
        d = ord(ch) - 48
        if not 0 <= d <= 9:
            return False
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        alt = not alt
    return total % 10 == 0


_CARD_PREFIXES = (
    # (prefix range low, high, allowed lengths) — Visa, Mastercard, Amex, Discover, JCB,
    # Diners, UnionPay, Maestro
    ("4", "4", (13, 16, 19)),
    ("51", "55", (16,)),
    ("2221", "2720", (16,)),
    ("34", "34", (15,)),
    ("37", "37", (15,)),
    ("6011", "6011", (16, 19)),
    ("644", "649", (16, 19)),
    ("65", "65", (16, 19)),
    ("3528", "3589", (16, 19)),
    ("35", "35", (16,)),  # JCB's whole 35 block as test-data generators (Faker) issue it
    ("2131", "2131", (15,)),  # JCB 15-digit
    ("1800", "1800", (15,)),
    ("300", "305", (14, 16, 19)),
    ("36", "36", (14, 16, 19)),
    ("38", "39", (14, 16, 19)),
    ("62", "62", (16, 17, 18, 19)),
    ("50", "50", (12, 13, 14, 15, 16, 17, 18, 19)),
    ("56", "58", (12, 13, 14, 15, 16, 17, 18, 19)),
    ("67", "67", (12, 13, 14, 15, 16, 17, 18, 19)),
    ("6304", "6304", (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro (ex-Laser)
)


def card_brand_ok(number: str) -> bool:
    for lo, hi, lengths in _CARD_PREFIXES:
        head = number[: len(lo)]
        if lo <= head <= hi and len(number) in lengths:
            return True
    return False


def credit_card(text: str) -> bool:
    n = digits_only(text)
    return 12 <= len(n) <= 19 and card_brand_ok(n) and luhn(n) and len(set(n)) > 1


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban(text: str) -> bool:
    s = "".join(text.split()).replace("-", "").upper()
    if len(s) < 15 or IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def us_ssn(text: str) -> bool:
    d = digits_only(text)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    # well-known advertising/sample numbers
    return d not in ("078051120", "219099999", "123456789")


def us_itin(text: str) -> bool:
    d = digits_only(text)
    if len(d) != 9 or d[0] != "9":
        return False
    group = int(d[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


def aba_routing(text: str) -> bool:
    d = digits_only(text)
    if len(d) != 9 or d == "000000000":
        return False
    prefix = int(d[:2])
    if not (0 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    w = (3, 7, 1) * 3
    return sum(int(c) * k for c, k in zip(d, w)) % 10 == 0


_ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
    EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
    HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
    LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
    NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE
    SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA
    UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW""".split()
)


def swift_bic(text: str) -> bool:
    s = text.upper()
    if len(s) not in (8, 11) or not s[:4].isalpha() or s[4:6] not in _ISO_COUNTRIES or not s[6:].isalnum():
        return False
    # an all-letter 8-character word (e.g. "DEADLINE") is far more often a word than a BIC
    return not (len(s) == 8 and s.isalpha() and text != s)


_VAT_FORMATS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}", "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}",
    "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}", "LV": r"\d{11}", "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{12}",
    "SI": r"\d{8}", "SK": r"\d{10}", "XI": r"\d{9}|\d{12}",
}
_VAT_RES = {k: re.compile(v) for k, v in _VAT_FORMATS.items()}


def _de_vat_check(d: str) -> bool:
    product = 10
    for c in d[:8]:
        s = (int(c) + product) % 10 or 10
        product = (2 * s) % 11
    check = (11 - product) % 10
    return check == int(d[8])


def eu_vat(text: str) -> bool:
    s = re.sub(r"[\s.\-]", "", text).upper()
    cc, rest = s[:2], s[2:]
    rx = _VAT_RES.get(cc)
    if rx is None or not rx.fullmatch(rest):
        return False
    if cc == "DE":
        return _de_vat_check(rest)
    if cc == "IT":
        return luhn(rest)
    return True


_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def uk_nino(text: str) -> bool:
    s = "".join(text.split()).upper()
    if len(s) != 9 or not (s[:2].isalpha() and s[2:8].isdigit() and s[8] in "ABCD"):
        return False
    a, b = s[0], s[1]
    if a in "DFIQUV" or b in "DFIOQUV" or s[:2] in _NINO_BAD_PREFIX:
        return False
    return True


def de_tax_id(text: str) -> bool:
    """German Steuer-IdNr: 11 digits, no leading 0, one digit repeated, ISO 7064 MOD 11,10."""
    d = digits_only(text)
    if len(d) != 11 or d[0] == "0":
        return False
    counts = Counter(d[:10]).values()
    if not (sorted(counts, reverse=True)[0] in (2, 3) and len(counts) in (8, 9)):
        return False
    product = 10
    for c in d[:10]:
        s = (int(c) + product) % 10 or 10
        product = (2 * s) % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(d[10])


def ipv4(text: str) -> bool:
    try:
        addr = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return not addr.is_unspecified


def ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%")[0])
    except ValueError:
        return False
    return text.count(":") >= 2


def mac(text: str) -> bool:
    parts = re.split(r"[:\-.]", text)
    hexes = "".join(parts)
    return (len(hexes) == 12 and all(c in "0123456789abcdefABCDEF" for c in hexes)
            and hexes not in ("000000000000", "ffffffffffff", "FFFFFFFFFFFF"))


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _b58check(s: str) -> bool:
    n = 0
    for c in s:
        v = _B58_INDEX.get(c)
        if v is None:
            return False
        n = n * 58 + v
    raw = n.to_bytes(25, "big") if n.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _bech32(s: str) -> bool:
    s = s.lower()
    if not s.startswith("bc1") or not 14 <= len(s) <= 74:
        return False
    hrp, data = "bc", s[3:]
    try:
        values = [_BECH32.index(c) for c in data]
    except ValueError:
        return False
    expanded = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    const = _bech32_polymod(expanded + values)
    return const in (1, 0x2BC830A3)  # bech32 (v0) or bech32m (v1+)


def btc_address(text: str) -> bool:
    if text[:3].lower() == "bc1":
        return _bech32(text)
    return text[0] in "13" and 26 <= len(text) <= 35 and _b58check(text)


def eth_address(text: str) -> bool:
    h = text[2:]
    return text[:2] in ("0x", "0X") and len(h) == 40 and all(c in "0123456789abcdefABCDEF" for c in h) and len(set(h.lower())) > 4


def _b64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(_b64url(parts[0]))
        _b64url(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def pem_private_key(text: str) -> bool:
    m = re.match(r"-----BEGIN ((?:[A-Z]+ )*PRIVATE KEY)-----", text)
    return m is not None and text.rstrip().endswith(f"-----END {m.group(1)}-----")


def shannon_entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def high_entropy_secret(text: str) -> bool:
    """The value of a ``password=``/``api_key=`` style assignment: long enough and random-looking."""
    value = re.split(r"\s*[:=]\s*", text, maxsplit=1)[-1].strip("'\"` ")
    if len(value) < 8 or value.lower() in ("password", "changeme", "********", "redacted", "<secret>"):
        return False
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                   any(c.isdigit() for c in value), any(not c.isalnum() for c in value)))
    return shannon_entropy(value) >= 3.0 and classes >= 2


# shapes that are other identifiers, never a phone: a ZIP+4 code, a year range, a date-led number
_NOT_PHONE = re.compile(r"\d{5}-\d{4}|(?:19|20)\d{2}\s?[-/]\s?(?:19|20)\d{2}|(?:19|20)\d{2}[-/.](?:0[1-9]|1[0-2])[-/.]\d+")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d{1,6}$", re.IGNORECASE)


def phone(text: str) -> bool:
    core = _EXTENSION.sub("", text.strip())
    d = digits_only(core)
    if core.startswith("+"):
        return 8 <= len(d) <= 15 and d[0] != "0"
    if not 7 <= len(d) <= 15 or len(set(d)) < 3 or _NOT_PHONE.fullmatch(core):
        return False
    return True


_MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}


_TIME_OF_DAY = re.compile(r"[ t](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$")


def date(text: str) -> bool:
    """A real calendar date between 1900 and 2100 in one of the common notations."""
    t = _TIME_OF_DAY.sub("", text.strip().lower().replace(",", " "))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", t)
    cands = []
    if m:
        cands.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", t)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + (1900 if y >= 30 else 2000) if y < 100 else y
        cands += [(y, a, b), (y, b, a)]
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?\s+(\d{4})", t)
    if m and m.group(2) in _MONTHS:
        cands.append((int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1))))
    m = re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", t)
    if m and m.group(1) in _MONTHS:
        cands.append((int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2))))
    for y, mo, d in cands:
        if 1900 <= y <= 2100:
            try:
                _dt.date(y, mo, d)
                return True
            except ValueError:
                continue
    return False


VALIDATORS = {
    "luhn_brand": credit_card,
    "iban_mod97": iban,
    "ssn_rules": us_ssn,
    "itin_rules": us_itin,
    "aba_checksum": aba_routing,
    "bic_structure": swift_bic,
    "vat_format": eu_vat,
    "nino_rules": uk_nino,
    "de_taxid_checksum": de_tax_id,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "mac": mac,
    "btc_checksum": btc_address,
    "eth_format": eth_address,
    "jwt_header": jwt,
    "pem_block": pem_private_key,
    "entropy": high_entropy_secret,
    "phone_digits": phone,
    "calendar_date": date,
}
