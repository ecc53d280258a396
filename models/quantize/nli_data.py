"""Training and dev pairs for the default NLI model, built from ../shared/data.

Every row is ``{"premise", "hypothesis", "label", "source", "group"}`` with label 1 =
supported. Real pairs come from every NLI file in the data folder; synthetic pairs are
generated from their documents with the edits the halt kernel must catch (numbers, dates,
names swapped, negation added, a sentence from another document) and the ones it must let
through (the source sentence, a dropped clause). The dev split is by ``group`` (claim,
document or article), so no premise text is shared between train and dev. Deterministic for
a given seed; the file hashes go into the model manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

from haltguard.datasets import data_dir, load_summedits, load_wice_dev
from haltguard.kernel.sentences import split_sentences

__all__ = ["build_pairs", "split_dev", "data_files", "file_hashes", "premise_windows"]

NEGATE = [(" is ", " is not "), (" was ", " was not "), (" are ", " are not "), (" were ", " were not "),
          (" has ", " has not "), (" have ", " have not "), (" can ", " cannot "), (" will ", " will not "),
          (" did ", " did not "), (" does ", " does not ")]
MONTHS = "January February March April May June July August September October November December".split()
_NUM = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_CAP = re.compile(r"(?<=\s)[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})?")


def data_files() -> dict[str, Path]:
    d = data_dir() / "nli"
    files = {
        "snli": d / "snli_dev.csv",
        "climate_fever": d / "climate-fever.jsonl",
        "wice": d / "wice_claim_dev_oracle.jsonl",
        "qags_cnndm": d / "qags" / "mturk_cnndm.jsonl",
        "qags_xsum": d / "qags" / "mturk_xsum.jsonl",
        "begin_test_wow": d / "begin" / "begin_test_wow.tsv",
        "begin_dev_wow": d / "begin" / "begin_dev_wow.tsv",
        "begin_dev_cmu": d / "begin" / "begin_dev_cmu.tsv",
    }
    for dom in ("ectsum", "news", "qmsumm", "sales_call", "samsum"):
        files[f"summedits_{dom}"] = d / "summedits" / f"summedits_{dom}.json"
    return files


def file_hashes() -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in data_files().items()}


def premise_windows(premise: str, max_words: int = 110, stride_sents: int = 2) -> list[str]:
    """Overlapping windows of whole sentences, each at most ``max_words`` words."""
    sents = split_sentences(premise) or [premise]
    if sum(len(s.split()) for s in sents) <= max_words:
        return [premise]
    out: list[str] = []
    i = 0
    while i < len(sents):
        words, j = 0, i
        while j < len(sents) and (words + len(sents[j].split()) <= max_words or j == i):
            words += len(sents[j].split())
            j += 1
        out.append(" ".join(sents[i:j])[: max_words * 12])
        if j >= len(sents):
            break
        i += max(1, min(stride_sents, j - i))
    return out


def _overlap(a: str, b: str) -> int:
    wa = {w for w in re.findall(r"\w+", a.lower()) if len(w) > 3}
    return len(wa & {w for w in re.findall(r"\w+", b.lower()) if len(w) > 3})


def _best_window(premise: str, hypothesis: str, max_words: int) -> str:
    wins = premise_windows(premise, max_words)
    return max(wins, key=lambda w: _overlap(w, hypothesis)) if len(wins) > 1 else wins[0]


def _row(premise: str, hypothesis: str, label: int, source: str, group: str) -> dict[str, Any]:
    return {"premise": premise.strip(), "hypothesis": hypothesis.strip(), "label": int(label), "source": source,
            "group": f"{source}:{group}"}


def _real(max_words: int) -> Iterator[dict[str, Any]]:
    f = data_files()
    with open(f["snli"], encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["gold_label"] in ("entailment", "neutral", "contradiction"):
                yield _row(r["sentence1"], r["sentence2"], r["gold_label"] == "entailment", "snli", r["sentence1"][:60])
    with open(f["climate_fever"], encoding="utf-8") as fh:
        for line in fh:
            c = json.loads(line)
            for e in c["evidences"]:
                lab = e["evidence_label"]
                yield _row(e["evidence"], c["claim"], lab == "SUPPORTS", "climate_fever" + ("" if lab != "NOT_ENOUGH_INFO" else "_nei"),
                           c["claim"][:60])
    for r in load_wice_dev():
        yield _row(_best_window(r["premise"], r["hypothesis"], max_words), r["hypothesis"], r["label"], "wice",
                   r["hypothesis"][:60])
    for key in ("qags_cnndm", "qags_xsum"):
        with open(f[key], encoding="utf-8") as fh:
            for line in fh:
                a = json.loads(line)
                for s in a["summary_sentences"]:
                    votes = [x["response"] == "yes" for x in s["responses"]]
                    yield _row(_best_window(a["article"], s["sentence"], max_words), s["sentence"],
                               sum(votes) * 2 > len(votes), "qags", a["article"][:60])
    for key in ("begin_test_wow", "begin_dev_wow", "begin_dev_cmu"):
        with open(f[key], encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                if r.get("knowledge") and r.get("response"):
                    yield _row(r["knowledge"], r["response"], r["begin_label"] == "Fully attributable", "begin",
                               r["knowledge"][:60])
    for r in load_summedits():
        yield _row(_best_window(r["premise"], r["hypothesis"], max_words), r["hypothesis"], r["label"],
                   f"summedits_{r['domain']}", r["premise"][:60])


def _edit(kind: str, s: str, doc: str, rng: random.Random, names: list[str],
          all_sents: list[tuple[str, str]], g: str) -> tuple[str, int] | None:
    """One edit of sentence ``s``; None when this kind does not apply to it."""
    if kind == "copy":
        return s, 1
    if kind == "clause":
        head = s.split(",")[0].rstrip()
        return (head + ".", 1) if "," in s and len(head.split()) >= 5 else None
    if kind == "number":
        m = _NUM.search(s)
        if not m:
            return None
        n = m.group()
        if n.isdigit():
            v = int(n)
            new = str(v + rng.choice([1, 2, 3, 5, 10, -1])) if v > 10 else str(v + rng.randint(2, 9))
        else:
            new = n.replace(n[-1], str((int(n[-1]) + rng.randint(1, 8)) % 10)) if n[-1].isdigit() else n
        return (s[:m.start()] + new + s[m.end():], 0) if new != n else None
    if kind == "date":
        m = next((m for m in MONTHS if m in s), None)
        return (s.replace(m, rng.choice([x for x in MONTHS if x != m]), 1), 0) if m else None
    if kind == "entity":
        m = _CAP.search(s)
        if not m or not names:
            return None
        new = rng.choice(names)
        return (s[:m.start()] + new + s[m.end():], 0) if new != m.group() and new not in doc else None
    if kind == "negation":
        if re.search(r"\b(?:not|no|never|n't)\b", s):
            return None
        for a, b in NEGATE:
            if a in s:
                return s.replace(a, b, 1), 0
        return None
    if kind == "other_doc":
        og, other = rng.choice(all_sents)
        return (other, 0) if og != g else None
    raise ValueError(kind)


# supported edits and unsupported ones in roughly equal measure
_KINDS = ("copy", "clause", "number", "date", "entity", "negation", "other_doc")
_WEIGHTS = (0.3, 0.2, 0.14, 0.06, 0.12, 0.1, 0.08)


def _synthetic(docs: list[tuple[str, str]], rng: random.Random, per_doc: int = 2) -> Iterator[dict[str, Any]]:
    """Edits of real sentences: label 1 for the sentence itself or a dropped clause, 0 for factual edits.

    Known flaw, kept because the shipped model was trained on this exact data: the premise is
    the window with the most word overlap, which for ~0.3 % of pairs is not the window that
    holds the sentence. Pick the containing window when the model is next retrained.
    """
    names = sorted({m.group() for _, d in docs[:3000] for m in _CAP.finditer(d)})
    all_sents = [(g, s) for g, d in docs for s in split_sentences(d) if 6 <= len(s.split()) <= 40]
    for g, doc in docs:
        sents = [s for s in split_sentences(doc) if 6 <= len(s.split()) <= 40]
        if not sents:
            continue
        for s in rng.sample(sents, min(per_doc, len(sents))):
            window = _best_window(doc, s, 110)
            first = rng.choices(_KINDS, _WEIGHTS)[0]
            order = [first] + [k for k in rng.sample(_KINDS, len(_KINDS)) if k != first]
            for kind in order:
                out = _edit(kind, s, doc, rng, names, all_sents, g)
                if out is not None:
                    yield _row(window, out[0], out[1], f"synthetic_{kind}", g)
                    break


def build_pairs(seed: int = 13, max_words: int = 110, nei_keep: float = 0.35,
                synthetic_docs: int = 3000) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    docs: dict[str, str] = {}
    for r in _real(max_words):
        if r["source"] == "climate_fever_nei":
            if rng.random() > nei_keep:
                continue
            r["source"] = "climate_fever"
        rows.append(r)
        if r["source"] in ("qags", "begin") or r["source"].startswith("summedits_"):
            docs.setdefault(r["group"], r["premise"])
    f = data_files()
    for key in ("qags_cnndm", "qags_xsum"):
        with open(f[key], encoding="utf-8") as fh:
            for line in fh:
                a = json.loads(line)
                docs[f"qags:{a['article'][:60]}"] = a["article"]
    doc_items = sorted(docs.items())
    rng.shuffle(doc_items)
    rows += list(_synthetic(doc_items[:synthetic_docs], rng))
    return rows


def split_dev(rows: list[dict[str, Any]], dev_fraction: float = 0.12, seed: int = 13) -> tuple[list, list]:
    """Dev by group (stable hash), so premises never cross the split."""
    train, dev = [], []
    for r in rows:
        h = int(hashlib.sha256(f"{seed}:{r['group']}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (dev if h < dev_fraction else train).append(r)
    return train, dev


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "pos": 0})
    for r in rows:
        out[r["source"]]["n"] += 1
        out[r["source"]]["pos"] += r["label"]
    return dict(sorted(out.items()))
