"""`haltguard train ner`: the name model (MiniLM-L6 + a token-classification head), trained,
exported to int8 ONNX with a manifest and measured on sources it never saw.

Inputs are built by the kernel (``kernel.ner``: words, WordPiece ids, chunks), so training and
every runtime see the same tokens; a word's label sits on its first piece. Dev figures come
from the dev sources of ``ner_data`` (CrossNER, presidio-research), never from a split of
the training corpora, so they say what text from elsewhere will see.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from haltguard.kernel.ner import ENTITY_TYPES, LABELS, Entity, NerEncoder, word_spans

DEFAULTS: dict[str, Any] = {
    "seed": 13,
    "max_length": 128,
    "batch_size": 32,
    "lr": 1e-4,
    "weight_decay": 0.01,
    "warmup": 0.06,
    "epochs": 2,
    "synthetic": 16000,  # synthetic chat messages (names in many locales, addresses, places, organisations)
    "max_examples": 0,  # 0: all; a small number for a quick trial run of the whole pipeline
    "threads": 0,  # torch threads (0: torch's default)
}


def word_labels(example: dict[str, Any], spans: Sequence[tuple[int, int]]) -> list[int]:
    """Each word's label id: B- on the first word that starts inside an entity span, I- after."""
    out = []
    ents = sorted(example["spans"])
    opened: set[int] = set()  # spans whose first word was seen (words come in text order)
    for a, _ in spans:
        lab = 0
        for k, (s, e, t) in enumerate(ents):
            if s <= a < e:
                lab = LABELS.index(("I-" if k in opened else "B-") + t.upper())
                opened.add(k)
                break
        out.append(lab)
    return out


def encode(examples: Sequence[dict[str, Any]], encoder: NerEncoder) -> list[dict[str, list[int]]]:
    """Model inputs with labels on word heads (-100 elsewhere: [CLS], [SEP], later pieces)."""
    out = []
    for ex in examples:
        spans = word_spans(ex["text"])
        labels = word_labels(ex, spans)
        for c in encoder.chunks(ex["text"], spans):
            lab = [-100] * len(c.ids)
            for k, h in enumerate(c.heads):
                lab[h] = labels[c.first_word + k]
            out.append({"input_ids": list(c.ids), "labels": lab})
    return out


def span_report(gold: Sequence[dict[str, Any]], pred: Sequence[Sequence[Entity]]) -> dict[str, Any]:
    """Precision/recall/F1 per type: a prediction is right when it overlaps a gold span of its type
    (as `haltguard eval pii` counts), a gold span found when any such prediction overlaps it."""
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for ex, ents in zip(gold, pred):
        found = set()
        for e in ents:
            hit = [j for j, (s, t_end, t) in enumerate(ex["spans"]) if t == e.type and e.start < t_end and s < e.end]
            if hit:
                tp[e.type] += 1
                found.update(hit)
            else:
                fp[e.type] += 1
        for j, (_, _, t) in enumerate(ex["spans"]):
            if j not in found:
                fn[t] += 1
    out: dict[str, Any] = {}
    gold_n: dict[str, int] = defaultdict(int)
    for ex in gold:
        for *_, t in ex["spans"]:
            gold_n[t] += 1
    for t in ENTITY_TYPES:
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else None
        r = (tp[t] + 0.0) / (tp[t] + fn[t]) if tp[t] + fn[t] else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        out[t] = {"gold": gold_n[t], "tp": tp[t], "fp": fp[t], "fn": fn[t], "precision": None if p is None else round(p, 4),
                  "recall": None if r is None else round(r, 4), "f1": None if f is None else round(f, 4)}
    return out


