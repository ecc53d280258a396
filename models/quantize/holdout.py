"""How the release's operating point does on dev rows it was not chosen on, and how sure the dev figures are.

The release picks the number penalty and the threshold (and, among candidates of several
hypothesis modes, the mode) on the dev documents and then reports them on those same rows,
which flatters the model: the goal is measured on held-out sets. ``held_out_halves`` makes the
choice on one random half of the dev groups (the release's own rule: best macro over tasks)
and measures it on the other half, both ways, over many halvings. The mean is an estimate of
what held-out sets of the same kinds would show; it still shares the training recipe's choices
with the dev data, so it is an upper bound rather than a promise. ``group_bootstrap`` says how
far the dev figures themselves would move with other dev groups of the same kinds. The
balanced accuracies are the release's (``release._by_source``: a task is the mean of its
datasets), computed with numpy over all GRID thresholds or resamples at once: the pure-Python
report takes ~2 s per candidate, 100 folds of it would take most of an hour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from haltguard.models.release import GOAL_KINDS, GRID, TASKS, preference

__all__ = ["held_out_halves", "group_bootstrap"]


def _pools(rows: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    """[pools, rows] membership of each (task, dataset prefix) pool, and each pool's task."""
    import numpy as np

    pools = [[k for k, r in enumerate(rows) if r["source"].startswith(prefixes)] for ds in TASKS.values() for prefixes in ds]
    member = np.zeros((len(pools), len(rows)), bool)
    for p, ii in enumerate(pools):
        member[p, ii] = True
    return member, [t for t, ds in TASKS.items() for _ in ds]


def _group_index(rows: list[dict[str, Any]]) -> tuple[int, Any]:
    """Number of dev groups and each row's group number (groups split and resample as units)."""
    import numpy as np

    groups = {g: i for i, g in enumerate(sorted({str(r.get("group")) for r in rows}))}
    return len(groups), np.array([groups[str(r.get("group"))] for r in rows])


def held_out_halves(rows: list[dict[str, Any]], candidates: Mapping[tuple[str, float], Sequence[float]],
                    halvings: int = 50, seed: int = 0) -> dict[str, Any]:
    """Mean balanced accuracy per task (and the goal's four kinds, and all tasks) on the half
    not used to choose among ``candidates`` ((mode, penalty) -> support per row) and the GRID threshold."""
    import numpy as np

    y = np.array([int(r["label"]) for r in rows])
    member, pool_task = _pools(rows)
    n_groups, gidx = _group_index(rows)
    keys = list(candidates)
    S = {k: np.asarray(candidates[k], float) for k in keys}
    grid = np.array(GRID)
    tasks = list(TASKS)

    def usable(rows_in: Any) -> list[tuple[int, Any, Any]]:
        """(task, positives, negatives) of each pool with both classes among ``rows_in`` (a bool mask)."""
        out = []
        for p in range(len(pool_task)):
            pos, neg = member[p] & rows_in & (y == 1), member[p] & rows_in & (y == 0)
            if pos.any() and neg.any():
                out.append((tasks.index(pool_task[p]), pos, neg))
        return out

    def by_task(s: Any, thresholds: Any, pools_in: list[tuple[int, Any, Any]]) -> Any:
        """[thresholds, tasks] balanced accuracy over ``usable`` pools; NaN for a task with none."""
        pred = s[None, :] >= thresholds[:, None]
        out = np.full((len(thresholds), len(tasks)), np.nan)
        acc: dict[int, list[Any]] = {}
        for t, pos, neg in pools_in:
            acc.setdefault(t, []).append(50 * (pred[:, pos].mean(1) + (~pred[:, neg]).mean(1)))
        for t, bs in acc.items():
            out[:, t] = np.mean(bs, axis=0)
        return out

    rng = np.random.default_rng(seed)
    measured = []
    for _ in range(halvings):
        half = rng.random(n_groups) < 0.5
        a = half[gidx]
        for choose, measure in ((a, ~a), (~a, a)):
            chosen_on = usable(choose)
            best = None
            for k in keys:
                macro = np.nanmean(by_task(S[k], grid, chosen_on), axis=1)
                j = int(np.argmax(macro - 1e-9 * np.abs(grid - 0.5)))
                rank = preference(round(float(macro[j]), 6), k)
                if best is None or rank > best[0]:
                    best = (rank, k, grid[j])
            assert best is not None
            measured.append(by_task(S[best[1]], np.array([best[2]]), usable(measure))[0])
    m = np.array(measured)
    per_task = {t: round(float(np.nanmean(m[:, i])), 2) for i, t in enumerate(tasks)}
    gi = [tasks.index(t) for t in GOAL_KINDS]
    return {"halvings": halvings, "folds": len(measured), "by_task": per_task,
            "goal_kinds": round(float(np.mean(np.nanmean(m[:, gi], axis=1))), 2),
            "macro_over_tasks": round(float(np.mean(np.nanmean(m, axis=1))), 2)}


def group_bootstrap(rows: list[dict[str, Any]], supports: Sequence[float], threshold: float,
                    resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, Any]:
    """Middle ``level`` of the balanced accuracies at one operating point over dev sets resampled by group.

    The dev documents are few where it matters (the 561 edited and unedited SummEdits dev
    summaries come from 19 source documents, WiCE's 123 rows from 41 groups), so a figure on
    them is a sample, not a constant: this says how far it would move with other documents and
    claims of the same kinds. Whole groups are drawn with replacement (rows of one group rise
    and fall together); a dataset missing a class in a resample sits that resample out, as in
    the report.
    """
    import warnings

    import numpy as np

    y = np.array([int(r["label"]) for r in rows])
    pred = np.asarray(supports, float) >= threshold
    member, pool_task = _pools(rows)
    n_groups, gidx = _group_index(rows)
    rng = np.random.default_rng(seed)
    w = np.stack([np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups) for _ in range(resamples)])[:, gidx]
    tasks = list(TASKS)
    per_pool: dict[str, list[Any]] = {t: [] for t in tasks}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a task with no usable pool in a resample: NaN
        for p, t in enumerate(pool_task):
            pos, neg = member[p] & (y == 1), member[p] & (y == 0)
            if pos.any() and neg.any():
                npos, nneg = w @ pos, w @ neg  # each resample's weight of the pool's two classes
                tpr = np.where(npos > 0, (w @ (pos & pred)) / npos, np.nan)
                tnr = np.where(nneg > 0, (w @ (neg & ~pred)) / nneg, np.nan)
                per_pool[t].append(50 * (tpr + tnr))
        by_task = {t: np.nanmean(np.stack(v), axis=0) for t, v in per_pool.items() if v}
    lo, hi = 50 * (1 - level), 50 * (1 + level)

    def interval(v: Any) -> list[float]:
        v = v[~np.isnan(v)]
        return [round(float(x), 2) for x in np.percentile(v, [lo, hi])] if v.size else []
    macro = np.mean(np.stack([by_task[t] for t in tasks if t in by_task]), axis=0)
    goal = [t for t in GOAL_KINDS if t in by_task]
    task_rows = {t: member[[p for p, pt in enumerate(pool_task) if pt == t]].any(0) for t in by_task}
    return {"resamples": resamples, "level": level, "groups": n_groups,
            "groups_by_task": {t: int(np.unique(gidx[m]).size) for t, m in task_rows.items()},
            "threshold": threshold,
            "by_task": {t: interval(v) for t, v in by_task.items()},
            "goal_kinds": interval(np.mean(np.stack([by_task[t] for t in goal]), axis=0)) if goal else [],
            "macro_over_tasks": interval(macro)}
