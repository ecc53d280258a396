"""The name model at run time (onnxruntime): text in, ``kernel.ner.Entity`` spans out.

Only the forward pass is here; cutting text into chunks and reading spans back is the
kernel's (``haltguard.kernel.ner``), shared with the browser worker, so both give the same
findings. A model folder holds ``model_int8.onnx`` (or fp32), ``vocab.txt`` and a
``manifest.json`` of format ``haltguard-ner/1`` (labels, max length, files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from haltguard.kernel.ner import LABELS, Entity, NerChunk, NerEncoder, decode, word_probabilities, word_spans
from haltguard.kernel.scoring import read_manifest
from haltguard.kernel.tokenizer import WordPieceTokenizer

FORMAT = "haltguard-ner/1"


def read_ner_manifest(model_dir: str | Path) -> dict[str, Any]:
    """The name model's manifest (parsed by the kernel's one manifest reader), checked to be one."""
    path = Path(model_dir) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{model_dir} has no manifest.json: build a name model with `haltguard train ner`")
    m = read_manifest(model_dir)
    if m.get("format") != FORMAT:
        raise ValueError(f"{path} is not a name model manifest (format {m.get('format')!r}, expected {FORMAT!r})")
    if tuple(m["labels"]) != LABELS:
        raise ValueError(f"{path}: labels {m['labels']} differ from the kernel's {list(LABELS)}")
    return m


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

    def head_logits(self, chunks: Sequence[NerChunk], batch_size: int = 16) -> list[list[list[float]]]:
        """The model's label logits at each chunk's word heads (what the browser worker's JS returns too)."""
        import numpy as np

        out: list[list[list[float]]] = [[] for _ in chunks]
        order = sorted(range(len(chunks)), key=lambda j: len(chunks[j].ids))
        for b in range(0, len(order), batch_size):
            batch = order[b:b + batch_size]
            n = max(len(chunks[j].ids) for j in batch)
            ids = np.zeros((len(batch), n), dtype=np.int64)
            mask = np.zeros((len(batch), n), dtype=np.int64)
            for r, j in enumerate(batch):
                ids[r, :len(chunks[j].ids)] = chunks[j].ids
                mask[r, :len(chunks[j].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            logits = self.session.run(None, feed)[0]
            for r, j in enumerate(batch):
                out[j] = logits[r, list(chunks[j].heads)].astype(np.float64).tolist()
        return out

    def word_probs(self, texts: Sequence[str], batch_size: int = 16) -> list[tuple[list[tuple[int, int]], list[list[float]]]]:
        """For each text: its word spans and each word's label probabilities."""
        spans = [word_spans(t) for t in texts]
        chunks = [self.encoder.chunks(t, s) for t, s in zip(texts, spans)]
        flat = [c for cs in chunks for c in cs]
        logits = iter(self.head_logits(flat, batch_size))
        return [(s, word_probabilities(len(s), cs, [next(logits) for _ in cs])) for s, cs in zip(spans, chunks)]

    def entities(self, texts: Sequence[str], batch_size: int = 16) -> list[list[Entity]]:
        return [decode(t, s, p, self.min_score) for t, (s, p) in zip(texts, self.word_probs(texts, batch_size))]
