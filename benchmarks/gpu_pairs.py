"""Pairs/s of the default NLI model on a CUDA GPU (issue goal: >= 10,000 pairs/s at 128 tokens, fp16).

Run on a GPU machine:  python benchmarks/gpu_pairs.py [--model-dir models/default] [--checkpoint DIR]

- ONNX Runtime CUDA provider on the shipped model folder (int8 always; fp16/fp32 when exported
  with `haltguard export --fp16`), and
- PyTorch fp16/fp32 on a Hugging Face checkpoint (the training checkpoint, when given).
Prints one JSON object. Without CUDA it prints {"skipped": "..."} and exits 0: GPU paths are optional.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _bench(fn, batch: int, seconds: float) -> float:
    fn()  # warm-up
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += batch
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=str(Path(__file__).resolve().parent.parent / "models" / "default"))
    ap.add_argument("--checkpoint", help="HF checkpoint folder for the PyTorch runs")
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    import numpy as np

    out: dict = {"length": args.length, "pairs_per_s": {}, "goal_pairs_per_s": 10_000}
    try:
        import torch
        cuda = torch.cuda.is_available()
        if cuda:
            out["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        torch, cuda = None, False
    import onnxruntime as ort

    ort_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if not cuda and not ort_cuda:
        print(json.dumps({"skipped": "no CUDA device (torch.cuda / onnxruntime CUDAExecutionProvider)"}))
        return 0
    batches = [int(b) for b in args.batches.split(",")]
    L = args.length
    d = Path(args.model_dir)
    from haltguard.kernel.scoring import read_manifest

    manifest = read_manifest(d)
    if ort_cuda:
        for variant, fname in manifest["onnx"].items():
            sess = ort.InferenceSession(str(d / fname), providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
            names = {i.name for i in sess.get_inputs()}
            for b in batches:
                feed = {"input_ids": np.full((b, L), 2000, np.int64), "attention_mask": np.ones((b, L), np.int64),
                        "token_type_ids": np.zeros((b, L), np.int64)}
                feed = {k: v for k, v in feed.items() if k in names}
                out["pairs_per_s"][f"onnx-cuda-{variant}-b{b}"] = round(_bench(lambda: sess.run(None, feed), b, args.seconds))
    if cuda and args.checkpoint:
        from transformers import AutoModelForSequenceClassification

        for dtype in (torch.float16, torch.float32):
            model = AutoModelForSequenceClassification.from_pretrained(args.checkpoint).eval().to("cuda", dtype)
            for b in batches:
                ids = torch.full((b, L), 2000, device="cuda")
                mask = torch.ones((b, L), device="cuda", dtype=torch.long)

                def step():
                    with torch.inference_mode():
                        model(input_ids=ids, attention_mask=mask)
                    torch.cuda.synchronize()
                out["pairs_per_s"][f"torch-{str(dtype).split('.')[-1]}-b{b}"] = round(_bench(step, b, args.seconds))
    best = max(out["pairs_per_s"].values(), default=0)
    out["best_pairs_per_s"] = best
    out["goal_met"] = best >= 10_000
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
