"""Training and dev text for the name model: six corpora of real text and our own synthetic chat.

Every example is ``{"text", "spans": [(start, end, type)], "source"}`` with types from
``kernel.ner.ENTITY_TYPES``. The corpora's own tag sets are collapsed to person / location /
organization (products, works, events, nationalities and the like are not personal data and
stay outside); addresses appear in none of them, so they, and names in more cultures, cases and
formats, come from ``synthetic``: templates of the messages people send to chatbots, filled by
``faker`` in several locales.

Dev sources are never trained on: CrossNER (encyclopedic text from Wikipedia in five domains)
stands for "real encyclopedic text", and presidio-research's generated sentences (another
generator's templates, in ../shared/data/pii) for synthetic personal data.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from haltguard.models.datasets import data_dir

Example = dict[str, Any]
TRAIN_SOURCES = ("btc", "wnut17", "sec_filings", "gum", "re3d", "synthetic")
DEV_SOURCES = ("crossner", "presidio")

_WNUT = {"person": "person", "location": "location", "corporation": "organization", "group": "organization"}
_BTC = {"PER": "person", "LOC": "location", "ORG": "organization"}
_RE3D = {"Person": "person", "Location": "location", "Organisation": "organization"}
_GUM = {"person": "person", "place": "location", "organization": "organization"}
_CROSSNER = {"person": "person", "writer": "person", "politician": "person", "musicalartist": "person",
             "scientist": "person", "researcher": "person", "location": "location", "country": "location",
             "organisation": "organization", "politicalparty": "organization", "band": "organization",
             "university": "organization"}
PRESIDIO_TYPES = {"PERSON": "person", "LOCATION": "location", "GPE": "location", "ORGANIZATION": "organization",
                  "ADDRESS": "address", "STREET_ADDRESS": "address"}


def _join(tokens: list[str], types: list[str | None], begins: list[bool], source: str) -> Example:
    """Tokens joined by single spaces; a span runs over consecutive tokens of one type."""
    text: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    cur: list[Any] | None = None
    for tok, t, b in zip(tokens, types, begins):
        if text:
            pos += 1
        if t is None or b or cur is None or cur[2] != t:
            if cur is not None:
                spans.append((cur[0], cur[1], cur[2]))
            cur = [pos, pos + len(tok), t] if t is not None else None
        else:
            cur[1] = pos + len(tok)
        text.append(tok)
        pos += len(tok)
    if cur is not None:
        spans.append((cur[0], cur[1], cur[2]))
    return {"text": " ".join(text), "spans": spans, "source": source}


def _conll(path: Path, cols: str = "\t") -> Iterator[list[tuple[str, str]]]:
    sent: list[tuple[str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(cols) if cols else line.split()
            if not line.strip() or parts[0] == "-DOCSTART-":
                if sent:
                    yield sent
                sent = []
                continue
            if len(parts) >= 2 and parts[0]:
                sent.append((parts[0], parts[-1].strip()))
    if sent:
        yield sent


def _bio(sent: list[tuple[str, str]], mapping: dict[str, str], source: str, iob1: bool = False) -> Example:
    types, begins = [], []
    prev = None
    for _, tag in sent:
        kind = tag[2:] if tag[:2] in ("B-", "I-") else None
        t = mapping.get(kind) if kind else None
        types.append(t)
        # IOB1 (and sloppy BIO): an I- that does not continue the same kind starts a span
        begins.append(tag.startswith("B-") or (t is not None and prev != kind) if not iob1 else
                      (tag.startswith("B-") or prev != kind))
        prev = kind
    return _join([w for w, _ in sent], types, begins, source)


def _gum(sent: list[tuple[str, str]], lower_words: set[str]) -> Example:
    """GUM marks every mention (pronouns and common nouns too): keep the proper-noun part, the
    run of capitalised tokens that ends a mention; a sentence-initial word that also occurs in
    lower case elsewhere ("Biologist Nick Bos") is not part of the name."""
    tokens = [w for w, _ in sent]
    types: list[str | None] = [None] * len(sent)
    begins = [False] * len(sent)
    i = 0
    while i < len(sent):
        tag = sent[i][1]
        j = i
        while j + 1 < len(sent) and sent[j + 1][1] == tag:
            j += 1
        t = _GUM.get(tag)
        if t:
            k = j
            while k >= i and tokens[k][:1].isupper():
                k -= 1
            first = k + 1
            if first == 0 and first < j and tokens[0].lower() in lower_words:
                first = 1
            if first <= j:
                for m in range(first, j + 1):
                    types[m] = t
                begins[first] = True
        i = j + 1
    return _join(tokens, types, begins, "gum")


def corpus(name: str) -> list[Example]:
    d = data_dir() / "ner"
    if name == "btc":
        return [_bio(s, _BTC, name) for p in sorted((d / "btc/CONLL-format/data").glob("*.conll")) for s in _conll(p)]
    if name == "wnut17":
        return [_bio(s, _WNUT, name) for p in sorted((d / "wnut17/CONLL-format/data").glob("*/*")) for s in _conll(p)]
    if name == "sec_filings":
        return [_bio(s, _BTC, name, iob1=True) for p in sorted((d / "sec_filings/CONLL-format/data").glob("*/*.txt"))
                for s in _conll(p, cols="")]
    if name == "re3d":
        return [_bio(s, _RE3D, name) for p in sorted((d / "re3d/CONLL-format/data-by-source/conll").glob("*/*.conll"))
                for s in _conll(p)]
    if name == "gum":
        sents = [s for p in sorted((d / "gum/CONLL-format/data-by-corpustype").glob("*/*.tsv")) for s in _conll(p)]
        lower = {w for s in sents for w, _ in s if w.islower()}
        return [_gum(s, lower) for s in sents]
    if name == "crossner":
        return [_bio(s, _CROSSNER, name) for p in sorted((d / "crossner/ner_data").glob("*/*.txt")) for s in _conll(p)]
    if name == "presidio":
        rows = json.loads((data_dir() / "pii" / "presidio_generated_large.json").read_text(encoding="utf-8"))
        return [{"text": r["full_text"], "source": name,
                 "spans": [(s["start_position"], s["end_position"], PRESIDIO_TYPES[s["entity_type"]])
                           for s in r["spans"] if s["entity_type"] in PRESIDIO_TYPES]} for r in rows]
    if name == "synthetic":
        return synthetic()
    raise ValueError(f"unknown NER source {name!r}: choose from {', '.join(TRAIN_SOURCES + DEV_SOURCES)}")


# --- synthetic chat ---------------------------------------------------------------------------
LOCALES = ("en_US", "en_GB", "en_IN", "en_AU", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_BR",
           "sv_SE", "tr_TR", "cs_CZ", "da_DK", "fi_FI", "ro_RO", "hu_HU", "vi_VN", "id_ID", "el_GR", "ru_RU")
_ADDRESS_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "en_US", "en_GB", "es_ES", "it_IT", "nl_NL")
_TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mr", "Mrs", "Ms", "Dr", "Sir", "Miss", "Herr", "Frau", "M.", "Mme")
TEMPLATES = (
    "Hi, I'm {person}.", "hello my name is {person} and I need help with my order",
    "My name is {person}, I live at {address}.", "Please send the invoice to {person}, {address}.",
    "Can you write an email to {person} at {org} about the delay?", "{person} from {org} called about the contract.",
    "I moved from {city} to {city} last year.", "Ship it to {address} please", "my address is {address}",
    "Our office is at {address}. Ask for {person}.", "I work for {org} in {city}, {country}.",
    "Is {org} hiring in {city}?", "Tell {person} that the meeting moved to Tuesday.",
    "{person} and {person} will join from {country}.", "Draft a reply to {title} {person} thanking them for the call.",
    "What's the weather like in {city} today?", "We are flying to {country} next week, any tips for {city}?",
    "I got a letter from {org} addressed to {person}, {address}", "Forward this to {person} in our {city} office.",
    "Who is the CEO of {org}?", "please update the delivery address to {address}",
    "my manager {person} said {org} will refund me", "Dear {title} {person},",
    "The package for {person} never arrived at {address}.", "I was born in {city} and grew up in {country}.",
    "Remind me to call {person} tomorrow", "{person} ({org}) wants a quote for 200 units.",
    "Can you summarise the complaint from {person}? They live in {city}.", "Book a table for {person} in {city}.",
    "thanks {person}!", "I'm {person}, customer since 2019, living at {address}.",
    "Our supplier {org} is based at {address}.", "Translate this for my colleague {person} in {country}.",
    "{person} wrote: the server in {city} is down again", "send the contract to {org}, attn. {person}",
    "{org}\n{address}", "Billing address:\n{person}\n{address}", "Deliver to {address}, c/o {org}.",
    "Is there a branch of {org} near {address}?", "I bank with {org} and my card was stolen in {city}.",
    "{org} and {org} announced a merger in {city}.", "How do I cancel my {org} subscription?",
    "Write a complaint to {org} about my flight from {city} to {city}.",
    "Our client {org} (contact: {person}) needs the report by Monday.",
)


def _person(f: Any, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        name = f"{f.first_name()} {f.last_name()}"
    elif r < 0.6:
        name = f.first_name()
    elif r < 0.75:
        name = f.name()
    elif r < 0.85:
        name = f"{f.first_name()} {f.first_name()} {f.last_name()}"
    else:
        name = f.last_name()
    return name


def _address(f: Any, rng: random.Random) -> str:
    a = f.address().strip()
    return a.replace("\n", rng.choice((", ", ", ", " ", "\n")))


def _case(s: str, rng: random.Random) -> str:
    r = rng.random()
    return s.lower() if r < 0.2 else s.upper() if r < 0.25 else s


def synthetic(n: int = 8000, seed: int = 13) -> list[Example]:
    """``n`` chat messages with names, addresses, places and organisations (deterministic)."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in set(LOCALES) | set(_ADDRESS_LOCALES)}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    out = []
    slot = re.compile(r"\{(\w+)\}")
    for _ in range(n):
        tpl = rng.choice(TEMPLATES)
        f = fakers[rng.choice(LOCALES)]
        text, spans, pos = [], [], 0
        last = 0
        for m in slot.finditer(tpl):
            text.append(tpl[last:m.start()])
            pos += m.start() - last
            kind = m.group(1)
            if kind == "title":
                value, t = rng.choice(_TITLES), None
            elif kind == "person":
                value, t = _case(_person(f, rng), rng), "person"
            elif kind == "address":
                value, t = _address(fakers[rng.choice(_ADDRESS_LOCALES)], rng), "address"
            elif kind == "city":
                value, t = _case(f.city(), rng), "location"
            elif kind == "country":
                value, t = _case(f.country(), rng), "location"
            else:
                value, t = f.company(), "organization"
            text.append(value)
            if t:
                spans.append((pos, pos + len(value), t))
            pos += len(value)
            last = m.end()
        text.append(tpl[last:])
        s = "".join(text)
        out.append({"text": s if rng.random() > 0.15 else s.lower(), "spans": spans, "source": "synthetic"})
    return out
