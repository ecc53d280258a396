"""Well-known places by name: what the small name model misses most.

On encyclopedic text the name model found about half of the gold locations, and the most
missed were the best known: "United States", "France", "India". A list covers those: every
country, continent and US state and every city of 100,000+ people (GeoNames, built by
``haltguard.models.places`` into ``data/places.json``). A listed name counts as a location
only where the model saw no entity, and only as a name of its own: inside a longer proper
name ("Berlin International Film Festival", "Liberal Party of Canada", "the 1992 United
Kingdom general election") it is part of that name, not a place mention.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from haltguard.kernel.ner import Entity

__all__ = ["PLACE_SCORE", "place_names", "find_places", "with_places"]

PLACE_SCORE = 0.7
_TOKEN = re.compile(r"\S+")
_STRIP_END = ",.;:!?)]}\"'\u201d\u2019"
_STRIP_START = "([{\"'\u201c\u2018"
_YEAR = re.compile(r"^(?:1[5-9]|20)\d\d$")
_JOINERS = ("of", "the", "de", "du", "des", "del", "la", "le")


@lru_cache(maxsize=1)
def place_names() -> dict[str, tuple[tuple[str, ...], ...]]:
    """First word -> the listed names starting with it, as word tuples, longest first."""
    data = json.loads(resources.files("haltguard.kernel").joinpath("data/places.json").read_text("utf-8"))
    index: dict[str, list[tuple[str, ...]]] = {}
    for name in data["names"]:
        words = tuple(name.split())
        index.setdefault(words[0], []).append(words)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in index.items()}


def _words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) with surrounding punctuation and a possessive 's left out."""
    out = []
    for m in _TOKEN.finditer(text):
        a, b = m.start(), m.end()
        while a < b and text[a] in _STRIP_START:
            a += 1
        while b > a and text[b - 1] in _STRIP_END:
            # "U.S." keeps its last dot when the word is an abbreviation
            if text[b - 1] == "." and "." in text[a:b - 1]:
                break
            b -= 1
        if text[a:b].endswith(("'s", "\u2019s")):
            b -= 2
        if b > a:
            out.append((a, b, text[a:b]))
    return out


def _glued(text: str, left: tuple[int, int, str], right: tuple[int, int, str]) -> bool:
    """Two words with only spaces between them (no comma, bracket or full stop)."""
    return not text[left[1]:right[0]].strip()


def _nested(text: str, words: list[tuple[int, int, str]], i: int, j: int) -> bool:
    """Whether words[i:j] sit inside a longer proper name or an election/event name.

    In text written in capitals every word is capitalised, so there only the years and
    election words count.
    """
    shouting = all(w[2].isupper() for w in words[i:j])
    if j < len(words) and _glued(text, words[j - 1], words[j]):
        nxt = words[j][2]
        if (nxt[:1].isupper() and not shouting) or nxt.lower() in ("election", "elections", "general"):
            return True
    if i > 0 and _glued(text, words[i - 1], words[i]):
        prev = words[i - 1][2]
        if _YEAR.match(prev):
            return True
        k = i - 1
        while k >= 0 and words[k][2] in _JOINERS and (k == 0 or _glued(text, words[k - 1], words[k])):
            k -= 1
        head = words[k][2] if k >= 0 else ""
        sentence_start = k == 0 or text[words[k - 1][1] - 1:words[k - 1][1]] in (".", "!", "?", ":")
        if head[:1].isupper() and not sentence_start and not shouting:
            return True  # "Party of Canada", "Governor General of Canada", "Hotel Berlin": a longer name
    return False


def find_places(text: str) -> list[Entity]:
    """The listed places named in ``text`` as their own name (see the module doc)."""
    index = place_names()
    words = _words(text)
    out: list[Entity] = []
    i = 0
    while i < len(words):
        w = words[i][2]
        cands = index.get(w) or (index.get(w.title()) if w.isupper() and len(w) > 3 else None)
        hit = 0
        for name in cands or ():
            n = len(name)
            span = words[i:i + n]
            if len(span) == n and all(_glued(text, span[k - 1], span[k]) for k in range(1, n)) and \
                    all(s[2] == p or (s[2].isupper() and len(s[2]) > 3 and s[2] == p.upper()) for s, p in zip(span, name)):
                hit = n
                break
        if hit:
            if not _nested(text, words, i, i + hit):
                out.append(Entity("location", words[i][0], words[i + hit - 1][1], PLACE_SCORE, "places"))
            i += hit
        else:
            i += 1
    return out


def with_places(text: str, entities: list[Entity]) -> list[Entity]:
    """``entities`` (the name model's) plus the listed places they do not already cover."""
    extra = [p for p in find_places(text) if not any(e.start < p.end and p.start < e.end for e in entities)]
    return list(entities) + extra if extra else list(entities)