def _batches(n_lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    idx = list(range(len(n_lengths)))
    rng.shuffle(idx)
    out = []
    for i in range(0, len(idx), batch_size * 50):  # bucket by length inside chunks: little padding, random order
        part = sorted(idx[i:i + batch_size * 50], key=n_lengths.__getitem__)
        out += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def train_ner(work: str | Path, *, progress: bool = True, **overrides: Any) -> dict[str, Any]:
    """Fine-tune on the training sources; save the checkpoint (HF format) and its training record."""
    import torch
    from tqdm import tqdm
    from transformers import BertForTokenClassification

    from haltguard.kernel.tokenizer import WordPieceTokenizer
    from haltguard.models.ner_data import TRAIN_SOURCES, corpus, synthetic
    from haltguard.models.train import BASE_PACKAGE, BASE_SHA256, base_model_dir

    hp = {**DEFAULTS, **overrides}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(hp["seed"])
    torch.manual_seed(hp["seed"])
    base = base_model_dir()
    encoder = NerEncoder(WordPieceTokenizer.from_file(str(base / "vocab.txt")), hp["max_length"])
    examples = [ex for s in TRAIN_SOURCES if s != "synthetic" for ex in corpus(s)]
    examples += synthetic(hp["synthetic"], seed=hp["seed"])
    if hp["max_examples"]:
        examples = random.Random(hp["seed"]).sample(examples, min(hp["max_examples"], len(examples)))
    if hp["threads"]:
        torch.set_num_threads(int(hp["threads"]))
    enc = encode(examples, encoder)
    model = BertForTokenClassification.from_pretrained(
        base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={x: i for i, x in enumerate(LABELS)})
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=hp["lr"])
    lengths = [len(e["input_ids"]) for e in enc]
    batches = [b for _ in range(hp["epochs"]) for b in _batches(lengths, hp["batch_size"], rng)]
    warm = max(1, int(hp["warmup"] * len(batches)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (len(batches) - s) / max(1, len(batches) - warm))))
    model.train()
    t0 = time.perf_counter()
    losses = []
    bar = tqdm(batches, desc="train ner", unit="step", disable=not progress)
    for step, b in enumerate(bar):
        n = max(lengths[i] for i in b)
        ids = torch.tensor([enc[i]["input_ids"] + [0] * (n - lengths[i]) for i in b])
        lab = torch.tensor([enc[i]["labels"] + [-100] * (n - lengths[i]) for i in b])
        mask = (torch.arange(n)[None, :] < torch.tensor([lengths[i] for i in b])[:, None]).long()
        loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=round(sum(losses[-50:]) / len(losses[-50:]), 4))
    ckpt = work / "checkpoint"
    model.save_pretrained(ckpt)
    shutil.copyfile(base / "vocab.txt", ckpt / "vocab.txt")
    record = {"hyperparameters": hp, "base_model": {"package": BASE_PACKAGE, "sha256": BASE_SHA256},
              "examples": {s: sum(1 for e in examples if e["source"] == s) for s in TRAIN_SOURCES},
              "chunks": len(enc), "steps": len(batches), "train_minutes": round((time.perf_counter() - t0) / 60, 1),
              "loss_last_100": round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4)}
    (work / "train_record.json").write_text(json.dumps(record, indent=2))
    return record


