"""Loaders for the labelled text in ../shared/data (never copied into the repository).

The data folder is found from ``HALTGUARD_DATA`` or, by default, ``../shared/data`` next to
the repository root. Each loader yields plain ``{"premise", "hypothesis", "label"}`` rows
with label 1 = supported/entailed and 0 = not, the shape ``haltguard eval nli`` reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["data_dir", "load_wice_dev", "load_summedits", "DataMissing"]

_REPO = Path(__file__).resolve().parent.parent


class DataMissing(FileNotFoundError):
    """The shared data folder (or one of its files) is not where it should be."""


def data_dir() -> Path:
    d = Path(os.environ.get("HALTGUARD_DATA", _REPO.parent / "shared" / "data"))
    if not d.is_dir():
        raise DataMissing(f"data folder {d} not found; set HALTGUARD_DATA to the shared data folder")
    return d


def load_wice_dev() -> list[dict]:
    """WiCE dev claims against their evidence: supported = 1, partially/not supported = 0."""
    rows = []
    with open(data_dir() / "nli" / "wice_claim_dev_oracle.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rows.append({"premise": " ".join(r["evidence"]), "hypothesis": r["claim"], "label": int(r["label"] == "supported")})
    return rows


def load_summedits(domains: tuple[str, ...] = ("ectsum", "news", "qmsumm", "sales_call", "samsum")) -> list[dict]:
    """SummEdits doc/summary pairs (1 = consistent), with the unedited summary each was made from."""
    rows = []
    for dom in domains:
        with open(data_dir() / "nli" / "summedits" / f"summedits_{dom}.json", encoding="utf-8") as fh:
            for r in json.load(fh):
                rows.append({"premise": r["doc"], "hypothesis": r["summary"], "label": int(r["label"]), "domain": dom,
                             "original_summary": r.get("original_summary") or ""})
    return rows
