"""`haltguard export`: a local HF sequence-classification checkpoint -> ONNX fp32 / int8 / fp16 + manifest.

- fp32 ONNX via optimum (BERT, RoBERTa, DeBERTa-v2/v3 ... whatever optimum supports).
- int8: weight-only (8-bit signed MatMul weights in blocks of 32, int8 embedding tables,
  float activations): the variant whose outputs are identical in Python onnxruntime and
  onnxruntime-web (see ``quantize_int8`` for why not int8 activations).
- fp16: for GPU hosts (inputs/outputs stay fp32).
- manifest.json: every file with bytes and sha256, opset, label map and supported index,
  tokenizer kind, case and files (and whether the kernel's WordPiece reproduces it), max
  length, fp32-ONNX vs PyTorch max |Δlogit|, int8 (and fp16) vs fp32 label agreement and
  max |Δprob| on a calibration set, accuracy when asked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

__all__ = ["export_model", "calibration_pairs", "TOKENIZER_FILES"]

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "spm.model", "merges.txt", "vocab.json", "sentencepiece.bpe.model")


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def calibration_pairs(n: int = 96, seed: int = 5) -> list[tuple[str, str]]:
    """Varied (premise, hypothesis) pairs from ../shared/data: SNLI, WiCE and SummEdits."""
    import csv
    import random

    from haltguard.models.datasets import data_dir, load_summedits, load_wice_dev

    rng = random.Random(seed)
    with open(data_dir() / "nli" / "snli_dev.csv", encoding="utf-8") as fh:
        snli = [(r["sentence1"], r["sentence2"]) for r in csv.DictReader(fh)]
    wice = [(r["premise"], r["hypothesis"]) for r in load_wice_dev()]
    summ = [(r["premise"], r["hypothesis"]) for r in load_summedits()]
    k = n // 3
    return rng.sample(snli, k) + rng.sample(wice, k) + rng.sample(summ, n - 2 * k)


def _tokenizer_kind(d: Path) -> str:
    tj = d / "tokenizer.json"
    if tj.exists():
        return str(json.loads(tj.read_text(encoding="utf-8")).get("model", {}).get("type", "unknown")).lower()
    if (d / "spm.model").exists():
        return "sentencepiece"
    if (d / "vocab.txt").exists():
        return "wordpiece"
    return "unknown"


def _tokenizer_info(src: Path, out: Path) -> dict[str, Any]:
    """Write ``tokenizer.json`` where the checkpoint has none, and describe the tokenizer.

    A DeBERTa-v3 checkpoint often ships only ``spm.model``; loading that needs the
    ``sentencepiece`` package and a slow-to-fast conversion on every start. The converted
    fast tokenizer, saved once here, is what every later scorer of the folder loads. Case is
    measured, not assumed: cased models must never meet the kernel's lower-casing WordPiece.
    """
    from transformers import AutoTokenizer

    from haltguard.models.scorer import kernel_tokenizer_mismatch

    tok = AutoTokenizer.from_pretrained(src)
    if not (out / "tokenizer.json").exists() and getattr(tok, "is_fast", False):
        tok.backend_tokenizer.save(str(out / "tokenizer.json"))

    if getattr(tok, "is_fast", False):
        norm = tok.backend_tokenizer.normalizer  # None: nothing changes the text's case
        lowercase = norm is not None and norm.normalize_str("THE TOWER") == "the tower"
    else:
        lowercase = bool(getattr(tok, "do_lower_case", False))
    mismatch = kernel_tokenizer_mismatch(out)
    info: dict[str, Any] = {"kind": _tokenizer_kind(out), "files": [n for n in TOKENIZER_FILES if (out / n).exists()],
                            "lowercase": lowercase, "kernel": mismatch is None}
    if mismatch is not None:
        info["kernel_mismatch"] = mismatch
    return info


INT8_METHOD = {"method": "weight-only int8", "matmul": "MatMulNBits bits=8 block_size=32 symmetric (fp32 compute)",
               "gather": "onnxruntime.quantize_dynamic QInt8 (embeddings)", "activations": "float32"}


def quantize_int8(fp32_path: Path, int8_path: Path) -> None:
    """Weight-only int8: 8-bit MatMul weights (MatMulNBits) and int8 embedding tables.

    Why not the usual dynamic quantization (int8 activations): it rounds activations to
    1/255 of their range at run time, which turns the last-ulp differences between two
    runtimes' float kernels into whole quantization steps. Python onnxruntime and
    onnxruntime-web then disagreed by up to 1.2e-2 on 256-token inputs (2e-3 at 40 tokens);
    with float activations they agree to ~2e-7, so the browser, Node and the host compute the
    same scores, and the scores sit closer to fp32. The price is speed on x86 CPUs
    (dequantised fp32 GEMMs instead of integer ones); the size is the same (~25 MB).
    Measured on a CPU with AVX-512 VNNI/AMX (1 thread, 256 tokens): dynamic int8 (signed,
    per channel) 24 ms per pair against 51 ms for weight-only int8, but it also costs accuracy,
    not just parity. Quantised from one retrained checkpoint's fp32 export (v16 in
    docs/lab/nli-training-trials.md), its decisions on the dev documents differ from the weight-only
    model's on 4.4 % of the scored pairs (max |Δprob| 0.43), SummEdits AUC 0.655 vs 0.674,
    WiCE 0.592 vs 0.610, four held-out kinds of task -0.5 with thresholds chosen on held-out halves.
    Nor does MatMulNBits' own integer path (``accuracy_level=4``: activations quantised per block
    of 32 at run time) pay: on an AVX2-only EPYC core, the shipped model at 256 tokens ran 159 ms
    against 100 ms for the fp32 expansion the host uses (119 ms at level 0), and its
    probabilities moved by up to 2.1e-2.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    q = MatMulNBitsQuantizer(onnx.load(str(fp32_path)), bits=8, block_size=32, is_symmetric=True)
    q.process()
    model = q.model.model if hasattr(q.model, "model") else q.model
    with tempfile.TemporaryDirectory(prefix="haltguard-int8-") as tmp:
        wo = Path(tmp) / "weights_only.onnx"
        onnx.save(model, str(wo))
        quantize_dynamic(str(wo), str(int8_path), op_types_to_quantize=["Gather"], weight_type=QuantType.QInt8)


