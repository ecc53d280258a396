"""`haltguard bench nli`: ms per pair of the default model, int8 and fp32, 128/256/512 tokens, 1 and 2 threads."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from haltguard.models.evaluate import DEFAULT_MODEL_DIR


def run(runs: int = 5, model_dir: str | Path | None = None) -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort

    from haltguard.bench.machine import cpu_info
    from haltguard.models.scorer import OnnxNliScorer

    d = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    out: dict[str, Any] = {"model": str(d), "runs": runs, "cpu": cpu_info(), "ms_per_pair": {}}
    variants = [v for v in ("int8", "fp32") if (d / f"model_{v}.onnx").exists()]
    if "fp32" not in variants:
        out["note"] = "fp32 not present (rebuild with `haltguard train --keep-fp32`)"
    for v in variants:
        for threads in (1, 2):
            sc = OnnxNliScorer(d, v, threads=threads)
            inputs = {i.name for i in sc.session.get_inputs()}
            for length in (128, 256, 512):
                feed = {"input_ids": np.full((1, length), 2000, dtype=np.int64),
                        "attention_mask": np.ones((1, length), dtype=np.int64),
                        "token_type_ids": np.zeros((1, length), dtype=np.int64)}
                feed = {k: val for k, val in feed.items() if k in inputs}
                sc.session.run(None, feed)
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    sc.session.run(None, feed)
                    times.append((time.perf_counter() - t0) * 1000)
                out["ms_per_pair"][f"{v}_{length}_t{threads}"] = round(statistics.median(times), 2)
    if "int8_256_t1" in out["ms_per_pair"]:
        out["int8_ms_per_pair_256_1thread"] = out["ms_per_pair"]["int8_256_t1"]
    out["onnxruntime"] = ort.__version__
    return out
