"""The built-in recognizers: one small declarative entry per entity type.

Rules every pattern here follows, because the detector must stay linear on hostile input:
every repetition is bounded, and every pattern starts with a negative lookbehind that
refuses to start inside a run of the characters it consumes, so a position inside a long
run fails in O(1) instead of re-scanning the run.

``triggers`` (literal substrings, case-sensitive) and ``lower_triggers`` (matched against
the lower-cased text) let the detector skip a recognizer without running its regex;
Patterns carry cheaper gates of their own (see ``Pattern``). Context-required recognizers are
skipped unless one of their context words occurs in the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from haltguard.kernel.errors import FieldError
from haltguard.kernel.validators import VALIDATORS

__all__ = ["Pattern", "Recognizer", "RecognizerError", "DEFAULT_RECOGNIZERS"]


class RecognizerError(FieldError):
    """A recognizer definition is invalid."""


SCOPES = ("text", "digits")


@dataclass(frozen=True)
class Pattern:
    """One regex of a recognizer and where it needs to run.

    ``scope="digits"``: only inside runs of digits and separators that hold at least
    ``min_digits`` digits (and, if ``run_chars`` is set, one of those characters in the run
    or in the two characters before it).
    ``gate``: a cheap regex that must be found in the text first; ``needle``: a literal
    substring that must be present; ``min_run_digits``: the text must hold a run of at
    least that many digits (runs may contain separators); ``chars``: at least one of these
    characters must occur in the text (the cheapest gate: one set lookup);
    ``min_token_len``: some whitespace-separated token must be at least that long (for
    long secrets and addresses). Digit-scope windows reach ``before`` characters before
    the run and ``after`` characters after it (for letter prefixes/suffixes); with
    ``upper_before`` the window before the run must hold a capital letter. ``score``
    overrides the recognizer's base score for matches of this pattern.
    """

    regex: str
    scope: str = "text"
    min_digits: int = 0
    run_chars: str = ""
    gate: str | None = None
    needle: str | None = None
    min_run_digits: int = 0
    chars: str = ""
    min_token_len: int = 0
    before: int = 2
    after: int = 0
    upper_before: bool = False
    score: float | None = None

    @classmethod
    def coerce(cls, spec: str | Pattern | Mapping[str, Any], where: str) -> Pattern:
        if isinstance(spec, Pattern):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"regex", "scope", "min_digits", "run_chars", "gate", "needle", "min_run_digits", "chars",
                                            "min_token_len", "before", "after", "upper_before", "score"})
            if unknown:
                raise RecognizerError(f"{where}.{unknown[0]}", "unknown field")
            if not isinstance(spec.get("regex"), str):
                raise RecognizerError(f"{where}.regex", "is required and must be a string")
            p = cls(**spec)
            if p.scope not in SCOPES:
                raise RecognizerError(f"{where}.scope", f"must be one of {', '.join(SCOPES)}")
            return p
        raise RecognizerError(where, "must be a regex string or an object with 'regex'")


@dataclass(frozen=True)
class Recognizer:
    type: str
    patterns: tuple[Any, ...]
    score: float = 0.6
    validator: str | None = None
    context: tuple[str, ...] = ()
    context_required: bool = False
    context_boost: float = 0.3
    # words that, shortly before a match with none of ``context`` beside them, say it is another
    # identifier ("Order 123-4567", "policy no. 480 134 9434"): the finding is dropped
    deny_context: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    lower_triggers: tuple[str, ...] = ()
    ignore_case: bool = False
    group: int = 0
    description: str = ""
    chars: str = ""
    compiled: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        where = f"recognizer {self.type!r}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", self.type or ""):
            raise RecognizerError(f"{where}.type", "must be lower_snake_case, 2-41 characters")
        if not self.patterns:
            raise RecognizerError(f"{where}.patterns", "must be a non-empty list of regex strings")
        specs = tuple(Pattern.coerce(p, f"{where}.patterns[{i}]") for i, p in enumerate(self.patterns))
        if self.chars:
            specs = tuple(p if p.chars else replace(p, chars=self.chars) for p in specs)
        object.__setattr__(self, "patterns", specs)
        if not 0.0 <= self.score <= 1.0:
            raise RecognizerError(f"{where}.score", "must be in [0, 1]")
        if self.validator is not None and self.validator not in VALIDATORS:
            raise RecognizerError(f"{where}.validator", f"unknown validator (known: {', '.join(sorted(VALIDATORS))})")
        flags = re.IGNORECASE if self.ignore_case else 0
        compiled = []
        for i, spec in enumerate(specs):
            p = spec.regex
            try:
                rx = re.compile(p, flags)
                if spec.gate is not None:
                    re.compile(spec.gate)
            except re.error as exc:
                raise RecognizerError(f"{where}.patterns[{i}]", f"invalid regex: {exc}") from None
            if self.group > rx.groups:
                raise RecognizerError(f"{where}.group", f"pattern {i} has only {rx.groups} groups")
            compiled.append(rx)
        object.__setattr__(self, "compiled", tuple(compiled))
        object.__setattr__(self, "context", tuple(w.lower() for w in self.context))
        object.__setattr__(self, "deny_context", tuple(w.lower() for w in self.deny_context))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "recognizer") -> Recognizer:
        if not isinstance(data, Mapping):
            raise RecognizerError(where, "must be an object")
        known = {"type", "patterns", "score", "validator", "context", "context_required", "context_boost",
                 "deny_context", "triggers", "lower_triggers", "ignore_case", "group", "description", "chars"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RecognizerError(f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(known))})")
        kw = dict(data)
        if "type" not in kw:
            raise RecognizerError(f"{where}.type", "is required")
        for key in ("patterns", "context", "deny_context", "triggers", "lower_triggers"):
            if key in kw:
                if isinstance(kw[key], str) or not isinstance(kw[key], (list, tuple)):
                    raise RecognizerError(f"{where}.{key}", "must be a list of strings")
                kw[key] = tuple(kw[key])
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "patterns": [p.regex if p == Pattern(p.regex) else {"regex": p.regex, "scope": p.scope,
                         "min_digits": p.min_digits, "run_chars": p.run_chars, "gate": p.gate,
                         "needle": p.needle, "min_run_digits": p.min_run_digits, "chars": p.chars,
                         "min_token_len": p.min_token_len, "before": p.before, "after": p.after,
                         "upper_before": p.upper_before, "score": p.score} for p in self.patterns],
            "score": self.score, "validator": self.validator,
            "context": list(self.context), "context_required": self.context_required,
            "context_boost": self.context_boost, "deny_context": list(self.deny_context), "triggers": list(self.triggers),
            "lower_triggers": list(self.lower_triggers), "chars": self.chars,
            "ignore_case": self.ignore_case, "group": self.group, "description": self.description,
        }


R = Recognizer
P = Pattern
_TLDS = ("com|org|net|edu|gov|mil|int|io|ai|app|dev|info|biz|co|de|uk|fr|es|it|nl|eu|us|ca|au|ch|at|be|dk|se|no|"
         "fi|pl|ru|jp|cn|in|br|mx|nz|za|ie|pt|cz|gr|tr|kr")
_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# Patterns put their first character class (or literal) first and the "not inside a run"
# lookbehind right after it: the regex engine then skips impossible start positions in C.
_DATE_PATTERNS = (
    # ISO-style, with the time of day when it follows ("1993-01-04 14:56:41", "2021-03-04T09:30")
    P(r"(?:19|20)(?<![\d/.-](?:19|20))\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
      r"(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?(?![\d/.-]?\d|:\d)",
      scope="digits", min_digits=6, run_chars="-/."),
    P(r"\d(?<![\d/.-]\d)\d?[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})(?![\d/.-]?\d)", scope="digits", min_digits=4, run_chars="-/."),
    # month-name dates are anchored on their year (a 4-digit run) and look back for the rest
    P(r"\d(?<![\w]\d)\d?(?:st|nd|rd|th)?\s{1,3}" + _MON + r"[a-z]{0,6}\.?,?\s{1,3}(?:19|20)\d{2}(?!\d)",
      scope="digits", min_digits=4, before=22),
    P(_MON + r"(?<![\w]" + _MON + r")[a-z]{0,6}\.?\s{1,3}\d{1,2}(?:st|nd|rd|th)?,?\s{1,3}(?:19|20)\d{2}(?!\d)",
      scope="digits", min_digits=4, before=22),
)
# a phone extension ("x123", " ext. 45") belongs to the number
_EXT = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6}(?![\w]))?"
_SSN_FMT = P(r"\d(?<![\d-]\d)\d{2}[- ]\d{2}[- ]\d{4}(?![\d-])", scope="digits", min_digits=9, run_chars="- ")
_NINE = P(r"\d(?<![\d-]\d)\d{8}(?![\d-])", scope="digits", min_digits=9)
_SSN_PLAIN = P(_NINE.regex, scope="digits", min_digits=9, score=0.35)  # nine bare digits: an SSN only with context

DEFAULT_RECOGNIZERS: tuple[Recognizer, ...] = (
    R("email", (P(r"[A-Za-z0-9._%+-](?<![\w.%+-][A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w-])",
                  chars="@"),),
      score=0.9, context=("email", "e-mail", "mail", "contact"), description="RFC 5322-ish address"),
    R("phone", (P(r"\+(?<![\w+]\+)\d{1,3}[\s.-]{0,2}(?:\(\d{1,4}\)[\s.-]{0,2})?\d{1,12}(?:[\s.-]{1,2}\d{1,8}){0,5}" + _EXT + r"(?![\w+])",
                  scope="digits", min_digits=7, run_chars="+", after=12),
                P(r"(?:(?<![\w+.-])1[\s.-]?)?\((?<![\w(+-]\()\d{2,5}\)[\s.-]{0,2}\d{2,8}(?:[\s.-]{1,2}\d{2,5}){0,3}" + _EXT
                  + r"(?!\w|[-:]\d)", scope="digits", min_digits=7, run_chars="(", after=12),
                P(r"\d(?<![\w+.-]\d)\d{0,4}(?:[.-]|\s(?=\d))\d{2,8}(?:(?:[.-]|\s(?=\d))\d{2,8}){0,3}" + _EXT + r"(?!\w|[-:]\d)",
                  scope="digits", min_digits=7, run_chars=".- ", after=12),
                P(r"0(?<![\w+.-]0)\d{6,14}(?!\w|[-:]\d)", scope="digits", min_digits=7, run_chars="0"),
                # ten bare digits: a phone only beside a phone word (0.3 + the context boost)
                P(r"[1-9](?<![\w+.-][1-9])\d{9}(?!\w|[-:]\d)", scope="digits", min_digits=10, score=0.3)),
      score=0.5, validator="phone_digits",
      context=("phone", "tel", "telephone", "call", "mobile", "cell", "fax", "contact", "whatsapp", "number", "telefon", "handy", "anruf"),
      deny_context=("order", "invoice", "zip", "postcode", "postal", "policy", "account", "acct", "iban", "ref", "ticket",
                    "case", "tracking", "serial", "sku", "isbn", "customer id", "member", "between", "card"),
      description="E.164 and common national formats, 7-15 digits"),
    # any grouping of 12-19 digits by spaces, dashes or dots (4-4-4, 4-4-4-3, 4-4-4-4-3, ...), and the
    # 4-6-5 / 4-6-4 of Amex and Diners; the validator decides (issuer range, length, Luhn)
    R("credit_card", (P(r"\d(?<![\d.-]\d)\d{3}(?:[ .-]?\d{3,4}){2,4}(?:[ .-]?\d{1,3})?(?![\d-]|\.\d)", scope="digits",
                        min_digits=12),
                      P(r"3(?<![\d.-]3)\d{3}[ .-]?\d{6}[ .-]?\d{4,5}(?![\d-]|\.\d)", scope="digits", min_digits=14)),
      score=0.85, validator="luhn_brand",
      context=("card", "credit", "visa", "mastercard", "amex", "debit", "cc", "karte", "kreditkarte"),
      description="Luhn checksum and issuer prefix/length"),
    R("iban", (P(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
                 scope="digits", min_digits=8, before=14, after=6, upper_before=True),
                # typed in lower case, unspaced ("gb50mvfc38361978683032"): mod-97 still decides
                P(r"[a-z](?<![A-Za-z0-9][a-z])[a-z]\d{2}[a-z0-9]{11,30}(?![A-Za-z0-9])", scope="digits", min_digits=8,
                  before=14, after=30),),
      score=0.9, validator="iban_mod97", context=("iban", "bank", "account", "konto"),
      description="country length table and ISO 7064 mod-97"),
    R("us_ssn", (_SSN_FMT, _SSN_PLAIN), score=0.6, validator="ssn_rules",
      context=("ssn", "social security", "social sec", "ss#", "ss #"),
      description="area/group/serial rules; the unformatted form needs context to pass min_score"),
    R("us_itin", (_SSN_FMT,), score=0.65, validator="itin_rules", context=("itin", "taxpayer", "tax id", "tin"),
      description="9xx with valid group ranges"),
    R("aba_routing", (_NINE,), score=0.6, validator="aba_checksum",
      context=("routing", "aba", "rtn", "transit"), context_required=True,
      description="3-7-1 weighted checksum; needs context"),
    R("swift_bic", (r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]{3}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])",),
      score=0.4, validator="bic_structure", context=("swift", "bic"), context_required=True,
      description="bank code + ISO country + location; needs context"),
    R("eu_vat", (P(r"(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)(?<![A-Za-z0-9][A-Z]{2}) ?[A-Z0-9+*]{8,12}(?![A-Za-z0-9])",
                   scope="digits", min_digits=5, before=6, after=6, upper_before=True),),
      score=0.6, validator="vat_format",
      context=("vat", "ust", "tva", "iva", "btw", "mwst", "umsatzsteuer"), description="per-country format, DE/IT checksums"),
    R("uk_nino", (P(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])",
                    scope="digits", min_digits=6, before=3, after=3, upper_before=True),),
      score=0.6, validator="nino_rules", context=("national insurance", "nino", "ni number", "ni no"),
      description="prefix rules and suffix A-D"),
    R("de_tax_id", (P(r"\d(?<![\d-]\d)\d ?\d{3} ?\d{3} ?\d{3}(?![\d-])", scope="digits", min_digits=11),),
      score=0.4, validator="de_taxid_checksum",
      context=("steuer", "steuer-id", "steueridentifikationsnummer", "idnr", "tax id", "identifikationsnummer"),
      description="Steuer-IdNr, ISO 7064 MOD 11,10; needs context to pass min_score"),
    R("ip_address", (P(r"\d(?<![\d.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\.?\d)", scope="digits", min_digits=4, run_chars="."),),
      score=0.75, validator="ipv4", context=("ip", "address", "server", "host", "client"), description="IPv4"),
    R("ipv6_address", patterns=(P(r"[0-9A-Fa-f](?<![\w:][0-9A-Fa-f])[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{1,4}:){0,6}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:])",
                         gate=r":[0-9A-Fa-f]{0,4}:", chars=":"),
                       P(r"::(?<![\w:]::)(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])", needle="::", chars=":")),
      score=0.75, validator="ipv6", context=("ip", "ipv6", "address", "host"), description="IPv6"),
    R("mac_address", (P(r"[0-9A-Fa-f](?<![\w:-][0-9A-Fa-f])[0-9A-Fa-f]([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])",
                        chars=":-", min_token_len=17),
                      P(r"[0-9A-Fa-f](?<![\w.][0-9A-Fa-f])[0-9A-Fa-f]{3}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])",
                        chars=".", min_token_len=14),),
      score=0.7, validator="mac", context=("mac", "ethernet", "hardware", "device"), description="EUI-48"),
    R("url", (P(r"(?<![\w])(?:https?|ftp)://[^\s<>\"'`]{1,2048}", needle="://"),
              P(r"www\.(?<![\w./]www\.)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}(?:/[^\s<>\"'`]{0,2048})?", needle="www."),
              P(r"[A-Za-z0-9](?<![\w@./-][A-Za-z0-9])[A-Za-z0-9-]{0,62}\.(?:[A-Za-z0-9-]{1,63}\.){0,5}(?:" + _TLDS +
                r")(?![\w@-]|\.[A-Za-z0-9])(?:/[^\s<>\"'`]{0,2048})?", gate=r"\.[A-Za-z]")),
      score=0.6, context=("url", "link", "website", "site", "visit"), description="URLs and bare domains"),
    R("date", _DATE_PATTERNS, score=0.55, validator="calendar_date", context=("date", "on", "datum"),
      description="calendar dates 1900-2100"),
    R("date_of_birth", _DATE_PATTERNS, score=0.6, validator="calendar_date",
      context=("born", "birth", "dob", "d.o.b", "birthday", "geboren", "geburtsdatum", "geburtstag", "né ", "née"),
      context_required=True, description="a date with a birth context word"),
    R("passport", (r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]?\d{6,8}(?![A-Za-z0-9])", r"\d(?<![A-Za-z0-9]\d)\d{7,8}(?![A-Za-z0-9])"),
      score=0.5, context=("passport", "reisepass", "passeport", "pasaporte", "passaporto", "passnummer"),
      context_required=True, description="national passport number shapes; needs context"),
    R("crypto_btc", (P(r"[13](?<![A-Za-z0-9][13])[1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])", min_token_len=26, min_run_digits=1),
                     P(r"(?:bc1|BC1)(?<![A-Za-z0-9](?:bc1|BC1))[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![A-Za-z0-9])", gate="bc1|BC1", min_token_len=14)),
      score=0.9, validator="btc_checksum", context=("bitcoin", "btc", "wallet"), description="base58check or bech32/bech32m"),
    R("crypto_eth", (P(r"0[xX](?<![A-Za-z0-9]0[xX])[0-9a-fA-F]{40}(?![A-Za-z0-9])", chars="xX", min_token_len=42),),
      score=0.8, validator="eth_format", context=("ethereum", "eth", "wallet"), description="0x + 40 hex"),
    R("aws_access_key_id", (P(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
                              min_token_len=20),),
      score=0.95,
      description="AWS access key id prefixes"),
    R("aws_secret_access_key", (r"(?i)aws(?<![A-Za-z0-9]aws)[_\-. ]?(?:secret[_\-. ]?(?:access[_\-. ]?)?key|sk)[\"']?\s{0,5}[:=]\s{0,5}[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",),
      score=0.9, group=1, validator="entropy", lower_triggers=("aws",), chars="=:", description="40-char secret after an AWS key name"),
    R("github_token", (r"gh[pousr]_(?<![A-Za-z0-9_]gh[pousr]_)[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])",
                       r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])"),
      score=0.95, chars="_", description="classic and fine-grained"),
    R("slack_token", (r"xox[abposr]-(?<![A-Za-z0-9-]xox[abposr]-)[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])",
                      r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{16,32}"),
      score=0.95, triggers=("xox", "hooks.slack.com"), chars="-/", description="bot/user tokens and webhooks"),
    R("stripe_key", (r"[spr]k_(?<![A-Za-z0-9_][spr]k_)(?:live|test)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])",),
      score=0.95, triggers=("_live_", "_test_"), chars="_", description="secret/publishable/restricted keys"),
    R("google_api_key", (r"AIza(?<![A-Za-z0-9_-]AIza)[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",), score=0.95, triggers=("AIza",), chars="_-" + "0123456789"),
    R("anthropic_api_key", (r"sk-ant-(?<![A-Za-z0-9_-]sk-ant-)(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,120}(?![A-Za-z0-9_-])",),
      score=0.97, triggers=("sk-ant-",), chars="-"),
    R("openai_api_key", (r"sk-(?<![A-Za-z0-9_-]sk-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}(?![A-Za-z0-9_-])",),
      score=0.85, validator="entropy", triggers=("sk-",), chars="-", description="sk-... keys with random bodies"),
    R("jwt", (r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{5,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}(?![A-Za-z0-9_-])",),
      score=0.9, validator="jwt_header", triggers=("eyJ",), chars=".", description="three parts, decodable JSON header with alg"),
    R("private_key", (r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY-----[\s\S]{1,20000}?-----END (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY-----",),
      score=0.99, validator="pem_block", triggers=("-----BEGIN",), chars="-", description="PEM private key block"),
    R("generic_secret", (r"(?i)(?<![A-Za-z0-9])(?:password|passwd|passwort|pwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|token)[\"']?\s{0,5}[:=]\s{0,5}[\"']?([^\s\"'`,;]{8,200})",),
      score=0.75, group=1, validator="entropy", lower_triggers=("pass", "pwd", "secret", "key", "token"), chars="=:",
      description="password=/api_key= assignments with a high-entropy value"),
)
