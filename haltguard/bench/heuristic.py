"""Balanced accuracy of the model-free heuristic scorer, next to plain word overlap.

The threshold of each scorer is chosen on WiCE dev only and then applied unchanged to
SummEdits; the WiCE figure is therefore optimistic (chosen on the same data) and
SummEdits is the honest one. The kernel's DEFAULT_THRESHOLD is also evaluated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from haltguard.kernel.heuristic import DEFAULT_THRESHOLD, _Facts, heuristic_support, overlap_support
from haltguard.models.datasets import load_summedits, load_wice_dev
from haltguard.models.evaluate import balanced_accuracy, best_threshold


def _score_all(fn: Callable[[str, str], float], rows: list[dict]) -> list[float]:
    return [fn(r["premise"], r["hypothesis"]) for r in rows]


def evaluate() -> dict[str, Any]:
    t0 = time.perf_counter()
    wice, summ = load_wice_dev(), load_summedits()
    wl, sl = [r["label"] for r in wice], [r["label"] for r in summ]
    out: dict[str, Any] = {"wice_dev_n": len(wice), "summedits_n": len(summ)}
    scorers = {
        "overlap": overlap_support,
        "heuristic": lambda p, h: heuristic_support(_Facts(p), h)[0],
    }
    for name, fn in scorers.items():
        ws, ss = _score_all(fn, wice), _score_all(fn, summ)
        thr, _ = best_threshold(ws, wl, decimals=4)
        out[name] = {
            "threshold_from_wice_dev": thr,
            "wice_dev_balanced_accuracy": round(100 * balanced_accuracy(ws, wl, thr), 2),
            "summedits_balanced_accuracy": round(100 * balanced_accuracy(ss, sl, thr), 2),
        }
        if name == "heuristic":
            out[name]["default_threshold"] = DEFAULT_THRESHOLD
            out[name]["wice_dev_at_default"] = round(100 * balanced_accuracy(ws, wl, DEFAULT_THRESHOLD), 2)
            out[name]["summedits_at_default"] = round(100 * balanced_accuracy(ss, sl, DEFAULT_THRESHOLD), 2)
            out[name]["macro_at_default"] = round((out[name]["wice_dev_at_default"] + out[name]["summedits_at_default"]) / 2, 2)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out
