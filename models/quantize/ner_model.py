"""The name model at run time (onnxruntime): text in, ``kernel.ner.Entity`` spans out.

Only the forward pass is here; cutting text into chunks and reading spans back is the
kernel's (``haltguard.kernel.ner``), shared with the browser worker, so both give the same
findings. A model folder holds ``model_int8.onnx`` (or fp32), ``vocab.txt`` and a
``manifest.json`` of format ``haltguard-ner/1`` (labels, max length, files).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from haltguard.kernel.ner import LABELS, Entity, NerEncoder, decode, word_spans
from haltguard.kernel.tokenizer import WordPieceTokenizer

FORMAT = "haltguard-ner/1"


def read_ner_manifest(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{model_dir} has no manifest.json: build a name model with `haltguard train ner`")
    m = json.loads(path.read_text(encoding="utf-8"))
    if m.get("format") != FORMAT:
        raise ValueError(f"{path} is not a name model manifest (format {m.get('format')!r}, expected {FORMAT!r})")
    if tuple(m["labels"]) != LABELS:
        raise ValueError(f"{path}: labels {m['labels']} differ from the kernel's {list(LABELS)}")
    return m


def softmax_rows(logits: Any) -> Any:
    import numpy as np

    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class OnnxNerModel:
    """Entities in texts with an exported name model; ``threads`` for the CPU provider."""

    def __init__(self, model_dir: str | Path, variant: str = "int8", threads: int | None = None,
                 providers: Sequence[str] | None = None, min_score: float = 0.5) -> None:
        import onnxruntime as ort

        self.dir = Path(model_dir)
        self.manifest = read_ner_manifest(self.dir)
        name = self.manifest["onnx"].get(variant)
        if name is None:
            raise FileNotFoundError(f"{self.dir}: no {variant} model (have {', '.join(self.manifest['onnx'])})")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(self.dir / name), opts, providers=list(providers or ["CPUExecutionProvider"]))
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.encoder = NerEncoder(WordPieceTokenizer.from_file(str(self.dir / "vocab.txt")), int(self.manifest["max_length"]))
        self.min_score = min_score

    def word_probs(self, texts: Sequence[str], batch_size: int = 16) -> list[tuple[list[tuple[int, int]], list[list[float]]]]:
        """For each text: its word spans and each word's label probabilities."""
        import numpy as np

        spans = [word_spans(t) for t in texts]
        jobs = [(k, c) for k, t in enumerate(texts) for c in self.encoder.chunks(t, spans[k])]
        probs: list[list[list[float]]] = [[[] for _ in s] for s in spans]
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][1].ids))
        for b in range(0, len(order), batch_size):
            batch = [jobs[j] for j in order[b:b + batch_size]]
            n = max(len(c.ids) for _, c in batch)
            ids = np.zeros((len(batch), n), dtype=np.int64)
            mask = np.zeros((len(batch), n), dtype=np.int64)
            for r, (_, c) in enumerate(batch):
                ids[r, :len(c.ids)] = c.ids
                mask[r, :len(c.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            p = softmax_rows(self.session.run(None, feed)[0].astype(np.float64))
            for r, (k, c) in enumerate(batch):
                for w, h in enumerate(c.heads):
                    probs[k][c.first_word + w] = p[r, h].tolist()
        return list(zip(spans, probs))

    def entities(self, texts: Sequence[str], batch_size: int = 16) -> list[list[Entity]]:
        return [decode(t, s, p, self.min_score) for t, (s, p) in zip(texts, self.word_probs(texts, batch_size))]
