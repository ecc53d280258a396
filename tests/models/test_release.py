"""The release step of `haltguard train` (export, operating point, reports, model card) on a tiny model."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="models extra not installed")

from test_export import _tiny_bert  # noqa: E402  (tests/models is on sys.path under pytest)

from haltguard.models.nli_data import distractor_probe  # noqa: E402
from haltguard.models.release import (  # noqa: E402
    PENALTIES,
    TASKS,
    ScoreMemo,
    choose_operating_point,
    distractor_report,
    goal_macro,
    model_card,
    train_and_release,
)


def _rows(spec):
    return [{"source": src, "label": y, "premise": "p", "hypothesis": "h"} for src, y in spec]


def test_operating_point_maximises_the_macro_over_tasks():
    # snli is big and separates at 0.8; the small claim source only at 0.3: a pooled threshold
    # would follow snli, the macro over tasks must not
    spec = [("snli", 1)] * 50 + [("snli", 0)] * 50 + [("wice", 1)] * 5 + [("wice", 0)] * 5
    rows = _rows(spec)
    snli = [0.9] * 50 + [0.7] * 50
    wice = [0.35] * 5 + [0.25] * 5
    mode, pen, thr, cands = choose_operating_point(rows, {"whole": snli + wice, "sentences": snli + [0.5] * 10})
    assert mode == "whole" and cands["whole"]["macro_over_tasks"] == 75.0
    assert 0.7 < thr <= 0.9 or 0.25 < thr <= 0.35
    assert pen == 0.0  # no row states a number: every penalty ties, the smallest wins
    # a mode that separates both sources wins over one that separates only the larger
    both = [0.9] * 50 + [0.2] * 50 + [0.35] * 5 + [0.25] * 5
    mode, pen, thr, cands = choose_operating_point(rows, {"whole": snli + wice, "sentences": both})
    assert mode == "sentences" and 0.25 < thr <= 0.35 and cands["sentences"]["macro_over_tasks"] == 100.0
    assert set(TASKS) >= {"claims vs evidence", "minimal-edit summaries"}


def test_operating_point_takes_a_number_penalty_where_it_separates():
    # the model scores every edited summary like its original; only the edited figure differs
    rows = [{"source": "summedits_news", "label": y, "premise": "Sales rose 5 % to 120 units in May.",
             "hypothesis": f"Sales rose {n} % in May."} for y, n in [(1, 5)] * 10 + [(0, 7)] * 10]
    rows += [{"source": "snli", "label": y, "premise": "A dog runs.", "hypothesis": "A dog runs."} for y in (1, 0) * 10]
    scores = [0.6] * 20 + [0.9, 0.1] * 10
    mode, pen, thr, cands = choose_operating_point(rows, {"whole": scores})
    assert pen == 0.5 and cands["whole"] == {"macro_over_tasks": 100.0, "threshold": thr, "number_penalty": 0.5}
    assert 0.48 < thr <= 0.6  # 0.6 lowered by 0.5 logits is 0.475
    assert choose_operating_point(rows, {"whole": scores}, penalties=(0.0,))[3]["whole"]["macro_over_tasks"] == 75.0


def test_release_of_a_tiny_checkpoint(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    (work / "checkpoint").mkdir(parents=True)
    _tiny_bert(work / "checkpoint")
    dev = [{"premise": "The cat sat on the mat.", "hypothesis": "A cat is on the mat.", "label": 1, "source": "snli"},
           {"premise": "The cat sat on the mat.", "hypothesis": "The dog is tall.", "label": 0, "source": "snli"},
           {"premise": "The tower is in Paris.", "hypothesis": "The tower is in Paris.", "label": 1, "source": "wice"},
           {"premise": "The tower is in Paris.", "hypothesis": "The river is tall.", "label": 0, "source": "wice"}]
    (work / "dev_pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev))
    hp = {"seed": 13, "max_length": 64, "batch_size": 32, "lr": 5e-5, "warmup": 0.06, "epochs": 1, "balance_classes": True}
    tm = {"base_model": {"package": "tiny", "file": "model.safetensors", "sha256": "0" * 64}, "threshold": 0.5,
          "hyperparameters": hp, "data_files_sha256": {}, "train_pairs": {"snli": {"n": 10, "pos": 5}},
          "dev_pairs": {"snli": {"n": 4, "pos": 2}}, "steps": {"planned": 1, "done": 1, "best": 1}, "history": [{}],
          "train_minutes": 0.1, "torch": torch.__version__, "dev": {}}
    (work / "train_manifest.json").write_text(json.dumps(tm))
    m = train_and_release(out, work, skip_train=True)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["hypothesis"] == "whole" and 0.05 <= on_disk["threshold"] <= 0.95  # RELEASE_MODES
    assert set(m["dev_report"]["documents"]["candidates"]) == {"whole"}
    assert on_disk["threshold"] == m["dev_report"]["documents"]["threshold"]
    assert on_disk["number_penalty"] in PENALTIES and on_disk["number_penalty"] == m["dev_report"]["documents"]["number_penalty"]
    docs = on_disk["dev_report"]["documents"]
    assert docs["n"] > 3000 and {"fp32", "int8", "lexical"} <= set(docs["macro_over_tasks"])
    assert "minimal-edit summaries" in docs["by_task"] and "summedits_news" in docs["by_source"]
    assert set(on_disk["onnx"]) == {"int8"} and not (out / "model_fp32.onnx").exists()
    card = (out / "README.md").read_text()
    assert card == model_card(on_disk) and "macro over tasks" in card and str(on_disk["threshold"]) in card
    assert "weighs each dataset's supported and unsupported pairs alike" in card  # the recipe's class balancing
    assert "The number penalty and the threshold were chosen together on the dev documents" in card
    older = json.loads(json.dumps(on_disk))  # a manifest from when the release chose the mode too
    older["dev_report"]["documents"]["candidates"]["sentences"] = {"macro_over_tasks": 50.0, "threshold": 0.5, "number_penalty": 0.0}
    assert "All three were chosen together" in model_card(older) and "per mode: whole" in model_card(older)
    assert "cut this run short" not in card
    u = on_disk["unseen"]  # the model-selection figure: sources no model of ours trains on, references beside
    assert set(u["sources"]) == {"fm2", "fm2_multi", "faithdial", "faithdial_multi"}
    assert set(u["macro"]) == {"onnx-int8", "heuristic", "word_overlap"}
    assert f"| **macro** | | **{u['macro']['onnx-int8']}** | {u['macro']['word_overlap']} |" in card
    no_unseen = {k: v for k, v in on_disk.items() if k != "unseen"}  # a manifest from before: no such section
    assert "Sources no model of ours trains on" not in model_card(no_unseen)
    cut = json.loads(json.dumps(on_disk))  # the time budget, not the step count, ended this run
    cut["training"]["steps"].update(planned=1100, done=721)
    assert "a time budget only as a safety stop, which cut this run short: 379 steps were never run" in model_card(cut)
    on_disk["training"]["hyperparameters"]["balance_classes"] = False
    assert "weighs each dataset" not in model_card(on_disk)
    # the goal's figure: the macro over its four held-out kinds, without our summary-sentence task
    four = ["claims vs evidence", "answers vs knowledge", "minimal-edit summaries", "NLI pairs"]
    want = round(sum(docs["by_task"][t]["int8"] for t in four) / 4, 2)
    assert f"reaches {want} macro over those four kinds" in card and "the goal is not met" in card
    assert f"| macro over the goal's four kinds (all but summary sentences) | | {goal_macro(docs['by_task'])['fp32']} | {want} |" in card
    h = docs["held_out_halves"]  # the operating point chosen on half the dev groups, measured on the rest
    assert h["folds"] == 2 * h["halvings"] and set(h["by_task"]) == set(TASKS)
    assert f"over {h['halvings']} halvings: int8 {h['goal_kinds']} over the goal's" in card
    assert (f"measured on the other half: {h['goal_kinds']} over the four kinds and "
            f"{h['by_task']['minimal-edit summaries']} on minimal edits.") in card
    b = docs["bootstrap"]  # how far the int8 dev figures move with other dev groups, at the release's operating point
    assert b["threshold"] == on_disk["threshold"] and b["groups"] > 900 and b["groups_by_task"]["minimal-edit summaries"] > 0
    assert set(b["by_task"]) == set(TASKS) and all(lo <= hi for lo, hi in b["by_task"].values())
    lo, hi = b["by_task"]["minimal-edit summaries"]
    assert lo <= docs["by_task"]["minimal-edit summaries"]["int8"] <= hi
    assert (f"the middle\n95 % of the int8 figures spans {b['goal_kinds'][0]}–{b['goal_kinds'][1]} over the four kinds, "
            f"{lo}–{hi} on\nminimal-edit summaries") in card
    no_bootstrap = json.loads(json.dumps(on_disk))  # a manifest from before the bootstrap: no such paragraph
    del no_bootstrap["dev_report"]["documents"]["bootstrap"]
    assert "Redrawn" not in model_card(no_bootstrap) and "Redrawn" in card
    dx = on_disk["dev_report"]["distractors"]
    assert dx["n_per_class"] == 150 and set(dx) == {"n_per_class", "plain", "distracted"}
    assert f"{100 * dx['distracted']['tpr']:.0f} % behind two unrelated news sentences" in card
    met = {t: {"fp32": 80.0, "int8": 80.0, "lexical": 60.0} for t in TASKS}
    on_disk["dev_report"]["documents"]["by_task"] = met
    held = on_disk["dev_report"]["documents"]["held_out_halves"]
    held["goal_kinds"], held["by_task"]["minimal-edit summaries"] = 76.0, 66.0
    assert "the goal is not met" not in model_card(on_disk) and "chosen on these very rows" in model_card(on_disk)
    held["by_task"]["minimal-edit summaries"] = 64.3  # met on the rows that chose the threshold, not on the other half
    card = model_card(on_disk)
    assert "chosen on these very rows" in card and "76.0 over the four kinds and 64.3 on minimal edits: the goal is not met." in card
    held["by_task"]["minimal-edit summaries"] = 66.0
    met["minimal-edit summaries"]["int8"] = 64.0  # the macro still clears 75, minimal edits do not
    assert "the goal is not met" in model_card(on_disk)


class _PlainMemo:
    """Scores 0.9 for a pair whose premise has no distractors, 0.1 otherwise (all relevance, no support)."""

    def __init__(self) -> None:
        self.plain = {r["premise"] for r in distractor_probe() if not r["distracted"]}

    def score_modes(self, items, modes, number_penalty=0.0):
        self.number_penalty = number_penalty
        return {m: [0.9 if p in self.plain else 0.1 for p, _ in items] for m in modes}


def test_distractor_report_separates_plain_and_distracted_pairs():
    memo = _PlainMemo()
    rep = distractor_report(memo, 0.5, "whole", 1.5)
    assert memo.number_penalty == 1.5  # scored at the release's whole operating point
    assert rep["plain"] == {"tpr": 1.0, "tnr": 0.0, "balanced_accuracy": 50.0}
    assert rep["distracted"] == {"tpr": 0.0, "tnr": 1.0, "balanced_accuracy": 50.0}


class _CountingScorer:
    """Scores a pair by a fixed function of its text and records every pair it is asked for."""

    max_length = 24

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def score_pairs(self, pairs, batch_size=32, progress=False):
        self.asked += list(pairs)
        return [(sum(map(ord, p + "|" + h)) % 97) / 97 for p, h in pairs]


def test_score_memo_scores_each_pair_once_and_aggregates_like_the_scorer():
    from haltguard.kernel.scoring import DocumentScorer, OperatingPoint
    from haltguard.kernel.windows import penalise_unsupported_numbers

    doc = " ".join(f"Sentence number {i} talks about item {i} at length here." for i in range(12))
    items = [(doc, "Item 3 is here. Item 7 is there."), (doc, "Item 5 is described."), ("A short premise.", "Short."),
             (doc, "Item 99 is described.")]  # a number the document never states
    sc = _CountingScorer()
    memo = ScoreMemo(sc)
    got = memo.score_modes(items, ("whole", "sentences"))
    docs = DocumentScorer(sc.count_tokens, OperatingPoint(max_length=sc.max_length, threshold=0.0))

    def pair_plan(p, h, _count, _length, mode):
        return docs.plan(p, h, mode)

    for mode in ("whole", "sentences"):  # what the kernel's scoring path computes, one mode at a time
        assert got[mode] == docs.score(items, _CountingScorer().score_pairs, mode)
        penalised = memo.score_modes(items, [mode], 1.0)[mode]
        assert penalised == penalise_unsupported_numbers(got[mode], items, 1.0)  # uncapped: the release picks thresholds
        assert penalised[:3] == got[mode][:3] and penalised[3] < got[mode][3]
    assert len(sc.asked) == len(set(sc.asked)) == memo.scored
    # the single-sentence hypotheses are the same pairs in both modes: scored once, not twice
    whole = {x for p, h in items for u in pair_plan(p, h, sc.count_tokens, sc.max_length, "whole") for x in u}
    sents = {x for p, h in items for u in pair_plan(p, h, sc.count_tokens, sc.max_length, "sentences") for x in u}
    assert memo.scored == len(whole | sents) < len(whole) + len(sents)
    # a later report asks again: only pairs never seen reach the model, the rest come from the memo
    before = len(sc.asked)
    again = memo.score_pairs([("A short premise.", "Short."), ("new premise", "new hypothesis"), ("new premise", "new hypothesis")])
    assert sc.asked[before:] == [("new premise", "new hypothesis")]
    assert again[0] == got["whole"][2] and again[1] == again[2]
