"""NLI scoring with an exported model: P(supported | premise, hypothesis).

One implementation for every consumer (export validation, `haltguard eval nli`, the
benchmarks and, later, the host): it tokenises with the kernel's WordPiece when the model
uses a BERT vocab (so host and browser produce identical ids) or with the checkpoint's own
tokenizer otherwise, splits premises longer than the window into overlapping sentence
windows and takes the maximum support over them. Models whose manifest says so also judge a
multi-sentence hypothesis (a summary, an answer) one sentence at a time and take the
minimum: one unsupported sentence makes the whole text unsupported, and each sentence meets
the model at the granularity it was trained on. The manifest's ``number_penalty`` (chosen
with the threshold on dev) then lowers the support of a hypothesis stating numbers its
premise never does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Sequence

# the pairing itself is pure Python in the kernel, so the browser worker pairs exactly alike
from haltguard.kernel.windows import (HYPOTHESIS_MODES, aggregate, aggregate_plans, hypothesis_units,
                                      manifest_operating_point, pair_plan, penalise_unsupported_numbers,
                                      premise_chunks, unique_pairs)

__all__ = ["OnnxNliScorer", "TorchNliScorer", "kernel_tokenizer", "kernel_tokenizer_mismatch", "operating_point",
           "softmax_support", "premise_chunks", "dequantize_weight_only", "hypothesis_units", "pair_plan", "aggregate",
           "HYPOTHESIS_MODES"]


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


def softmax_support(logits: Any, supported_index: int) -> list[float]:
    import numpy as np

    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e[:, supported_index] / e.sum(axis=-1)).tolist()


class _Base:
    manifest: dict[str, Any]
    max_length: int
    supported_index: int

    def _tokenizer_setup(self, model_dir: Path) -> None:
        self._wp, why = kernel_tokenizer(model_dir)  # built once: the check and the tokenizer are one read
        self._hf = None
        if why is not None:
            from transformers import AutoTokenizer

            self._hf = AutoTokenizer.from_pretrained(model_dir)

    def count_tokens(self, text: str) -> int:
        if self._wp is not None:
            return len(self._wp.tokenize_ids(text))
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
            for j, v in zip(ids, softmax_support(self.logits([pairs[j] for j in ids]), self.supported_index)):
                out[j] = v
        return out

    hypothesis_mode: str = "whole"
    number_penalty: float = 0.0

    def plan(self, premise: str, hypothesis: str) -> list[list[tuple[str, str]]]:
        return pair_plan(premise, hypothesis, self.count_tokens, self.max_length, self.hypothesis_mode)

    def score(self, premise: str, hypothesis: str) -> float:
        """Support of the pair (long premises are chunked, never cut off; see ``aggregate``)."""
        return self.score_many([(premise, hypothesis)])[0]

    def score_many(self, items: Iterable[tuple[str, str]], batch_size: int = 32, progress: bool = False) -> list[float]:
        items = list(items)
        plans = [self.plan(p, h) for p, h in items]
        flat = unique_pairs(plans)
        supports = aggregate_plans(plans, dict(zip(flat, self.score_pairs(flat, batch_size, progress))))
        return penalise_unsupported_numbers(supports, items, self.number_penalty)


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
        mm = helper.make_node("MatMul", [n.input[0], wname], [n.output[0] if len(n.input) < 6 or not n.input[5] else n.output[0] + "_nobias"],
                              name=n.name + "_fp32")
        nodes.append(mm)
        if len(n.input) > 5 and n.input[5]:
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
        mpath = d / "manifest.json"
        if not mpath.exists():
            raise FileNotFoundError(f"{mpath} not found: export the model with `haltguard export` first")
        self.manifest = json.loads(mpath.read_text(encoding="utf-8"))
        files = self.manifest["onnx"]
        if variant not in files:
            raise ValueError(f"{d} has no {variant} model (has: {', '.join(files)})")
        self.variant = variant
        self.max_length = max_length or int(self.manifest["max_length"])
        self.supported_index = int(self.manifest["supported_index"])
        self.threshold = float(self.manifest.get("threshold", 0.5))
        self.hypothesis_mode = hypothesis_mode or str(self.manifest.get("hypothesis", "whole"))
        self.number_penalty = float(self.manifest.get("number_penalty", 0.0) if number_penalty is None else number_penalty)
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

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:
        feed = {k: v for k, v in self.encode_batch(pairs).items() if k in self._inputs}
        return self.session.run(None, feed)[0]


class TorchNliScorer(_Base):
    """Full-precision PyTorch scorer for a Hugging Face checkpoint folder."""

    def __init__(self, model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32",
                 max_length: int = 256, supported_index: int | None = None, threshold: float = 0.5,
                 hypothesis_mode: str = "whole", number_penalty: float = 0.0) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        d = Path(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(d).eval().to(device)
        if dtype == "float16":
            self.model = self.model.half()
        self.device = device
        self.max_length = max_length
        self.supported_index = supported_index if supported_index is not None else guess_supported_index(self.model.config)
        self.threshold = threshold
        self.hypothesis_mode = hypothesis_mode
        self.number_penalty = number_penalty
        self.manifest = {}
        self._tokenizer_setup(d)
        self._torch = torch

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:
        torch = self._torch
        enc = self.encode_batch(pairs)
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v).to(self.device) for k, v in enc.items()
                    if k != "token_type_ids" or getattr(self.model.config, "type_vocab_size", 2) > 1}
            return self.model(**feed).logits.float().cpu().numpy()


def operating_point(release_dir: str | Path) -> dict[str, Any]:
    """The window, hypothesis mode, number penalty and threshold of ``release_dir/manifest.json``
    (defaults where there is none), as scorer keyword arguments: full-precision weights must be
    scored exactly as the int8 model was when the release chose them together."""
    path = Path(release_dir) / "manifest.json"
    return manifest_operating_point(json.loads(path.read_text(encoding="utf-8")) if path.exists() else {})


def guess_supported_index(config: Any) -> int:
    """Which output means entailment/supported, from the checkpoint's label names."""
    labels = {int(k): str(v).lower() for k, v in (getattr(config, "id2label", None) or {}).items()}
    for k, v in labels.items():
        if "support" in v and "not" not in v or "entail" in v and "not" not in v:
            return k
    return 1 if len(labels) == 2 else 0
