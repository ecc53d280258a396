"""BERT-uncased WordPiece in pure Python, id-for-id compatible with Hugging Face `tokenizers`.

The browser bundle runs only the ONNX model in onnxruntime-web; tokenisation happens here,
in Python inside Pyodide, so the same code produces the same ids on the host, in the page
and on a device. Every step mirrors the Rust implementation (BertNormalizer ->
BertPreTokenizer -> WordPiece -> pair template and truncation), including its quirks:
control characters are dropped before whitespace is normalised, accents are stripped
before lower-casing, and lower-casing is per character (no Greek final-sigma context). Like `tokenizers`, the
special tokens (``[CLS]``, ``[SEP]``, ...) are matched in the *raw* text, so a user who types
"[SEP]" produces the separator id; pass ``match_special_tokens=False`` to treat them as plain
text instead (safer for untrusted input, at the price of differing from `tokenizers`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["WordPieceTokenizer", "Encoding", "TruncationError"]

_WHITESPACE = frozenset(
    "\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u000b\u000c\u0085"
)
_CJK = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


class TruncationError(ValueError):
    """The requested truncation cannot fit the inputs (e.g. only_first with a too-long second text)."""


_CONTROL_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs"))  # not Cn: tokenizers keeps unassigned code points


def _is_control(c: str) -> bool:
    if c in "\t\n\r":
        return False
    return unicodedata.category(c) in _CONTROL_CATEGORIES


def _is_punct(c: str) -> bool:
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c)[0] == "P"


def _is_cjk(o: int) -> bool:
    return any(lo <= o <= hi for lo, hi in _CJK)


class Encoding:
    """ids, token_type_ids and attention_mask of one (possibly paired) input."""

    __slots__ = ("ids", "type_ids", "attention_mask", "tokens")

    def __init__(self, ids: list[int], type_ids: list[int], tokens: list[str]) -> None:
        self.ids = ids
        self.type_ids = type_ids
        self.attention_mask = [1] * len(ids)
        self.tokens = tokens

    def pad(self, length: int, pad_id: int = 0, pad_token: str = "[PAD]") -> Encoding:
        extra = length - len(self.ids)
        if extra > 0:
            self.ids += [pad_id] * extra
            self.type_ids += [0] * extra
            self.attention_mask += [0] * extra
            self.tokens += [pad_token] * extra
        return self

    def __len__(self) -> int:
        return len(self.ids)


class WordPieceTokenizer:
    """Lower-casing BERT WordPiece. ``vocab`` is the list of tokens in id order (vocab.txt lines)."""

    def __init__(self, vocab: Sequence[str], *, unk: str = "[UNK]", cls: str = "[CLS]", sep: str = "[SEP]",
                 pad: str = "[PAD]", mask: str = "[MASK]", max_input_chars_per_word: int = 100, prefix: str = "##",
                 match_special_tokens: bool = True) -> None:
        self.vocab = {t: i for i, t in enumerate(vocab)}
        if len(self.vocab) != len(vocab):
            raise ValueError("vocab has duplicate tokens")
        for special in (unk, cls, sep, pad):
            if special not in self.vocab:
                raise ValueError(f"vocab lacks {special!r}")
        self.inv = list(vocab)
        self.unk, self.cls, self.sep, self.pad = unk, cls, sep, pad
        self.unk_id, self.cls_id, self.sep_id, self.pad_id = (self.vocab[t] for t in (unk, cls, sep, pad))
        self.max_chars = max_input_chars_per_word
        self.prefix = prefix
        self._cache: dict[str, list[int]] = {}
        specials = sorted({t for t in (pad, unk, cls, sep, mask) if t in self.vocab}, key=len, reverse=True)
        self._special_rx = re.compile("|".join(map(re.escape, specials))) if match_special_tokens and specials else None

    @classmethod
    def from_file(cls, path: str) -> WordPieceTokenizer:
        with open(path, encoding="utf-8") as fh:
            return cls([line.rstrip("\n") for line in fh])

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> WordPieceTokenizer:
        return cls([line.rstrip("\n") for line in lines])

    # --- normalisation and pre-tokenisation ----------------------------------------------
    def normalize(self, text: str) -> str:
        out = []
        for c in text:
            o = ord(c)
            if o == 0 or o == 0xFFFD or _is_control(c):
                continue
            if c in _WHITESPACE:
                out.append(" ")
            elif o >= 0x3400 and _is_cjk(o):
                out.append(" " + c + " ")
            else:
                out.append(c)
        text = unicodedata.normalize("NFD", "".join(out))
        return "".join(ch.lower() for ch in text if unicodedata.category(ch) != "Mn")

    def pre_tokenize(self, text: str) -> list[str]:
        words: list[str] = []
        cur: list[str] = []
        for c in text:
            if c in _WHITESPACE or c.isspace():
                if cur:
                    words.append("".join(cur))
                    cur = []
            elif _is_punct(c):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(c)
            else:
                cur.append(c)
        if cur:
            words.append("".join(cur))
        return words

    # --- wordpiece -------------------------------------------------------------------------
    def _word_ids(self, word: str) -> list[int]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        vocab = self.vocab
        if len(word) > self.max_chars:
            ids = [self.unk_id]
        else:
            ids = []
            start, n = 0, len(word)
            while start < n:
                end = n
                found = -1
                while start < end:
                    piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                    tid = vocab.get(piece)
                    if tid is not None:
                        found = tid
                        break
                    end -= 1
                if found < 0:
                    ids = [self.unk_id]
                    break
                ids.append(found)
                start = end
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def tokenize_ids(self, text: str) -> list[int]:
        """Ids of ``text`` (no [CLS]/[SEP] added; special tokens typed in the text are matched)."""
        out: list[int] = []
        rx = self._special_rx
        if rx is not None and "[" in text:
            pos = 0
            for m in rx.finditer(text):
                self._plain_ids(text[pos:m.start()], out)
                out.append(self.vocab[m.group()])
                pos = m.end()
            self._plain_ids(text[pos:], out)
            return out
        self._plain_ids(text, out)
        return out

    def _plain_ids(self, text: str, out: list[int]) -> None:
        if text:
            for w in self.pre_tokenize(self.normalize(text)):
                out.extend(self._word_ids(w))

    def tokenize(self, text: str) -> list[str]:
        return [self.inv[i] for i in self.tokenize_ids(text)]

    # --- encoding with special tokens and truncation ---------------------------------------------
    def encode(self, text: str, pair: str | None = None, *, max_length: int | None = None,
               truncation: str = "longest_first", pad_to: int | None = None) -> Encoding:
        """``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``, truncated to ``max_length`` tokens in all."""
        a = self.tokenize_ids(text)
        b = self.tokenize_ids(pair) if pair is not None else None
        if max_length is not None:
            a, b = self._truncate(a, b, max_length, truncation)
        ids = [self.cls_id] + a + [self.sep_id]
        type_ids = [0] * len(ids)
        if b is not None:
            ids += b + [self.sep_id]
            type_ids += [1] * (len(b) + 1)
        enc = Encoding(ids, type_ids, [self.inv[i] for i in ids])
        if pad_to is not None:
            enc.pad(pad_to, self.pad_id, self.pad)
        return enc

    def _truncate(self, a: list[int], b: list[int] | None, max_length: int, strategy: str) -> tuple[list[int], list[int] | None]:
        specials = 3 if b is not None else 2
        budget = max_length - specials
        if budget < 0:
            raise TruncationError(f"max_length={max_length} leaves no room for {specials} special tokens")
        total = len(a) + (len(b) if b is not None else 0)
        if total <= budget:
            return a, b
        if b is None or strategy == "only_first":
            keep = budget - (len(b) if b is not None else 0)
            if keep <= 0:
                raise TruncationError("only_first: the first sequence would be removed entirely")
            return a[:keep], b
        if strategy == "only_second":
            keep = budget - len(a)
            if keep <= 0:
                raise TruncationError("only_second: the second sequence would be removed entirely")
            return a, b[:keep]
        if strategy != "longest_first":
            raise ValueError(f"unknown truncation strategy {strategy!r}")
        # the arithmetic of tokenizers' LongestFirst
        n1, n2 = len(a), len(b)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > budget else max(n1, budget - n1)
        if n1 + n2 > budget:
            n1 = budget // 2
            n2 = n1 + budget % 2
        if swap:
            n1, n2 = n2, n1
        return a[:n1], b[:n2]
