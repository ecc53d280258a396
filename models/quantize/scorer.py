"""NLI scoring with an exported model: P(supported | premise, hypothesis).

These classes only turn token pairs into P(supported): they tokenise with the kernel's
WordPiece when the model uses an uncased BERT vocab (so host and browser produce identical
ids) or with the checkpoint's own tokenizer otherwise, and run ONNX Runtime or PyTorch.
Planning premise windows, aggregating and the number penalty are the kernel's one scoring
path (``haltguard.kernel.scoring``), at the operating point read from the model's manifest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from haltguard.kernel.scoring import DocumentScorer, OperatingPoint, read_manifest, softmax_support

__all__ = ["OnnxNliScorer", "TorchNliScorer", "kernel_tokenizer", "kernel_tokenizer_mismatch", "operating_point",
           "dequantize_weight_only"]


def kernel_tokenizer(model_dir: str | Path) -> tuple[Any, str | None]:
    """The kernel's WordPiece for this checkpoint, or None and why it would not give the checkpoint's ids.

    The kernel tokenises the way uncased BERT does (clean, split CJK, strip accents, lower-case,
    ``##`` pieces), which is what lets the browser, Node and the host feed a model the same ids
    without the Rust ``tokenizers``. A cased BERT vocab, or BPE / SentencePiece models, must go
    through the checkpoint's own tokenizer instead, or they would be fed wrong ids silently.
    The vocab itself is judged by the kernel tokenizer's own checks (its special tokens).
    """
    from haltguard.kernel.tokenizer import WordPieceTokenizer

    d = Path(model_dir)
    vocab = d / "vocab.txt"
    if not vocab.exists():
        return None, "no vocab.txt (not a WordPiece vocab)"
    why = _spec_mismatch(d)
    if why is not None:
        return None, why
    try:
        return WordPieceTokenizer.from_file(str(vocab)), None
    except ValueError as exc:  # e.g. a vocab.txt without [CLS] / [SEP]
        return None, f"vocab.txt: {exc}"


def kernel_tokenizer_mismatch(model_dir: str | Path) -> str | None:
    """Why the kernel's WordPiece would not give this checkpoint's ids; None when it would."""
    return kernel_tokenizer(model_dir)[1]


def _spec_mismatch(d: Path) -> str | None:
    """What in ``tokenizer.json`` (or, without it, ``tokenizer_config.json``) differs from uncased BERT."""
    tj = d / "tokenizer.json"
    if tj.exists():
        spec = json.loads(tj.read_text(encoding="utf-8"))
        model, norm, pre = (spec.get(k) or {} for k in ("model", "normalizer", "pre_tokenizer"))
        if model.get("type") != "WordPiece":
            return f"tokenizer.json holds a {model.get('type')} model"
        if model.get("continuing_subword_prefix", "##") != "##":
            return f"subword prefix {model.get('continuing_subword_prefix')!r}"
        if norm.get("type") != "BertNormalizer" or pre.get("type") != "BertPreTokenizer":
            return f"normalizer {norm.get('type')} / pre-tokenizer {pre.get('type')} (not BERT's)"
        if not norm.get("lowercase", True):
            return "cased (the normalizer keeps case)"
        if norm.get("strip_accents") is False or not norm.get("clean_text", True) or not norm.get("handle_chinese_chars", True):
            return "the normalizer keeps accents, control characters or CJK runs"
        return None
    cfg_path = d / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.exists() else {}
    if cfg.get("do_lower_case", True) is False:
        return "cased (do_lower_case is false)"
    if cfg.get("strip_accents") is False or cfg.get("tokenize_chinese_chars", True) is False:
        return "the tokenizer keeps accents or CJK runs"
    return None


class _Base:
    manifest: dict[str, Any]
    point: OperatingPoint
    documents: DocumentScorer

    @property
    def max_length(self) -> int:
        return self.point.max_length

    @property
    def threshold(self) -> float:
        return self.point.threshold

    @property
    def number_penalty(self) -> float:
        return self.point.number_penalty

    @property
    def hypothesis_mode(self) -> str:
        return self.point.hypothesis_mode

    @property
    def supported_index(self) -> int:
        return self.point.supported_index

    def _tokenizer_setup(self, model_dir: Path) -> None:
        self._wp, why = kernel_tokenizer(model_dir)  # built once: the check and the tokenizer are one read
        self._hf = None
        if why is not None:
            from transformers import AutoTokenizer

            self._hf = AutoTokenizer.from_pretrained(model_dir)

    def count_tokens(self, text: str) -> int:
        if self._wp is not None:
            return len(self._wp.tokenize_ids(text))
        assert self._hf is not None
        return len(self._hf(text, add_special_tokens=False)["input_ids"])

    def encode_batch(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        import numpy as np

        if self._wp is not None:
            encs = [self._wp.encode(p, h, max_length=self.max_length) for p, h in pairs]
            n = max(len(e.ids) for e in encs)
            for e in encs:
                e.pad(n, self._wp.pad_id)
            return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64)}
        assert self._hf is not None
        enc = self._hf([p for p, _ in pairs], [h for _, h in pairs], truncation="longest_first",
                       max_length=self.max_length, padding=True, return_tensors="np")
        return {k: v.astype(np.int64) for k, v in enc.items()}

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def score_pairs(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, progress: bool = False) -> list[float]:
        """P(supported) per pair, no premise chunking (pairs are truncated to the window).

        Batches are formed from pairs of similar length (by characters), so a batch is padded to
        its own longest pair rather than to the longest of a random mix; scores come back in
        ``pairs`` order.
        """
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = [0.0] * len(pairs)
        starts = range(0, len(pairs), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="score", unit="batch", leave=False)
        for i in starts:
            ids = order[i:i + batch_size]
            for j, v in zip(ids, softmax_support(self.logits([pairs[j] for j in ids]).tolist(), self.supported_index)):
                out[j] = v
        return out

    def _setup_documents(self) -> None:
        self.documents = DocumentScorer(self.count_tokens, self.point)

    def set_point(self, point: OperatingPoint) -> None:
        """Score at another operating point from now on (a release trying thresholds and penalties)."""
        self.point = point
        self._setup_documents()

    def plan(self, premise: str, hypothesis: str) -> list[list[tuple[str, str]]]:
        return self.documents.plan(premise, hypothesis)

    def score(self, premise: str, hypothesis: str) -> float:
        """Support of the pair (long premises are windowed, never cut off; see ``kernel.scoring``)."""
        return self.score_many([(premise, hypothesis)])[0]

    def score_many(self, items: Iterable[tuple[str, str]], batch_size: int = 32, progress: bool = False) -> list[float]:
        """Support per (premise, hypothesis), through the kernel's one scoring path."""
        return self.documents.score(list(items), lambda pairs: self.score_pairs(pairs, batch_size, progress))


def dequantize_weight_only(model: Any) -> bytes | None:
    """The weight-only int8 model with its 8-bit MatMul weights expanded back to float32 MatMuls.

    x86 onnxruntime runs MatMulNBits(bits=8) about 3x slower than a plain float32 MatMul, so
    the CPU host loads the int8 file (what ships, what the browser runs) and multiplies by the
    very same dequantised weights in float32: identical weights, scores equal up to summation
    order (~1e-7), at fp32 speed. Takes a path or a loaded ``ModelProto``; returns the
    serialised model for ``InferenceSession``, or None when there is no 8-bit MatMulNBits.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    g = model.graph
    if not any(n.op_type == "MatMulNBits" for n in g.node):
        return None
    inits = {i.name: i for i in g.initializer}
    drop: set[str] = set()
    nodes = []
    for n in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type != "MatMulNBits" or attrs.get("bits") != 8 or len(n.input) > 3 and n.input[3]:
            nodes.append(n)
            continue
        k, nn = int(attrs["K"]), int(attrs["N"])
        q = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)        # [N, blocks, block]
        scales = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32)   # [N, blocks]
        w = ((q - 128.0) * scales[:, :, None]).reshape(nn, -1)[:, :k]          # symmetric: zero point 128
        wname = n.input[1] + "_dequantized"
        g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w.T), wname))
        drop.update(n.input[1:3])
        biased = len(n.input) > 5 and bool(n.input[5])
        mm = helper.make_node("MatMul", [n.input[0], wname], [n.output[0] + "_nobias" if biased else n.output[0]],
                              name=n.name + "_fp32")
        nodes.append(mm)
        if biased:
            nodes.append(helper.make_node("Add", [mm.output[0], n.input[5]], [n.output[0]], name=n.name + "_bias"))
    del g.node[:]
    g.node.extend(nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)
    return model.SerializeToString()


class OnnxNliScorer(_Base):
    """ONNX Runtime scorer for a folder written by ``haltguard export`` (manifest.json inside)."""

    def __init__(self, model_dir: str | Path, variant: str = "int8", *, threads: int | None = None,
                 providers: Sequence[str] | None = None, max_length: int | None = None,
                 expand_weights: bool = True, hypothesis_mode: str | None = None,
                 number_penalty: float | None = None) -> None:
        import onnxruntime as ort

        d = Path(model_dir)
        self.manifest = read_manifest(d)
        files = self.manifest["onnx"]
        if variant not in files:
            raise ValueError(f"{d} has no {variant} model (has: {', '.join(files)})")
        self.variant = variant
        point = OperatingPoint.from_manifest(self.manifest)
        changes: dict[str, Any] = {k: v for k, v in (("max_length", max_length), ("hypothesis_mode", hypothesis_mode),
                                                     ("number_penalty", number_penalty)) if v is not None}
        self.point = point.replace(**changes) if changes else point
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
        path = d / files[variant]
        # weight-only int8 runs as float32 MatMuls over the same dequantised weights (see above)
        expanded = dequantize_weight_only(path) if expand_weights else None
        self.expanded = expanded is not None
        source: Any = expanded if expanded is not None else str(path)
        self.session = ort.InferenceSession(source, so, providers=list(providers or ["CPUExecutionProvider"]))
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._tokenizer_setup(d)
        self._setup_documents()

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:
        feed = {k: v for k, v in self.encode_batch(pairs).items() if k in self._inputs}
        return self.session.run(None, feed)[0]


class TorchNliScorer(_Base):
    """Full-precision PyTorch scorer for a Hugging Face checkpoint folder."""

    def __init__(self, model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32",
                 point: OperatingPoint | None = None) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        d = Path(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(d).eval().to(device)
        if dtype == "float16":
            self.model = self.model.half()
        self.device = device
        # the release's operating point, but the supported label as this checkpoint names it
        self.point = (point or OperatingPoint()).replace(supported_index=guess_supported_index(self.model.config))
        self.manifest = {}
        self._tokenizer_setup(d)
        self._setup_documents()
        self._torch = torch

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:
        torch = self._torch
        enc = self.encode_batch(pairs)
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v).to(self.device) for k, v in enc.items()
                    if k != "token_type_ids" or getattr(self.model.config, "type_vocab_size", 2) > 1}
            return self.model(**feed).logits.float().cpu().numpy()


def operating_point(release_dir: str | Path) -> OperatingPoint:
    """The operating point of ``release_dir/manifest.json`` (defaults where there is none):
    full-precision weights must be scored exactly as the int8 model was when the release chose them."""
    d = Path(release_dir)
    return OperatingPoint.from_manifest(read_manifest(d)) if (d / "manifest.json").exists() else OperatingPoint()


def guess_supported_index(config: Any) -> int:
    """Which output means entailment/supported, from the checkpoint's label names."""
    labels = {int(k): str(v).lower() for k, v in (getattr(config, "id2label", None) or {}).items()}
    for k, v in labels.items():
        if "support" in v and "not" not in v or "entail" in v and "not" not in v:
            return k
    return 1 if len(labels) == 2 else 0
