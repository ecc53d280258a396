"""Loaders for the labelled text in ../shared/data (never copied into the repository).

The data folder is found by ``haltguard.kernel.resources.data_dir`` (``HALTGUARD_DATA`` or,
in a checkout, ``../shared/data`` beside it). Each loader yields plain ``{"premise", "hypothesis", "label"}`` rows
with label 1 = supported/entailed and 0 = not, the shape ``haltguard eval nli`` reads.
"""

from __future__ import annotations

import json

from haltguard.kernel.resources import DataMissing, data_dir

__all__ = ["data_dir", "load_wice_dev", "load_summedits", "DataMissing"]


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
