"""Held-out halves: the release's operating-point choice, measured on dev groups it did not see."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("numpy", reason="models extra not installed")

from haltguard.models.holdout import group_bootstrap, held_out_halves  # noqa: E402
from haltguard.models.release import GOAL_KINDS, TASKS, choose_operating_point  # noqa: E402

SOURCES = ["climate_fever", "wice", "begin", "qags", "summedits_news", "snli"]


def _rows(n_groups: int = 40, per_group: int = 4, seed: int = 0):
    rng = random.Random(seed)
    rows = []
    for src in SOURCES:
        for g in range(n_groups):
            for k in range(per_group):
                rows.append({"source": src, "group": f"{src}:{g}", "label": (g + k) % 2, "premise": "p",
                             "hypothesis": "h", "noise": rng.random()})
    return rows


def test_a_separating_candidate_is_chosen_and_holds_up_on_the_other_half():
    rows = _rows()
    perfect = [0.8 if r["label"] else 0.2 for r in rows]
    noise = [r["noise"] for r in rows]
    h = held_out_halves(rows, {("whole", 0.0): noise, ("whole", 1.0): perfect}, halvings=10)
    assert h["folds"] == 20 and set(h["by_task"]) == set(TASKS)
    assert all(v == 100.0 for v in h["by_task"].values())
    assert h["goal_kinds"] == 100.0 and h["macro_over_tasks"] == 100.0


def test_a_threshold_fitted_to_noise_scores_chance_on_rows_it_did_not_see():
    rows = _rows(n_groups=12)
    noise = [r["noise"] for r in rows]
    _, _, _, best = choose_operating_point(rows, {"whole": noise}, penalties=(0.0,))
    fitted = best["whole"]["macro_over_tasks"]
    h = held_out_halves(rows, {("whole", 0.0): noise}, halvings=20)
    assert fitted > 53  # in-sample, the best of 181 thresholds beats chance by luck
    assert abs(h["macro_over_tasks"] - 50) < 3 < fitted - h["macro_over_tasks"]


def test_goal_kinds_leave_out_summary_sentences():
    rows = _rows()
    # right on every source but QAGS, where it is always wrong: the goal's macro must not see QAGS
    s = [(0.2 if r["label"] else 0.8) if r["source"] == "qags" else (0.8 if r["label"] else 0.2) for r in rows]
    h = held_out_halves(rows, {("whole", 0.0): s}, halvings=5)
    assert "summary sentences" not in GOAL_KINDS
    assert h["by_task"]["summary sentences"] == 0.0 and h["goal_kinds"] == 100.0
    assert h["macro_over_tasks"] == 80.0


def _task_figures(rows, scores, threshold):
    from haltguard.models.release import _by_source

    return _by_source(rows, {"s": scores}, {"s": threshold})["by_task"]


def test_group_bootstrap_is_certain_about_a_perfect_scorer_and_counts_the_groups():
    rows = _rows(n_groups=10)
    perfect = [0.8 if r["label"] else 0.2 for r in rows]
    b = group_bootstrap(rows, perfect, 0.5, resamples=200)
    assert b["resamples"] == 200 and b["level"] == 0.95 and b["groups"] == 60 and b["threshold"] == 0.5
    assert set(b["by_task"]) == set(TASKS) and all(v == [100.0, 100.0] for v in b["by_task"].values())
    assert b["goal_kinds"] == b["macro_over_tasks"] == [100.0, 100.0]
    assert b["groups_by_task"] == {"claims vs evidence": 20, "answers vs knowledge": 10, "summary sentences": 10,
                                   "minimal-edit summaries": 10, "NLI pairs": 10}


def test_group_bootstrap_resamples_whole_groups():
    """Errors that come a group at a time (a document the model misreads) make a figure far less
    certain than as many errors spread over every group, at the same balanced accuracy."""
    rows = _rows(n_groups=40)
    by_group = [(0.8 if r["label"] else 0.2) if int(r["group"].split(":")[1]) % 2 else (0.2 if r["label"] else 0.8)
                for r in rows]
    k = [i % 4 for i in range(len(rows))]  # the row's place in its group (``_rows`` order)
    spread = [(0.8 if r["label"] else 0.2) if k[i] < 2 else (0.2 if r["label"] else 0.8) for i, r in enumerate(rows)]
    for s in (by_group, spread):
        assert all(v["s"] == 50.0 for v in _task_figures(rows, s, 0.5).values())
    wide, narrow = (group_bootstrap(rows, s, 0.5, resamples=400)["by_task"]["NLI pairs"] for s in (by_group, spread))
    assert narrow == [50.0, 50.0]  # every group half right in both classes: any redraw scores 50
    assert wide[0] < 40 and wide[1] > 60


def test_group_bootstrap_spans_the_dev_figure_and_is_seeded():
    rows = _rows(n_groups=30)
    noisy = [min(1.0, max(0.0, (0.65 if r["label"] else 0.35) + r["noise"] - 0.5)) for r in rows]
    a = group_bootstrap(rows, noisy, 0.5, resamples=300, seed=1)
    assert a == group_bootstrap(rows, noisy, 0.5, resamples=300, seed=1)
    assert a != group_bootstrap(rows, noisy, 0.5, resamples=300, seed=2)
    point = _task_figures(rows, noisy, 0.5)
    for t, (lo, hi) in a["by_task"].items():
        assert lo < point[t]["s"] < hi, t
    lo80, hi80 = group_bootstrap(rows, noisy, 0.5, resamples=300, seed=1, level=0.8)["goal_kinds"]
    assert a["goal_kinds"][0] < lo80 < hi80 < a["goal_kinds"][1]
