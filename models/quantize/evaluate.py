"""`haltguard eval nli`: balanced accuracy of a scorer on {"premise", "hypothesis", "label"} rows.

The threshold always comes from the model's manifest (or the heuristic's constant); it is
never tuned on the evaluated file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["evaluate_scores", "balanced_accuracy", "best_threshold", "load_rows", "eval_nli", "eval_unseen", "eval_chat", "auc", "BACKENDS"]

BACKENDS = ("onnx-int8", "onnx-fp32", "onnx-fp16", "torch", "heuristic")


def balanced_accuracy(scores: Sequence[float], labels: Sequence[int], threshold: float) -> float:
    """Mean of the true-positive and true-negative rates, as a fraction (nan without both classes)."""
    tp = sum(1 for s, y in zip(scores, labels) if y == 1 and s >= threshold)
    tn = sum(1 for s, y in zip(scores, labels) if y == 0 and s < threshold)
    pos = sum(labels)
    neg = len(labels) - pos
    return 0.5 * (tp / pos + tn / neg) if pos and neg else float("nan")


def best_threshold(scores: Sequence[float], labels: Sequence[int], *, decimals: int = 3,
                   prefer: float | None = None) -> tuple[float, float]:
    """The threshold (scores rounded to ``decimals``) with the best balanced accuracy, and that accuracy.

    Ties go to the threshold closest to ``prefer`` (which is also a candidate) or, without
    one, to the lowest threshold.
    """
    cands = {round(s, decimals) for s in scores}
    if prefer is not None:
        cands.add(prefer)
    tie = (lambda t: -abs(t - prefer)) if prefer is not None else (lambda t: -t)
    best = max(sorted(cands), key=lambda t: (balanced_accuracy(scores, labels, t), tie(t)))
    return best, balanced_accuracy(scores, labels, best)


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tie handling)."""
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_pos = sum(r for r, y in zip(ranks, labels) if y == 1)
    return (rank_pos - pos * (pos + 1) / 2) / (pos * neg)


