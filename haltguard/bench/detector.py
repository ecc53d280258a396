"""`haltguard bench detector`: detector throughput next to Director-AI and Presidio (regex only),
and the name model's next to Presidio with spaCy's en_core_web_sm.

Same texts (presidio_generated_large.json), single thread, MB/s of UTF-8 input, median of
the runs. Peers run in the benchmark venv (.venv-bench), never in the product's.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from typing import Any

from haltguard.kernel.detector import Detector
from haltguard.kernel.resources import data_dir
from haltguard.paths import BENCHMARKS, REPO, SCRIPTS, require_checkout


def _peer(script: str, path: str, runs: int, *flags: str) -> dict[str, Any]:
    py = REPO / ".venv-bench" / "bin" / "python"
    proc = subprocess.run([str(py), str(BENCHMARKS / script), path, str(runs), *flags], capture_output=True, text=True,
                          cwd=BENCHMARKS, timeout=3600)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip()[-600:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _names_speed(texts: list[str]) -> dict[str, Any]:
    """The name model (the shipped int8 one) on one onnxruntime thread: KB of text per second."""
    try:
        from haltguard.kernel.resources import model_dir
        from haltguard.models.ner_model import OnnxNerModel

        model = OnnxNerModel(model_dir(kind="names"), threads=1)
    except (ImportError, OSError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    kb = sum(len(t.encode("utf-8")) for t in texts) / 1e3
    model.entities(texts[:16])
    t0 = time.perf_counter()
    model.entities(texts)
    secs = time.perf_counter() - t0
    return {"kb_per_s_1_thread": round(kb / secs, 1), "ms_per_kb": round(secs * 1e3 / kb, 2)}


def run(runs: int = 5, peers: bool = True) -> dict[str, Any]:
    require_checkout("haltguard bench detector")
    path = data_dir() / "pii" / "presidio_generated_large.json"
    texts = [r["full_text"] for r in json.loads(path.read_text(encoding="utf-8"))]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    det = Detector()
    det.detect(texts[0])
    speeds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for t in texts:
            det.detect(t)
        speeds.append(mb / (time.perf_counter() - t0))
    out: dict[str, Any] = {
        "texts": len(texts), "mb": round(mb, 4), "runs": runs,
        "haltguard_mb_per_s": round(statistics.median(speeds), 3),
        "haltguard_types": len(det.registry),
        "haltguard_us_per_text": round(mb * 1e6 / statistics.median(speeds) / len(texts), 2),
    }
    out["names"] = _names_speed(texts)
    if peers:
        subprocess.run(["bash", str(SCRIPTS / "bench-setup.sh")], check=True)
        d = _peer("director_detector.py", str(path), runs)
        p = _peer("presidio_detector.py", str(path), max(1, min(runs, 3)))
        out["director_ai"] = d
        out["presidio"] = p
        out["director_ai_mb_per_s"] = round(d["mb_per_s"], 3) if "mb_per_s" in d else None
        out["presidio_mb_per_s"] = round(p["mb_per_s"], 4) if "mb_per_s" in p else None
        if out["director_ai_mb_per_s"]:
            out["vs_director_ai"] = round(out["haltguard_mb_per_s"] / out["director_ai_mb_per_s"], 2)
            out["types_vs_director_ai"] = round(out["haltguard_types"] / d.get("types", 8), 2)
        if out["presidio_mb_per_s"]:
            out["vs_presidio"] = round(out["haltguard_mb_per_s"] / out["presidio_mb_per_s"], 1)
        ps = _peer("presidio_detector.py", str(path), 2, "--spacy")
        out["presidio_spacy"] = ps
        if "kb_per_s" in ps and "kb_per_s_1_thread" in out["names"]:
            out["names"]["vs_presidio_spacy"] = round(out["names"]["kb_per_s_1_thread"] / ps["kb_per_s"], 2)
    return out
