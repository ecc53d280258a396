"""Held-out halves: the release's operating-point choice, measured on dev groups it did not see."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("numpy", reason="models extra not installed")

from haltguard.models.holdout import held_out_halves  # noqa: E402
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
