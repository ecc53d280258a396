"""`haltguard train`: train the default model, export it, measure it, write its model card.

One command from the PyPI encoder to the shipped folder (models/default): train (a fixed,
seeded number of steps) -> export (fp32 ONNX, weight-only int8, fp16) -> the operating point
(number penalty, threshold; the hypothesis is met whole) chosen on the dev documents -> fp32, int8 and the lexical
baseline on the dev documents (end to end) and the dev pairs -> manifest + README.md.
Only the int8 model, the tokenizer files and the manifest are committed; fp32/fp16 are
rebuilt by this command (see the model card for why).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from haltguard.kernel.windows import NUMBERS_COUNTED, apply_number_penalty, unsupported_number_counts
from haltguard.models.evaluate import evaluate_scores


def _latency_ms(model_dir: Path, variant: str, pairs: list[tuple[str, str]], threads: int = 1) -> float:
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(model_dir, variant, threads=threads)
    sc.score_pairs(pairs[:2], batch_size=1)
    t0 = time.perf_counter()
    for p in pairs:
        sc.score_pairs([p], batch_size=1)
    return (time.perf_counter() - t0) / len(pairs) * 1000


# The kinds of held-out set the model is meant for, each as dev datasets. A task's figure is
# the mean over its datasets; a dataset's rows are pooled across its sources (SummEdits'
# five domains are one benchmark: its 12-row sales-call domain must not weigh like news).
TASKS = {"claims vs evidence": (("climate_fever",), ("wice",)), "answers vs knowledge": (("begin",),),
         "summary sentences": (("qags",),), "minimal-edit summaries": (("summedits_",),), "NLI pairs": (("snli",),)}
# The four kinds the accuracy goal names for its held-out sets (its macro is over these; the
# summary-sentence task is ours, so it weighs in the threshold choice but not in this figure).
GOAL_KINDS = ("claims vs evidence", "answers vs knowledge", "minimal-edit summaries", "NLI pairs")


def _both_classes(rows: list[dict[str, Any]], ii: list[int]) -> bool:
    return 0 < sum(int(rows[i]["label"]) for i in ii) < len(ii)


def _bacc(rows: list[dict[str, Any]], ii: list[int], scores: list[float], threshold: float) -> float:
    ys = [int(rows[i]["label"]) for i in ii]
    return evaluate_scores([scores[i] for i in ii], ys, threshold)["balanced_accuracy"]


def _by_source(rows: list[dict[str, Any]], scores: dict[str, list[float]], thresholds: dict[str, float]) -> dict[str, Any]:
    """Balanced accuracy per source for each scorer (each at its own threshold), macro over sources and tasks."""
    by: dict[str, Any] = {}
    for src in sorted({r["source"] for r in rows}):
        ii = [i for i, r in enumerate(rows) if r["source"] == src]
        if _both_classes(rows, ii):
            by[src] = {k: _bacc(rows, ii, v, thresholds[k]) for k, v in scores.items()}
            by[src]["n"] = len(ii)
    macro = {k: round(sum(v[k] for v in by.values()) / len(by), 2) for k in scores}
    tasks = {}
    for task, datasets in TASKS.items():
        pools = [[i for i, r in enumerate(rows) if r["source"].startswith(prefixes)] for prefixes in datasets]
        pools = [ii for ii in pools if _both_classes(rows, ii)]
        if pools:
            tasks[task] = {k: round(sum(_bacc(rows, ii, v, thresholds[k]) for ii in pools) / len(pools), 2)
                           for k, v in scores.items()}
    macro_tasks = {k: round(sum(t[k] for t in tasks.values()) / len(tasks), 2) for k in scores}
    return {"by_source": by, "macro_over_sources": macro, "by_task": tasks, "macro_over_tasks": macro_tasks}


def goal_macro(by_task: dict[str, dict[str, float]]) -> dict[str, float] | None:
    """Macro over the goal's four held-out kinds, per scorer (from a report's ``by_task``); None
    when the report lacks one of them (a kind whose rows hold a single class is left out)."""
    if not all(t in by_task for t in GOAL_KINDS):
        return None
    return {k: round(sum(by_task[t][k] for t in GOAL_KINDS) / len(GOAL_KINDS), 2) for k in by_task[GOAL_KINDS[0]]}


GRID = [round(0.05 + 0.005 * i, 3) for i in range(181)]


def _macro_over_tasks(rows: list[dict[str, Any]], scores: list[float], threshold: float) -> float:
    return _by_source(rows, {"s": scores}, {"s": threshold})["macro_over_tasks"]["s"]


def _best_threshold_for_macro(rows: list[dict[str, Any]], scores: list[float]) -> tuple[float, float]:
    """(macro over tasks, threshold) at the best GRID threshold; ties go to the one nearest 0.5."""
    return max(((_macro_over_tasks(rows, scores, t), t) for t in GRID), key=lambda x: (x[0], -abs(x[1] - 0.5)))


# How the release meets a hypothesis: whole. It used to choose between "whole" and "sentences"
# on the dev documents, and that choice was measured as a loss: made on one half of the dev groups
# and measured on the other (``held_out_halves``; the v11 release and four other checkpoints),
# choosing between the two scored 0.45-0.70 below "whole" alone over the goal's four kinds and
# 2.0-2.9 below on minimal edits, and "sentences" alone was below "whole" on every checkpoint
# (it picked "sentences" for one of them on all the dev rows). Scorers still honour a manifest's
# "sentences" (``haltguard export --hypothesis sentences``), for models trained on single sentences.
RELEASE_MODES = ("whole",)

# number penalties (logits per unsupported number, ``kernel.windows.apply_number_penalty``) tried with each threshold
PENALTIES = (0.0, 0.5, 1.0, 1.5, 2.0)


def operating_candidates(rows: list[dict[str, Any]], scores_by_mode: dict[str, list[float]],
                         penalties: Sequence[float] = PENALTIES,
                         counts: Sequence[int] | None = None) -> dict[tuple[str, float], list[float]]:
    """Every (hypothesis mode, number penalty) the release chooses among -> the rows' supports
    (``counts``: the rows' ``unsupported_number_counts``, when the caller has them already)."""
    if counts is None:
        counts = unsupported_number_counts([(r["premise"], r["hypothesis"]) for r in rows])
    return {(mode, pen): apply_number_penalty(sc, counts, pen) for mode, sc in scores_by_mode.items() for pen in penalties}


def choose_operating_point(rows: list[dict[str, Any]], scores_by_mode: dict[str, list[float]],
                           penalties: Sequence[float] = PENALTIES) -> tuple[str, float, float, dict]:
    """Hypothesis mode, number penalty and threshold with the best macro balanced accuracy over tasks on the dev documents.

    The goal is a macro over held-out sets of different kinds, so the threshold is chosen for
    that macro on dev (pooled pairs would let the largest source pick it). All five tasks count,
    not only the goal's four kinds: choosing on the four alone, made on one half of the dev groups
    and measured on the other, scored the shipped model 74.96 over the four kinds (62.61 on
    minimal edits) against 75.50 (64.27). Ties go to "whole",
    to the smaller penalty and to the threshold nearest 0.5. Returns (mode, penalty, threshold,
    the best of each mode).
    """
    return _choose(_best_thresholds(rows, operating_candidates(rows, scores_by_mode, penalties)))


def _best_thresholds(rows: list[dict[str, Any]],
                     cands: dict[tuple[str, float], list[float]]) -> dict[tuple[str, float], tuple[float, float]]:
    """(macro over tasks, threshold) at each candidate's best GRID threshold."""
    return {k: _best_threshold_for_macro(rows, sc) for k, sc in cands.items()}


def preference(macro: float, key: tuple[str, float]) -> tuple[float, bool, float]:
    """The release's order among (mode, penalty) candidates: the best macro, then "whole", then the
    smaller penalty (``held_out_halves`` ranks its folds' candidates by the same rule)."""
    return macro, key[0] == "whole", -key[1]


def _choose(best: dict[tuple[str, float], tuple[float, float]]) -> tuple[str, float, float, dict]:
    mode, pen = max(best, key=lambda k: preference(best[k][0], k))
    per_mode = {m: max(((v, k[1]) for k, v in best.items() if k[0] == m), key=lambda x: (x[0][0], -x[1]))
                for m in dict.fromkeys(k[0] for k in best)}
    return mode, pen, best[mode, pen][1], {m: {"macro_over_tasks": v[0], "threshold": v[1], "number_penalty": p}
                                           for m, (v, p) in per_mode.items()}


def document_report(out: Path, memos: dict[str, ScoreMemo] | None = None) -> dict[str, Any]:
    """The dev documents scored end to end (what `haltguard eval nli` does with a held-out file).

    int8 scores the ``RELEASE_MODES``; the mode, number penalty and threshold are chosen on
    these rows (``choose_operating_point``); fp32 is then measured at that operating point, the
    lexical baseline at its own best threshold for the same macro. ``memos`` (per variant) let
    the release's other reports reuse these scores.
    """
    from haltguard.kernel.heuristic import overlap_support
    from haltguard.models.holdout import group_bootstrap, held_out_halves
    from haltguard.models.nli_data import dev_documents

    memos = memos or release_memos(out)
    rows = dev_documents()
    items = [(r["premise"], r["hypothesis"]) for r in rows]
    labels = [int(r["label"]) for r in rows]
    int8 = memos["int8"].score_modes(items, RELEASE_MODES)
    counts = unsupported_number_counts(items)
    cands = operating_candidates(rows, int8, counts=counts)
    best = _best_thresholds(rows, cands)
    mode, penalty, threshold, candidates = _choose(best)
    lex = [overlap_support(p, h) for p, h in items]
    _, lex_thr = _best_threshold_for_macro(rows, lex)
    scores = {"fp32": apply_number_penalty(memos["fp32"].score_modes(items, [mode])[mode], counts, penalty),
              "int8": cands[mode, penalty], "lexical": lex}
    report = _by_source(rows, scores, {"fp32": threshold, "int8": threshold, "lexical": lex_thr})
    # what the penalty bought, at its own best threshold without it (0 is one of the PENALTIES)
    no_pen = best[mode, 0.0]
    # the same choice made on half the dev groups and measured on the other half
    held_out = held_out_halves(rows, cands)
    return {"hypothesis": mode, "number_penalty": penalty, "threshold": threshold, "candidates": candidates,
            "without_number_penalty": {"macro_over_tasks": no_pen[0], "threshold": no_pen[1]}, "n": len(rows),
            "held_out_halves": held_out,
            # how far these int8 figures would move with other dev documents and claims of the same kinds
            "bootstrap": group_bootstrap(rows, cands[mode, penalty], threshold),
            "lexical_threshold": lex_thr,
            "overall": {v: evaluate_scores(scores[v], labels, threshold) for v in ("fp32", "int8")}, **report}


def distractor_report(memo: ScoreMemo, threshold: float, mode: str, number_penalty: float = 0.0) -> dict[str, Any]:
    """Share of supported (TPR) and unsupported (TNR) dev SNLI pairs judged right, as they are
    and behind unrelated sentences (``nli_data.distractor_probe``), at the release's operating point."""
    from haltguard.models.nli_data import distractor_probe

    rows = distractor_probe()
    scores = memo.score_modes([(r["premise"], r["hypothesis"]) for r in rows], [mode], number_penalty)[mode]
    out: dict[str, Any] = {"n_per_class": sum(1 for r in rows if r["label"] == 1 and not r["distracted"])}
    for key, distracted in (("plain", False), ("distracted", True)):
        ii = [i for i, r in enumerate(rows) if r["distracted"] == distracted]
        e = evaluate_scores([scores[i] for i in ii], [rows[i]["label"] for i in ii], threshold)
        c = e["confusion"]
        out[key] = {"tpr": round(c["tp"] / (c["tp"] + c["fn"]), 3), "tnr": round(c["tn"] / (c["tn"] + c["fp"]), 3),
                    "balanced_accuracy": e["balanced_accuracy"]}
    return out


class ScoreMemo:
    """One model variant's pair scores, shared by every report of a release.

    The dev documents (in both hypothesis modes), the dev pairs and the calibration pairs
    overlap heavily: SNLI, BEGIN and Climate-FEVER rows are the very same pairs in both dev
    sets, and a summary sentence meets the same premise windows in both. Scoring each distinct
    pair once took the release from 11.9 to 10.1 minutes on one checkpoint, minutes that training
    needs within the 45.
    A pair's score does not depend on what it is batched with (up to float rounding), so the
    reports are unchanged.
    """

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.probs: dict[tuple[str, str], float] = {}

    @property
    def scored(self) -> int:
        """Distinct pairs the model actually ran on."""
        return len(self.probs)

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        todo = [p for p in dict.fromkeys(pairs) if p not in self.probs]
        if todo:
            self.probs.update(zip(todo, self.scorer.score_pairs(todo, progress=True)))
        return [self.probs[p] for p in pairs]

    def score_modes(self, items: Sequence[tuple[str, str]], modes: Sequence[str],
                    number_penalty: float = 0.0) -> dict[str, list[float]]:
        """End-to-end scores of ``items`` in each hypothesis mode, through the kernel's one scoring path
        at ``number_penalty`` (pairs shared between modes run once)."""
        from haltguard.kernel.scoring import DocumentScorer, OperatingPoint

        point = getattr(self.scorer, "point", None) or OperatingPoint(max_length=self.scorer.max_length)
        # threshold 0: the release is choosing the threshold, so no support is capped as "below" one yet
        docs = DocumentScorer(self.scorer.count_tokens, point.replace(number_penalty=number_penalty, threshold=0.0))
        return {m: docs.score(items, self.score_pairs, m) for m in modes}


def release_memos(out: Path) -> dict[str, ScoreMemo]:
    from haltguard.models.scorer import OnnxNliScorer

    return {v: ScoreMemo(OnnxNliScorer(out, v)) for v in ("int8", "fp32")}


def _decision_agreement(memos: dict[str, ScoreMemo], threshold: float) -> float:
    """int8 vs fp32 supported/unsupported agreement on the export calibration pairs at ``threshold``."""
    from haltguard.models.export import calibration_pairs

    pairs = calibration_pairs()
    a, b = (memos[v].score_pairs(pairs) for v in ("int8", "fp32"))
    return sum((x >= threshold) == (y >= threshold) for x, y in zip(a, b)) / len(pairs)


def train_and_release(out: str | Path, work: str | Path, *, minutes: float = 36.0, seed: int = 13,
                      keep_fp32: bool = False, skip_train: bool = False, **overrides: Any) -> dict[str, Any]:
    """Train (``overrides``: training options, for experiments), export, report; write ``out``."""
    from haltguard.kernel.heuristic import overlap_support
    from haltguard.models.evaluate import best_threshold, eval_unseen
    from haltguard.models.export import export_model
    from haltguard.models.train import train

    out, work = Path(out), Path(work)
    tm = json.loads((work / "train_manifest.json").read_text()) if skip_train else train(work, minutes=minutes, seed=seed, **overrides)
    dev = [json.loads(line) for line in (work / "dev_pairs.jsonl").read_text().splitlines() if line.strip()]
    m = export_model(work / "checkpoint", out, int8=True, fp16=True, max_length=int(tm["hyperparameters"]["max_length"]),
                     threshold=tm["threshold"], keep_fp32=True,
                     extra={"base_model": tm["base_model"], "training": {k: tm[k] for k in (
                         "hyperparameters", "data_files_sha256", "train_pairs", "dev_pairs", "steps", "history",
                         "train_minutes", "torch")}})
    # the operating point (hypothesis mode, number penalty, threshold) comes from the dev documents; every report uses it
    memos = release_memos(out)
    docs = document_report(out, memos)
    m["hypothesis"], m["number_penalty"], m["threshold"] = docs["hypothesis"], docs["number_penalty"], docs["threshold"]
    m["validation"]["int8_vs_fp32_decision_agreement"] = _decision_agreement(memos, m["threshold"])
    # dev pairs (the training granularity): fp32 and int8, lexical baseline beside them
    labels = [int(r["label"]) for r in dev]
    items = [(r["premise"], r["hypothesis"]) for r in dev]
    scores = {v: memos[v].score_modes(items, ["whole"], m["number_penalty"])["whole"] for v in ("fp32", "int8")}
    scores["lexical"] = [overlap_support(p, h) for p, h in items]
    lex_thr, _ = best_threshold(scores["lexical"], labels, prefer=0.5)
    pairs_report = _by_source(dev, scores, {"fp32": m["threshold"], "int8": m["threshold"], "lexical": lex_thr})
    m["dev_report"] = {
        "threshold": m["threshold"],
        "threshold_from_dev_pairs": tm["threshold"],
        "pairs": {"overall": {v: evaluate_scores(scores[v], labels, m["threshold"]) for v in ("fp32", "int8")},
                  "lexical_baseline": {"threshold_from_dev": lex_thr, **evaluate_scores(scores["lexical"], labels, lex_thr)},
                  **pairs_report},
        "documents": docs,
        "int8_fp32_decision_agreement": round(sum((a >= m["threshold"]) == (b >= m["threshold"])
                                                  for a, b in zip(scores["int8"], scores["fp32"])) / len(labels), 4),
        "distractors": distractor_report(memos["int8"], m["threshold"], m["hypothesis"], m["number_penalty"]),
        "cpu_ms_per_pair_1_thread": {v: round(_latency_ms(out, v, items[:40]), 2) for v in ("int8", "fp32")},
    }
    # the model-selection figure: sources no model of ours trains on, the references beside it
    m["unseen"] = eval_unseen(out, "onnx-int8")
    if not keep_fp32:
        for v in ("fp32", "fp16"):
            f = out / m["onnx"].pop(v)
            m["files"].pop(f.name, None)
            f.unlink()
        m["reproduce_full_precision"] = "haltguard train --out models/default --keep-fp32"
    (out / "manifest.json").write_text(json.dumps(m, indent=2))
    (out / "README.md").write_text(model_card(m))
    return {**m, "dev": tm["dev"], "train_minutes": tm["train_minutes"]}


def _table(rep: dict[str, Any]) -> str:
    rows = [f"| {s} | {v['n']} | {v['fp32']} | {v['int8']} | {v['lexical']} |" for s, v in rep["by_source"].items()]
    rows.append(f"| **macro over sources** | | **{rep['macro_over_sources']['fp32']}** | **{rep['macro_over_sources']['int8']}** "
                f"| **{rep['macro_over_sources']['lexical']}** |")
    rows += [f"| task: {t} | | {v['fp32']} | {v['int8']} | {v['lexical']} |" for t, v in rep["by_task"].items()]
    rows.append(f"| **macro over tasks** | | **{rep['macro_over_tasks']['fp32']}** | **{rep['macro_over_tasks']['int8']}** "
                f"| **{rep['macro_over_tasks']['lexical']}** |")
    if g := goal_macro(rep["by_task"]):
        rows.append(f"| macro over the goal's four kinds (all but summary sentences) | | {g['fp32']} | {g['int8']} | {g['lexical']} |")
    return "| dev source | n | fp32 | int8 | lexical overlap baseline |\n|---|---|---|---|---|\n" + "\n".join(rows)


def _balance(hp: dict[str, Any]) -> str:
    if not hp.get("balance_classes"):
        return ""
    return ("; the loss weighs each dataset's supported and unsupported pairs alike (SummEdits and the "
            "synthetic edits as one dataset each), so no dataset teaches the model its own prior")


def _frozen(hp: dict[str, Any]) -> str:
    k = int(hp.get("freeze_layers") or 0)
    if k:
        once = " (their output computed once per pair and kept, so each step runs only the layers above)" if hp.get("cache_frozen") else ""
        return f"embeddings and the lowest {k} encoder layers frozen{once}"
    return "word embeddings frozen" if hp.get("freeze_word_embeddings", True) else "nothing frozen"


def _cut(t: dict[str, Any]) -> str:
    """Say so when the safety stop, not the step count, ended the run: its model is not the recipe's."""
    done, planned = t["steps"]["done"], t["steps"]["planned"]
    return "" if done >= planned else f", which cut this run short: {planned - done} steps were never run"


def _kept(t: dict[str, Any]) -> str:
    """Which weights of the run ship: the mean over its last steps, or its best dev checkpoint."""
    n = int(t["steps"].get("averaged") or 0)
    if n:
        return (f"the weights averaged over its last {n} steps ship (`tail_average`; the "
                f"{len(t['history']) - 1} dev checkpoints only record the run's progress)")
    return f"the best of {len(t['history'])} dev checkpoints kept (step {t['steps']['best']})"


def _penalty_text(m: dict[str, Any]) -> str:
    pen = m.get("number_penalty", 0.0)
    if not pen:
        return ""
    wo = m["dev_report"]["documents"].get("without_number_penalty", {})
    return (f"""A hypothesis that states a number its premise never states (digits or number words, "1,000" =
"1000") loses {pen} logits of support per such number, at most {NUMBERS_COUNTED}
(`"number_penalty": {pen}`; without it the best macro over tasks is {wo.get('macro_over_tasks')} at {wo.get('threshold')}).
""")


def _choice_text(dr: dict[str, Any]) -> str:
    """What the dev documents chose; older manifests chose the hypothesis mode too."""
    cands = dr["candidates"]
    what = ("The number penalty and the threshold were" if "number_penalty" in dr else "The threshold was")
    if len(cands) > 1:
        what = "All three were" if "number_penalty" in dr else "Both were"
    per = ", ".join(f"{k} {v['macro_over_tasks']} at {v['threshold']}" for k, v in cands.items())
    return (f"{what} chosen together on the dev documents for the best macro balanced accuracy over\n"
            f"tasks (int8; {'per mode: ' if len(cands) > 1 else ''}{per}), never on anything else.")


def _held_out_text(dr: dict[str, Any]) -> str:
    h = dr.get("held_out_halves")
    if not h:
        return ""
    t = h["by_task"]
    return (f"""
The same choice of operating point made on one random half of the dev groups and measured on
the other half, both ways, over {h['halvings']} halvings: int8 {h['goal_kinds']} over the goal's
four kinds, {t.get('minimal-edit summaries')} on minimal-edit summaries, {t.get('claims vs evidence')} on claims vs evidence,
{h['macro_over_tasks']} over all five tasks. Rows that chose the operating point do not measure it, so expect
held-out sets of these kinds to land nearer these figures than the table's.
{_bootstrap_text(dr)}""")


def _bootstrap_text(dr: dict[str, Any]) -> str:
    b = dr.get("bootstrap")
    if not b:
        return ""
    t = b["by_task"]

    def span(v: list[float]) -> str:
        return f"{v[0]}–{v[1]}" if v else "n/a"
    return (f"""
Both kinds of figure rest on few documents: the {dr['n']} dev rows come from {b['groups']} groups (a document
with its summaries, a claim with its evidence), the minimal-edit summaries from {b['groups_by_task'].get('minimal-edit summaries', 0)} of them. Redrawn
{b['resamples']} times with replacement, group by group, at the release's operating point, the middle
{100 * b['level']:.0f} % of the int8 figures spans {span(b['goal_kinds'])} over the four kinds, {span(t.get('minimal-edit summaries', []))} on
minimal-edit summaries and {span(t.get('claims vs evidence', []))} on claims vs evidence: a difference well inside these spans
is not evidence either way.
""")


_UNSEEN_NAMES = {"fm2": "FM2 claims vs gold evidence", "fm2_multi": "FM2 claims among 3 pages (~2 KB)",
                 "faithdial": "FaithDial responses vs knowledge", "faithdial_multi": "FaithDial among 4 snippets (~2 KB)"}


def _unseen_text(m: dict[str, Any]) -> str:
    """The sources no model of ours trains on (`haltguard eval nli --unseen`): what selects a model."""
    u = m.get("unseen")
    if not u:
        return ""
    rows = "\n".join(f"| {_UNSEEN_NAMES.get(k, k)} | {v['n']} | {v['onnx-int8']} | {v['word_overlap']} | {v['heuristic']} |"
                     for k, v in u["sources"].items())
    mac = u["macro"]
    return f"""
### Sources no model of ours trains on (the model-selection figure)
Dev figures from the training sources flatter a model (the held-out sets that measure this
project's models have scored them well below their dev documents), so models are compared on
sources that never reach training:
Fool Me Twice (adversarial claims) and FaithDial (dialogue responses, those also in BEGIN
dropped), each alone and among unrelated documents (`haltguard eval nli --unseen`). The model
at its threshold; word overlap at the threshold WiCE dev chooses ({u['overlap_threshold']}); our heuristic at its own.

| source | rows | int8 | word overlap | heuristic |
|---|---|---|---|---|
{rows}
| **macro** | | **{mac['onnx-int8']}** | {mac['word_overlap']} | {mac['heuristic']} |
"""


def _meets_goal(four_kinds: float | None, minimal: float | None) -> bool:
    """The issue's accuracy goal: macro >= 75 over the four held-out kinds and >= 65 on minimal edits."""
    return four_kinds is not None and four_kinds >= 75 and minimal is not None and minimal >= 65


def model_card(m: dict[str, Any]) -> str:
    r = m["dev_report"]
    pr, dr = r["pairs"], r["documents"]
    files = "\n".join(f"| `{n}` | {i['bytes'] / 1e6:.1f} MB | `{i['sha256'][:16]}…` |" for n, i in m["files"].items())
    t = m["training"]
    hp = t["hyperparameters"]
    mode_text = ("each sentence of a multi-sentence hypothesis is scored on its own and the weakest one counts"
                 if m.get("hypothesis") == "sentences" else "a hypothesis is scored whole")
    minimal = dr["by_task"].get("minimal-edit summaries", {}).get("int8")
    goal = (goal_macro(dr["by_task"]) or {}).get("int8")
    met = _meets_goal(goal, minimal)
    reach = (f"{goal} macro over those four kinds ({dr['macro_over_tasks']['int8']} over all five tasks)" if goal is not None
             else f"{dr['macro_over_tasks']['int8']} macro over tasks")
    h = dr.get("held_out_halves")
    held_minimal = h["by_task"].get("minimal-edit summaries") if h else None
    held_met = h is not None and _meets_goal(h["goal_kinds"], held_minimal)
    held = (f" Chosen on half of these rows and measured on the other half: {h['goal_kinds']} over the four kinds and "
            f"{held_minimal} on minimal edits{'' if held_met or not met else ': the goal is not met'}." if h else "")
    src = dr["by_source"]
    weakest = ", ".join(f"{k} ({v['int8']})" for k, v in sorted(src.items(), key=lambda kv: kv[1]["int8"])[:3])
    drift = max(((k, v["int8"], v["fp32"]) for k, v in src.items()), key=lambda x: abs(x[1] - x[2]))
    dx = r.get("distractors")
    distract = (f"""How unrelated sentences in a premise (as in a retrieved window) move the verdict: of
{dx['n_per_class']} supported dev SNLI pairs {100 * dx['plain']['tpr']:.0f} % are judged supported as they are and
{100 * dx['distracted']['tpr']:.0f} % behind two unrelated news sentences (unsupported ones: {100 * dx['plain']['tnr']:.0f} % and
{100 * dx['distracted']['tnr']:.0f} % judged unsupported).
""" if dx else "")
    passes = t["steps"]["done"] * hp["batch_size"] / max(1, sum(v["n"] for v in t["train_pairs"].values()))
    return f"""# haltguard default NLI model

P(supported | premise, hypothesis): output index {m['supported_index']} of a 2-way head, the
coherence score the halt kernel consumes. Premises longer than {m['max_length']} tokens are cut
into overlapping sentence windows and the best window counts; {mode_text}
(`"hypothesis": "{m.get('hypothesis', 'whole')}"` in the manifest). {_penalty_text(m)}Decision threshold **{m['threshold']}**.
{_choice_text(dr)}

## Base encoder
MiniLM-L6 (H384, 6 layers, uncased WordPiece) from the PyPI package `{m['base_model']['package']}`,
`model.safetensors` sha256 `{m['base_model']['sha256']}` (checked before training).

## Data and training
Pairs from ../shared/data/nli: SNLI dev, Climate-FEVER, WiCE dev, BEGIN, QAGS (per summary
sentence) and SummEdits at sentence level (an edited summary that differs from its original in
exactly one sentence marks that sentence unsupported and the others supported). Long premises
are cut to the same windows the scorer uses at inference and the one that overlaps the
hypothesis most is kept. Synthetic pairs from the same documents are contrastive: every
picked sentence gives a supported pair (itself or a dropped clause) and an unsupported edit of
it against the same window (another name from the same document, a changed number or date, a
negation added or removed, an antonym, an inserted phrase, rarely a sentence from another
document). The dev split holds out whole claims/documents, synthetic edits included
({sum(v['n'] for v in t['dev_pairs'].values())} pairs); train has {sum(v['n'] for v in t['train_pairs'].values())} pairs.
File hashes are in `manifest.json`.

Fine-tuned with AdamW (lr {hp['lr']}, batch {hp['batch_size']}, max length {hp['max_length']},
warm-up {hp['warmup']}, {_frozen(hp)}{_balance(hp)}), seed {hp['seed']}, {t['steps']['done']} of {t['steps']['planned']}
planned steps (a fixed count, sized for this 2-core CPU; a time budget only as a safety stop{_cut(t)}) in
{t['train_minutes']} minutes; {_kept(t)}.
Reproduce everything with `haltguard train` (training, export and these reports fit in 45 minutes here).

## Dev results (balanced accuracy, %, threshold {m['threshold']})

### Dev documents, scored end to end (what `haltguard eval nli` does with a held-out file)
Whole premises and whole summaries of the dev groups ({dr['n']} rows). The threshold was chosen
on these rows, so they flatter the model a little; the lexical baseline gets the same favour
(its own best threshold here, {dr['lexical_threshold']}).

{_table(dr)}
{_held_out_text(dr)}{_unseen_text(m)}
### Dev pairs (training granularity: windows, single summary sentences, synthetic edits)

{_table(pr)}

Overall dev pairs: fp32 {pr['overall']['fp32']['balanced_accuracy']} (AUC {pr['overall']['fp32']['auc']}),
int8 {pr['overall']['int8']['balanced_accuracy']} (AUC {pr['overall']['int8']['auc']}); the lexical
baseline {pr['lexical_baseline']['balanced_accuracy']}.
int8 and fp32 make the same supported/unsupported decision on {100 * r['int8_fp32_decision_agreement']:.2f} %
of dev pairs; on the calibration set the largest |Δprob| is {m['validation']['int8_vs_fp32_max_abs_prob']:.4f}
and fp32 ONNX matches PyTorch to {m['validation']['fp32_vs_torch_max_abs_logit']:.2e} in logits.

## Size and speed
| file | size | sha256 |
|---|---|---|
{files}

CPU latency per pair (1 thread, onnxruntime, short dev pairs): int8 {r['cpu_ms_per_pair_1_thread']['int8']} ms,
fp32 {r['cpu_ms_per_pair_1_thread']['fp32']} ms. See `haltguard bench nli` for 128/256/512 tokens.

## Limitations (read before relying on it)
The project's goal for this model is macro balanced accuracy ≥ 75 on held-out claim/answer/
minimal-edit summary/NLI sets, with ≥ 65 on minimal-edit summaries. On the dev documents above
the int8 model reaches {reach}
and {minimal} on minimal-edit summaries (SummEdits){' at a threshold chosen on these very rows' if met else ': the goal is not met'}.{held}
Its weakest dev sources are {weakest}; small NLI models miss facts changed inside otherwise
copied words. {distract}int8 and fp32 differ most on {drift[0]} ({drift[1]} vs {drift[2]}): rows that score
close to the threshold flip either way with the small probability differences of 8-bit weights,
so compare the two columns before relying on a single figure. Training makes
{passes:.2f} pass(es) over the training pairs on a 2-core CPU; more passes have not helped so far
(two whole epochs in bfloat16 scored 1.9 points lower over the four kinds, held out; see
`train.DEFAULTS`). Prefer hold-back mode in the host and the browser when a wrong sentence must
never reach the user.

## What is committed and why
Only `model_int8.onnx`, the tokenizer files and `manifest.json` (with this card): the browser
bundle and the CPU host use int8, and the repository stays lean. The fp32 and fp16 ONNX
models for GPU hosts are rebuilt by `{m.get('reproduce_full_precision', 'haltguard train')}`.
On the same kind of CPU that command gives these very bytes; on another one the float rounding of
training differs (an AVX-512 Xeon retraining of an AVX2 EPYC's model followed the same loss curve
to four decimals, and the same dev figures, but not the same bytes), so rebuild fp32/fp16 and int8
together and use them as one release.
"""
