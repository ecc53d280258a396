from __future__ import annotations

import pytest

from haltguard.kernel import validators as v


@pytest.mark.parametrize("fn, good, bad", [
    (v.credit_card, ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"],
     ["4111 1111 1111 1112", "1234567812345678", "0000000000000000"]),
    (v.iban, ["DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "FR1420041010050500013M02606"],
     ["DE89 3704 0044 0532 0130 01", "DE8937040044053201300", "XX89370400440532013000"]),
    (v.us_ssn, ["536-22-1234", "123-45-6780"], ["000-12-3456", "666-12-3456", "912-70-1234", "536-00-1234", "536-22-0000"]),
    (v.us_itin, ["912-70-1234", "900-88-1234"], ["912-40-1234", "812-70-1234"]),
    (v.aba_routing, ["011000015", "021000021"], ["021000022", "000000000", "991000015"]),
    (v.swift_bic, ["DEUTDEFF", "NWBKGB2L", "DEUTDEFF500"], ["DEUTXXFF", "DEUT1EFF", "DEUTDEF"]),
    (v.eu_vat, ["DE136695976", "ATU12345678", "FR40303265045"], ["DE136695977", "QQ123456789", "ATX12345678"]),
    (v.uk_nino, ["AB123456C", "AB 12 34 56 C"], ["BG123456A", "QQ123456C", "AB123456E"]),
    (v.de_tax_id, ["86095742719"], ["86095742710", "01234567890", "11111111111"]),
    (v.ipv4, ["192.168.1.20", "8.8.8.8"], ["256.1.1.1", "0.0.0.0", "1.2.3"]),
    (v.ipv6, ["2001:db8::1", "fe80::1ff:fe23:4567:890a"], ["2001:db8:::1", "12345::"]),
    (v.mac, ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e"], ["00:1A:2B:3C:4D", "ff:ff:ff:ff:ff:ff"]),
    (v.btc_address, ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                     "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"],
     ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"]),
    (v.eth_address, ["0x52908400098527886E0F7030069857D2E4169EE7"], ["0x5290840009852788", "0x" + "0" * 40]),
    (v.jwt, ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
     ["eyJub3RhbGciOjF9.eyJ4IjoxfQ.sig", "eyJhbGc.x"]),
    (v.pem_private_key, ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"],
     ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END EC PRIVATE KEY-----"]),
    (v.high_entropy_secret, ["password=Xk9#mP2$qL", "api_key: 'a8F3kLm92QzX'"], ["password=password", "pwd=aaaaaaaaaa", "token=short"]),
    (v.phone, ["+49 30 1234567", "(555) 123-4567"], ["+0 123", "1111111", "12345"]),
    (v.date, ["1990-03-05", "5 March 1990", "March 5, 1990", "31/12/1999"], ["1990-02-30", "1850-01-01", "13/13/1999"]),
])
def test_validator(fn, good, bad):
    for g in good:
        assert fn(g), f"{fn.__name__} should accept {g!r}"
    for b in bad:
        assert not fn(b), f"{fn.__name__} should reject {b!r}"


def test_entropy_is_shannon():
    assert v.shannon_entropy("aaaa") == 0.0
    assert v.shannon_entropy("abcd") == 2.0
