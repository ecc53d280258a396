"""Sentence boundaries for cadence, soft halts and claim splitting.

One decision function (``_decide``) serves both the one-shot splitter and the streaming
tracker, so a stream cut token by token finds exactly the boundaries that splitting the
whole text finds. A boundary needs right context (the next non-space character), which
is why the streaming tracker confirms a boundary only when that character has arrived or
the stream is closed.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences", "sentence_spans", "boundary_cuts", "SentenceTracker", "ABBREVIATIONS"]

# Abbreviations that are (almost) never the last word of a sentence. Words such as
# "etc.", "Inc." or "Ltd." are left out on purpose: they end sentences often enough.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof rev hon gen sen rep gov lt col sgt capt cmdr adm maj st mt ft
    vs cf e.g i.e eg ie viz al fig figs no nos vol vols pp p ch sec approx ca ref refs dept
    univ jan feb mar apr jun jul aug sep sept oct nov dec est op ed eds jr sr""".split()
)

_TERMINATORS = ".!?\u2026\u3002\uff01\uff1f"
_CLOSERS = "\"'\u201d\u2019)]\u00bb"
# A terminator run (with closing quotes/brackets) or a blank line (paragraph break).
_CANDIDATE = re.compile(
    "[" + re.escape(_TERMINATORS) + "]+[" + re.escape(_CLOSERS) + "]*|\n[ \t\r\f\v]*\n"
)
_TRIGGER = frozenset(_TERMINATORS + "\n")
_TRAILING_NEWLINE = re.compile("\n[ \t\r\f\v]*\\Z")
_CJK_STOPS = frozenset("\u3002\uff01\uff1f")
_WORD_BEFORE = re.compile(r"([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)\.?$")


def _decide(text: str, start: int, end: int, final: bool) -> bool | None:
    """Is there a sentence boundary after the candidate ``text[start:end]``?

    Returns ``None`` when the answer depends on text that has not arrived yet.
    """
    run = text[start:end]
    if run[0] == "\n":
        return True
    n = len(text)
    if end >= n:
        return True if final else None
    if run[-1] in _CJK_STOPS or run.rstrip(_CLOSERS)[-1:] in _CJK_STOPS:
        return True
    if not text[end].isspace():
        return False  # 3.14, example.com, "?!x", e.g.,
    j = end
    while j < n and text[j].isspace():
        j += 1
    if j >= n:
        return True if final else None
    nxt = text[j]
    if nxt.islower():
        return False
    core = run.rstrip(_CLOSERS)
    if core and set(core) == {"."} and len(core) == 1:
        m = _WORD_BEFORE.search(text, max(0, start - 24), start)
        if m is not None and m.end() == start:
            word = m.group(1)
            if word.lower() in ABBREVIATIONS:
                return False
            if len(word) == 1 and word.isupper():
                return False  # an initial: "J. Smith"
            if "." in word and all(len(p) == 1 for p in word.split(".")):
                return False  # "U.S." style acronyms followed by a name
    return True


def boundary_cuts(text: str) -> list[int]:
    """Character offsets where sentences end (the end of the text counts when it ends one)."""
    cuts: list[int] = []
    for m in _CANDIDATE.finditer(text):
        cut = m.start() if m.group()[0] == "\n" else m.end()
        if cuts and cut <= cuts[-1]:
            continue
        if _decide(text, m.start(), m.end(), True):
            cuts.append(cut)
    return cuts


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` (surrounding whitespace excluded)."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for cut in boundary_cuts(text):
        _add_span(text, begin, cut, spans)
        begin = cut
    _add_span(text, begin, len(text), spans)
    return spans


def _add_span(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> None:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    if end > begin:
        spans.append((begin, end))


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; abbreviations, initials, decimals and URLs do not split."""
    return [text[a:b] for a, b in sentence_spans(text)]


class SentenceTracker:
    """Streaming boundary detection over pushed tokens.

    ``push`` returns the token positions (number of tokens before the cut) of boundaries
    confirmed by this token, in order; ``close`` confirms what the end of the stream
    decides. A boundary inside a token is placed after that token.
    """

    __slots__ = ("_win", "_win_start", "_scan", "_ends", "_total", "_last")

    _KEEP = 96  # characters of left context kept once resolved

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._win = ""  # text from absolute offset _win_start to _total
        self._win_start = 0
        self._scan = 0  # absolute offset before which every candidate is decided
        self._ends: list[int] = []  # cumulative char end of each token
        self._total = 0
        self._last = 0  # last boundary reported (token position)

    def push(self, token: str) -> list[int]:
        self._total += len(token)
        self._ends.append(self._total)
        if self._scan + len(token) == self._total and _TRIGGER.isdisjoint(token):
            # nothing pending and nothing new to decide: keep only a little context
            self._scan = self._total
            win = self._win + token
            if len(win) > 2 * self._KEEP:
                self._win_start += len(win) - self._KEEP
                win = win[-self._KEEP :]
            self._win = win
            return []
        self._win += token
        return self._resolve(False)

    def close(self) -> list[int]:
        return self._resolve(True)

    def _resolve(self, final: bool) -> list[int]:
        found: list[int] = []
        win, base = self._win, self._win_start
        pos = self._scan - base
        undecided = -1
        consumed = pos  # end of the last decided candidate: a later hold may not start inside it
        for m in _CANDIDATE.finditer(win, pos):
            verdict = _decide(win, m.start(), m.end(), final)
            if verdict is None:
                undecided = m.start()
                break
            consumed = m.end()
            if verdict:
                cut = base + (m.start() if m.group()[0] == "\n" else m.end())
                tok = self._token_position(cut)
                if tok > self._last:
                    self._last = tok
                    found.append(tok)
        self._scan = base + undecided if undecided >= 0 else self._total
        # A trailing "\n" (plus spaces/tabs) may still become a paragraph break: keep it undecided.
        if undecided < 0 and not final:
            tail = _TRAILING_NEWLINE.search(win, consumed)
            if tail is not None:
                self._scan = base + tail.start()
        # trim resolved context
        keep_from = min(self._scan - base, len(win)) - self._KEEP
        if keep_from > self._KEEP:
            self._win = win[keep_from:]
            self._win_start = base + keep_from
        return found

    def _token_position(self, char_pos: int) -> int:
        """Number of tokens up to and including the one holding character ``char_pos - 1``."""
        ends = self._ends
        lo, hi = 0, len(ends)
        while lo < hi:  # first token whose end >= char_pos
            mid = (lo + hi) // 2
            if ends[mid] >= char_pos:
                hi = mid
            else:
                lo = mid + 1
        return lo + 1
