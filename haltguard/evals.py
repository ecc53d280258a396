"""`haltguard eval pii` and `haltguard eval injection`: precision/recall on labelled files."""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from haltguard.kernel.injection import scan_prompt
from haltguard.kernel.policy import Policy

# Presidio entity type -> our types (overlap match). Types not listed are not covered by
# regex detection (names, places, organisations, addresses need a model) and count as
# misses in the all-types recall.
PRESIDIO_TYPES: dict[str, tuple[str, ...]] = {
    "CREDIT_CARD": ("credit_card",),
    "PHONE_NUMBER": ("phone",),
    "EMAIL_ADDRESS": ("email",),
    "US_SSN": ("us_ssn",),
    "US_ITIN": ("us_itin",),
    "IBAN_CODE": ("iban",),
    "IP_ADDRESS": ("ip_address", "ipv6_address"),
    "DATE_TIME": ("date", "date_of_birth"),
    "DOMAIN_NAME": ("url",),
    "URL": ("url",),
    "US_PASSPORT": ("passport",),
    "CRYPTO": ("crypto_btc", "crypto_eth"),
    "US_BANK_NUMBER": ("aba_routing",),
    "UK_NINO": ("uk_nino",),
    # the name model's types (with it: `eval pii` runs it unless --no-names)
    "PERSON": ("person",),
    "LOCATION": ("location",),
    "ORGANIZATION": ("organization",),
    "ADDRESS": ("address",),
}
# Names a presidio-format file may give a type under, and the one this report uses: generators
# and corpora disagree (spaCy says GPE, presidio-research LOCATION; STREET_ADDRESS or ADDRESS).
TYPE_ALIASES: dict[str, str] = {"GPE": "LOCATION", "LOC": "LOCATION", "STREET_ADDRESS": "ADDRESS", "PER": "PERSON",
                                "ORG": "ORGANIZATION"}
_NAME_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "ADDRESS")
OURS_TO_PRESIDIO: dict[str, tuple[str, ...]] = {}
for _theirs, _group in PRESIDIO_TYPES.items():
    for _ours in _group:
        OURS_TO_PRESIDIO[_ours] = OURS_TO_PRESIDIO.get(_ours, ()) + (_theirs,)


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    rnd = lambda x: None if x is None else round(x, 4)  # noqa: E731
    return {"tp": tp, "fp": fp, "fn": fn, "precision": rnd(p), "recall": rnd(r), "f1": rnd(f)}


def eval_pii(path: str | Path, policy: Policy | None = None, names: Any = None) -> dict[str, Any]:
    """Per-type precision/recall on a presidio-format file; ``names``: a name model
    (``OnnxNerModel``) whose entities join the recognizers' findings, or None for the recognizers only."""
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of {{full_text, spans}}")
    policy = policy or Policy()
    t0 = time.perf_counter()
    parsed: list[tuple[str, list[tuple[str, int, int]]]] = []
    for i, row in enumerate(rows):
        try:
            parsed.append((row["full_text"], [(TYPE_ALIASES.get(s["entity_type"], s["entity_type"]), s["start_position"],
                                               s["end_position"]) for s in row["spans"]]))
        except (KeyError, TypeError):
            raise ValueError(f"{path}: row {i} needs full_text and spans[entity_type,start_position,end_position]") from None
    entities = names.entities([text for text, _ in parsed]) if names is not None else [None] * len(parsed)
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    unmapped: dict[str, int] = defaultdict(int)
    for (text, gold), names_in_text in zip(parsed, entities):
        preds = policy.findings(text, names_in_text)
        matched_gold = set()
        for f in preds:
            theirs = OURS_TO_PRESIDIO.get(f.type)
            if theirs is None:
                unmapped[f.type] += 1
                continue
            hit = [j for j, (gt, gs, ge) in enumerate(gold) if gt in theirs and f.start < ge and gs < f.end]
            if hit:
                tp[gold[hit[0]][0]] += 1
                matched_gold.update(hit)
            else:
                fp[theirs[0]] += 1
        for j, (gt, _, _) in enumerate(gold):
            if j not in matched_gold:
                fn[gt] += 1
    seconds = time.perf_counter() - t0
    gold_types = set(fn) | set(tp)
    per_type = {t: _prf(tp[t], fp[t], fn[t]) for t in sorted(gold_types | set(fp))}
    covered = {t for t in per_type if t in PRESIDIO_TYPES and (names is not None or t not in _NAME_TYPES)}
    return {
        "file": str(path),
        "n_texts": len(rows),
        "type_mapping": {k: list(v) for k, v in PRESIDIO_TYPES.items()},
        "type_aliases": dict(TYPE_ALIASES),
        "per_type": {t: {**v, "covered": t in covered} for t, v in per_type.items()},
        "names": names is not None,
        "total_covered_types": _prf(sum(tp[t] for t in covered), sum(fp[t] for t in covered), sum(fn[t] for t in covered)),
        "total_all_types": _prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "unmapped_predictions": dict(unmapped),
        "seconds": round(seconds, 3),
    }


def _load_injection(path: Path) -> list[tuple[str, bool]]:
    rows: list[tuple[str, bool]] = []
    if path.suffix == ".jsonl":
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            text = r.get("text", r.get("prompt", r.get("llm_output")))
            label = r.get("label", r.get("is_prompt_extraction"))
            if text is None or label is None:
                raise ValueError(f"{path}:{i}: need text (or prompt/llm_output) and label (or is_prompt_extraction)")
            rows.append((text, _truthy(label)))
        return rows
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        tcol = next((c for c in ("text", "prompt") if c in cols), None)
        lcol = next((c for c in ("label", "type") if c in cols), None)
        if tcol is None or lcol is None:
            raise ValueError(f"{path}: CSV needs a text/prompt column and a label/type column (has {cols})")
        for r in reader:
            rows.append((r[tcol], _truthy(r[lcol])))
    return rows


def _truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "injection", "jailbreak", "malicious"):
        return True
    if s in ("0", "false", "no", "benign", "safe"):
        return False
    raise ValueError(f"unrecognised label {v!r}")


def eval_injection(path: str | Path, threshold: float = 0.5) -> dict[str, Any]:
    rows = _load_injection(Path(path))
    t0 = time.perf_counter()
    tp = fp = fn = tn = 0
    for text, y in rows:
        flagged = scan_prompt(text, threshold).flagged
        tp += flagged and y
        fp += flagged and not y
        fn += (not flagged) and y
        tn += (not flagged) and (not y)
    return {"file": str(path), "n": len(rows), "threshold": threshold, **_prf(tp, fp, fn), "tn": tn,
            "seconds": round(time.perf_counter() - t0, 3)}