def evaluate_scores(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, Any]:
    tp = sum(1 for s, y in zip(scores, labels) if y == 1 and s >= threshold)
    fn = sum(1 for s, y in zip(scores, labels) if y == 1 and s < threshold)
    tn = sum(1 for s, y in zip(scores, labels) if y == 0 and s < threshold)
    fp = sum(1 for s, y in zip(scores, labels) if y == 0 and s >= threshold)
    tpr = tp / (tp + fn) if tp + fn else None
    tnr = tn / (tn + fp) if tn + fp else None
    bacc = (tpr + tnr) / 2 if tpr is not None and tnr is not None else None
    a = auc(scores, labels)
    return {
        "n": len(labels),
        "balanced_accuracy": round(100 * bacc, 2) if bacc is not None else None,
        "accuracy": round(100 * (tp + tn) / len(labels), 2) if labels else None,
        "threshold": threshold,
        "auc": round(a, 4) if a is not None else None,
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{i}: invalid JSON ({exc.msg})") from None
            if not isinstance(r, dict) or not isinstance(r.get("premise"), str) or not isinstance(r.get("hypothesis"), str):
                raise ValueError(f"{path}:{i}: need string fields premise and hypothesis")
            if r.get("label") not in (0, 1, "0", "1", True, False):
                raise ValueError(f"{path}:{i}: label must be 1 (supported) or 0")
            rows.append({"premise": r["premise"], "hypothesis": r["hypothesis"], "label": int(r["label"])})
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


# what transformers' from_pretrained loads weights from, whole or sharded
TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


def make_scorer(model: str | Path | None, backend: str) -> Any:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
    if backend == "heuristic":
        from haltguard.kernel.scoring import heuristic_document_scorer, heuristic_pair_scores

        class _H:
            documents = heuristic_document_scorer()
            threshold = documents.point.threshold

            def score_many(self, items: Any, batch_size: int = 32, progress: bool = False) -> list[float]:
                return self.documents.score(list(items), heuristic_pair_scores)

        return _H()
    from haltguard.kernel.resources import model_dir

    d = model_dir(model)
    if backend.startswith("onnx-"):
        from haltguard.models.scorer import OnnxNliScorer

        return OnnxNliScorer(d, backend.split("-", 1)[1])
    from haltguard.models.scorer import TorchNliScorer, operating_point

    ckpt = d / "checkpoint" if (d / "checkpoint" / "config.json").exists() else d
    if not any((ckpt / f).exists() for f in TORCH_WEIGHTS):
        # the committed default model is ONNX only: say where full-precision weights come from
        raise FileNotFoundError(f"{ckpt} has no PyTorch weights ({' or '.join(TORCH_WEIGHTS[:2])}): for full precision "
                                "rebuild with `haltguard train --out DIR --keep-fp32` and use --backend onnx-fp32, or copy "
                                "its training checkpoint (build/default-train/checkpoint) to DIR/checkpoint, where torch "
                                "scores at DIR's operating point")
    return TorchNliScorer(ckpt, point=operating_point(d))


def eval_nli(data: str | Path, model: str | Path | None = None, backend: str = "onnx-int8",
             progress: bool = False) -> dict[str, Any]:
    rows = load_rows(data)
    scorer = make_scorer(model, backend)
    t0 = time.perf_counter()
    scores = scorer.score_many([(r["premise"], r["hypothesis"]) for r in rows], progress=progress)
    secs = time.perf_counter() - t0
    out = evaluate_scores(scores, [r["label"] for r in rows], float(scorer.threshold))
    out["number_penalty"] = float(getattr(scorer, "number_penalty", 0.0))
    out.update({"backend": backend, "seconds": round(secs, 2), "pairs_per_s": round(len(rows) / secs, 2) if secs else None})
    return out


def overlap_threshold() -> float:
    """Word overlap's threshold, chosen on WiCE dev claims (the issue's reference rule)."""
    from haltguard.kernel.heuristic import overlap_support
    from haltguard.models.datasets import load_wice_dev

    rows = load_wice_dev()
    return best_threshold([overlap_support(r["premise"], r["hypothesis"]) for r in rows], [int(r["label"]) for r in rows])[0]


def _trained_fm2_share(model: str | Path | None) -> float:
    """The share of FM2 pages the model's training used (its manifest says; 0 for older models)."""
    from haltguard.kernel.resources import model_dir
    from haltguard.kernel.scoring import read_manifest

    hp = read_manifest(model_dir(model)).get("training", {}).get("hyperparameters", {})
    return float(hp.get("fm2_pages", 0.0))


def _with_heuristic(model: str | Path | None, backend: str) -> dict[str, Any]:
    """The judge under test and, beside it, the model-free heuristic (the reference every report shows)."""
    judges: dict[str, Any] = {backend: make_scorer(model, backend)}
    if backend != "heuristic":
        judges["heuristic"] = make_scorer(None, "heuristic")
    return judges


def eval_unseen(model: str | Path | None = None, backend: str = "onnx-int8", sources: Sequence[str] | None = None,
                limit: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Balanced accuracy per unseen source (``haltguard.models.unseen``) beside the two references.

    The model scores at its manifest's threshold; word overlap at its WiCE-chosen threshold;
    the heuristic at its own constant. FM2 claims of pages the model trained on (its manifest's
    ``fm2_pages``) are left out. ``limit`` keeps the first rows of each class of each source (a quick look).
    """
    from haltguard.kernel.heuristic import overlap_support
    from haltguard.models.unseen import SOURCES, unseen_rows

    wanted = tuple(sources or SOURCES)
    unknown = sorted(set(wanted) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown unseen source(s) {', '.join(unknown)}: choose from {', '.join(SOURCES)}")
    by_source: dict[str, list[dict[str, Any]]] = {s: [] for s in wanted}
    taken: dict[tuple[str, int], int] = {}
    fm2_pages = _trained_fm2_share(model) if backend != "heuristic" else 0.0
    for r in unseen_rows(fm2_pages=fm2_pages):
        key = (r["source"], r["label"])
        if r["source"] in by_source and (limit is None or taken.get(key, 0) < limit):
            taken[key] = taken.get(key, 0) + 1
            by_source[r["source"]].append(r)
    judges = _with_heuristic(model, backend)
    t_overlap = overlap_threshold()
    out: dict[str, Any] = {"backend": backend, "overlap_threshold": t_overlap, "fm2_pages_trained": fm2_pages, "sources": {}}
    for name, rows in by_source.items():
        items = [(r["premise"], r["hypothesis"]) for r in rows]
        labels = [r["label"] for r in rows]
        res = {"n": len(rows), "supported": sum(labels)}
        for judge_name, judge in judges.items():
            scores = judge.score_many(items, progress=progress)
            res[judge_name] = evaluate_scores(scores, labels, float(judge.threshold))["balanced_accuracy"]
        res["word_overlap"] = evaluate_scores([overlap_support(p, h) for p, h in items], labels, t_overlap)["balanced_accuracy"]
        out["sources"][name] = res
    cols = [*judges, "word_overlap"]
    out["macro"] = {c: round(sum(v[c] for v in out["sources"].values()) / len(out["sources"]), 2) for c in cols}
    return out


def eval_chat(model: str | Path | None = None, backend: str = "onnx-int8") -> dict[str, Any]:
    """The chat-answer probe (``haltguard.models.chat_probe``) through review's claim path.

    Each sentence is judged alone against its paragraph, as review and the stream judge it
    (chit-chat rules first, then the model at its manifest's threshold); the heuristic beside.
    Counts flagged (unsupported or contradicted) per kind, and whether the issue's chat goal holds.
    """
    from haltguard.kernel.scoring import heuristic_pair_scores
    from haltguard.models.chat_probe import meets_goal, probe_rows

    rows = probe_rows()
    judges = _with_heuristic(model, backend)
    out: dict[str, Any] = {"backend": backend}
    for name, judge in judges.items():
        pairs = heuristic_pair_scores if name == "heuristic" else (lambda ps, j=judge: j.score_pairs(list(ps)))
        res: dict[str, Any] = {k: {"n": 0, "flagged": 0, "examples": []} for k in ("supported", "wrong", "chitchat")}
        for r in rows:
            (claim,) = judge.documents.judge_claims([r["context"]], [r["sentence"]], pairs)
            k = res[r["kind"]]
            k["n"] += 1
            flagged = claim["verdict"] in ("unsupported", "contradicted")
            k["flagged"] += flagged
            # what went wrong: the supported and chit-chat sentences flagged, the wrong ones passed
            if flagged != (r["kind"] == "wrong"):
                k["examples"].append({"sentence": r["sentence"], "verdict": claim["verdict"],
                                      "support": None if claim["support"] is None else round(claim["support"], 3)})
        res["threshold"] = float(judge.threshold)
        res["meets_goal"] = meets_goal(res)
        out[name] = res
    return out