def export_model(model_dir: str | Path, out_dir: str | Path, *, int8: bool = True, fp16: bool = False,
                 max_length: int = 256, calibration: Sequence[tuple[str, str]] | None = None,
                 eval_rows: Sequence[dict[str, Any]] | None = None, threshold: float | None = None,
                 keep_fp32: bool = True, extra: dict[str, Any] | None = None,
                 hypothesis_mode: str = "whole") -> dict[str, Any]:
    """Export, quantize and validate; ``hypothesis_mode`` tells scorers how to meet a hypothesis
    (``"sentences"``: one sentence at a time, for models trained on single sentences)."""
    import numpy as np
    import onnx
    from optimum.onnxruntime import ORTModelForSequenceClassification

    from haltguard.kernel.scoring import OperatingPoint
    from haltguard.kernel.windows import HYPOTHESIS_MODES
    from haltguard.models.scorer import OnnxNliScorer, TorchNliScorer, guess_supported_index

    if hypothesis_mode not in HYPOTHESIS_MODES:
        raise ValueError(f"hypothesis_mode must be one of {HYPOTHESIS_MODES}, not {hypothesis_mode!r}")

    src, out = Path(model_dir), Path(out_dir)
    if not (src / "config.json").exists():
        raise FileNotFoundError(f"{src} is not a Hugging Face checkpoint (no config.json)")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    steps = ["export fp32"] + (["int8"] if int8 else []) + (["fp16"] if fp16 else []) + ["validate"]
    bar = tqdm(total=len(steps), desc="export", unit="step")

    tmp = Path(tempfile.mkdtemp(prefix="haltguard-export-"))
    ort_model = ORTModelForSequenceClassification.from_pretrained(src, export=True)
    ort_model.save_pretrained(tmp)
    config = ort_model.config
    shutil.copyfile(tmp / "model.onnx", out / "model_fp32.onnx")
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copyfile(src / name, out / name)
    tokenizer = _tokenizer_info(src, out)
    shutil.copyfile(src / "config.json", out / "config.json")
    opset = max(o.version for o in onnx.load(str(out / "model_fp32.onnx"), load_external_data=False).opset_import
                if o.domain in ("", "ai.onnx"))
    bar.update(1)

    onnx_files = {"fp32": "model_fp32.onnx"}
    if int8:
        bar.set_description("export int8")
        quantize_int8(out / "model_fp32.onnx", out / "model_int8.onnx")
        onnx_files["int8"] = "model_int8.onnx"
        bar.update(1)
    if fp16:
        bar.set_description("export fp16")
        from onnxruntime.transformers.float16 import convert_float_to_float16

        m16 = convert_float_to_float16(onnx.load(str(out / "model_fp32.onnx")), keep_io_types=True)
        onnx.save(m16, str(out / "model_fp16.onnx"))
        onnx_files["fp16"] = "model_fp16.onnx"
        bar.update(1)

    supported = guess_supported_index(config)
    labels = {int(k): str(v) for k, v in config.id2label.items()}
    manifest: dict[str, Any] = {
        "format": "haltguard-nli/1",
        "source": {"model_type": config.model_type, "architectures": list(config.architectures or [])},
        "onnx": onnx_files,
        "opset": opset,
        "labels": labels,
        "supported_index": supported,
        "threshold": threshold if threshold is not None else 0.5,
        "max_length": max_length,
        "hypothesis": hypothesis_mode,
        "tokenizer": tokenizer,
        "quantization": {"int8": INT8_METHOD} if int8 else {},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))

    bar.set_description("validate")
    pairs = list(calibration) if calibration is not None else calibration_pairs()
    torch_sc = TorchNliScorer(src, point=OperatingPoint(max_length=max_length))
    ref_logits = np.concatenate([torch_sc.logits(pairs[i:i + 16]) for i in range(0, len(pairs), 16)])
    scorers = {v: OnnxNliScorer(out, v, max_length=max_length) for v in onnx_files}
    logits = {v: np.concatenate([s.logits(pairs[i:i + 16]) for i in range(0, len(pairs), 16)]) for v, s in scorers.items()}

    def probs(z: Any) -> Any:
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    p32 = probs(logits["fp32"])
    validation: dict[str, Any] = {
        "calibration_pairs": len(pairs),
        "fp32_vs_torch_max_abs_logit": float(np.abs(logits["fp32"] - ref_logits).max()),
    }
    for v in onnx_files:
        if v == "fp32":
            continue
        pv = probs(logits[v])
        validation[f"{v}_vs_fp32_label_agreement"] = float((pv.argmax(-1) == p32.argmax(-1)).mean())
        validation[f"{v}_vs_fp32_max_abs_prob"] = float(np.abs(pv - p32).max())
        thr = manifest["threshold"]
        validation[f"{v}_vs_fp32_decision_agreement"] = float(
            ((pv[:, supported] >= thr) == (p32[:, supported] >= thr)).mean())
    manifest["validation"] = validation

    if eval_rows:
        from haltguard.models.evaluate import evaluate_scores

        acc: dict[str, Any] = {}
        for v, s in scorers.items():
            if v == "fp16":
                continue  # fp16 is for GPU hosts; on the CPU provider it is slow and validated above
            sc = s.score_many([(r["premise"], r["hypothesis"]) for r in eval_rows])
            acc[v] = evaluate_scores(sc, [int(r["label"]) for r in eval_rows], manifest["threshold"])
        manifest["accuracy"] = acc
    bar.update(1)
    bar.close()

    if not keep_fp32:
        (out / "model_fp32.onnx").unlink()
        manifest["onnx"].pop("fp32")
        manifest["fp32_reproduce"] = "haltguard train (see README)"
    if extra:
        manifest.update(extra)
    manifest["files"] = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                         for p in sorted(out.iterdir())
                         if p.is_file() and p.name not in ("manifest.json", "README.md")}  # the card is written from the manifest
    manifest["export_seconds"] = round(time.perf_counter() - t0, 1)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return manifest