def export_ner(work: str | Path, out: str | Path, keep_fp32: bool = False, dev_limit: int | None = None) -> dict[str, Any]:
    """Checkpoint -> ONNX fp32 (optimum) -> weight-only int8, the manifest, dev figures on the dev sources
    (``dev_limit``: the first texts of each only, for a quick trial)."""
    import hashlib

    from optimum.onnxruntime import ORTModelForTokenClassification

    from haltguard.models.export import INT8_METHOD, quantize_int8
    from haltguard.models.ner_data import DEV_SOURCES, corpus
    from haltguard.models.ner_model import FORMAT, OnnxNerModel

    work, out = Path(work), Path(out)
    ckpt = work / "checkpoint"
    record = json.loads((work / "train_record.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="haltguard-ner-export-") as tmp:
        ORTModelForTokenClassification.from_pretrained(ckpt, export=True).save_pretrained(tmp)
        shutil.copyfile(Path(tmp) / "model.onnx", out / "model_fp32.onnx")
    quantize_int8(out / "model_fp32.onnx", out / "model_int8.onnx")
    shutil.copyfile(ckpt / "vocab.txt", out / "vocab.txt")
    m: dict[str, Any] = {"format": FORMAT, "labels": list(LABELS), "max_length": record["hyperparameters"]["max_length"],
                         "onnx": {"int8": "model_int8.onnx", "fp32": "model_fp32.onnx"},
                         "quantization": {"int8": INT8_METHOD}, "training": record}
    (out / "manifest.json").write_text(json.dumps(m, indent=2))
    dev: dict[str, Any] = {}
    variants = {v: OnnxNerModel(out, v) for v in ("int8", "fp32")}
    agree = []
    for s in DEV_SOURCES:
        gold = corpus(s)[:dev_limit]
        texts = [g["text"] for g in gold]
        t0 = time.perf_counter()
        preds = {v: mdl.entities(texts) for v, mdl in variants.items()}
        secs = time.perf_counter() - t0
        dev[s] = {"n": len(gold), **{v: span_report(gold, p) for v, p in preds.items()},
                  "kb_per_s_both_variants": round(sum(map(len, texts)) / 1000 / secs, 1)}
        agree += [[(e.type, e.start, e.end) for e in a] == [(e.type, e.start, e.end) for e in b]
                  for a, b in zip(preds["int8"], preds["fp32"])]
    m["dev_report"] = dev
    m["validation"] = {"int8_vs_fp32_same_entities": round(sum(agree) / len(agree), 4)}
    if not keep_fp32:
        (out / "model_fp32.onnx").unlink()
        m["onnx"].pop("fp32")
    m["files"] = {p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                  for p in sorted(out.iterdir()) if p.is_file() and p.name not in ("manifest.json", "README.md")}
    (out / "manifest.json").write_text(json.dumps(m, indent=2))
    return m


def train_and_export_ner(out: str | Path, work: str | Path, *, seed: int = 13, keep_fp32: bool = False,
                         **overrides: Any) -> dict[str, Any]:
    """`haltguard train ner`: train, export, measure, and write the model card."""
    train_ner(work, seed=seed, **overrides)
    m = export_ner(work, out, keep_fp32=keep_fp32)
    spacy = json.loads(SPACY_BASELINE.read_text()) if SPACY_BASELINE.exists() else None
    (Path(out) / "README.md").write_text(ner_card(m, spacy))
    return m


# spaCy en_core_web_sm (3.8) on the same dev sources: written by benchmarks/spacy_ner.py (the spacy extra)
SPACY_BASELINE = Path(__file__).resolve().parent / "ner_spacy_baseline.json"
_DEV_NAMES = {"crossner": "CrossNER (encyclopedic text, 5 domains)", "presidio": "presidio-research generated PII"}


def ner_card(m: dict[str, Any], spacy: dict[str, Any] | None = None) -> str:
    """The name model's card: what it is, what it was trained on, its dev figures beside spaCy's."""
    from haltguard.models.ner_data import LOCALES

    t = m["training"]
    hp = t["hyperparameters"]
    rows = []
    for src, rep in m["dev_report"].items():
        for typ in ENTITY_TYPES:
            ours = rep["int8"][typ]
            gold_spans = ours.get("gold", ours["tp"] + ours["fn"])
            if not gold_spans:
                continue
            sp = ((spacy or {}).get(src) or {}).get(typ, {}).get("f1")
            rows.append(f"| {_DEV_NAMES.get(src, src)} | {typ} | {gold_spans} | {ours['precision']} | "
                        f"{ours['recall']} | **{ours['f1']}** | {'—' if sp is None else sp} |")
    files = "\n".join(f"| `{n}` | {i['bytes'] / 1e6:.1f} MB | `{i['sha256'][:16]}…` |" for n, i in m["files"].items())
    table = "\n".join(rows)
    corpora = ", ".join(f"{k} {v}" for k, v in t["examples"].items())
    return f"""# haltguard name model

Names, places, organisations and postal addresses for the detector: a token classifier (BIO over
{', '.join(ENTITY_TYPES)}) on the MiniLM-L6 encoder of the NLI model (`{t['base_model']['package']}`),
int8 (weight-only, float activations, like the NLI model).
The kernel (`haltguard.kernel.ner`) cuts text into words and WordPiece chunks of at most
{m['max_length']} tokens and reads spans back, so every runtime finds the same entities.

## Training
{t['steps']} steps (batch {hp['batch_size']}, lr {hp['lr']}, {hp['epochs']} epochs, seed {hp['seed']}) in
{t['train_minutes']} minutes on this project's 2-core CPU, over {sum(t['examples'].values())} sentences: {corpora}.
The real corpora (../shared/data/ner) are collapsed to person / location / organization; addresses,
and names in more cultures, cases and formats, come from synthetic chat messages (faker, {len(LOCALES)} locales).
Reproduce with `haltguard train ner`.

## Dev figures (sources never trained on)
F1 with overlap matching (a finding counts when it overlaps a gold span of its type, as
`haltguard eval pii` counts), int8. spaCy `en_core_web_sm` 3.8 on the same texts beside it
(PERSON; GPE, LOC, FAC as location; ORG), the model Presidio uses by default.

| dev source | type | gold spans | precision | recall | F1 | spaCy F1 |
|---|---|---|---|---|---|---|
{table}

int8 and fp32 find the same entities in {100 * m['validation']['int8_vs_fp32_same_entities']:.1f} % of the dev texts.

Read the recall column before relying on it: organisations and addresses are missed more often
than found, and a place inside a longer name ("University of Oslo") is often called a place.

## Files
| file | size | sha256 |
|---|---|---|
{files}
"""

