"""`haltguard bench edge`: the browser bundle measured in Debian Chromium (and Python onnxruntime beside it).

One JSON object: Pyodide boot, page-ready time, first-score latency, kernel µs/token inside
the page's worker, onnxruntime-web ms/pair at 128 and 256 tokens with 1 and 2 threads
(the page is cross-origin isolated, so threads work), Python onnxruntime on the same
inputs, and the same under a mobile profile (Pixel 7 emulation + 4x CPU throttling).
``ort_web_ms_per_pair_256`` is the p50 at 256 tokens with the page's default (2 threads).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from haltguard.paths import BENCHMARKS, REPO

KEY = "bench-edge-key-0123456789abcdef"
REPEATS = 15


def _pair(length: int) -> list[str]:
    # long enough that truncation to `length` tokens gives exactly `length` ids
    words = "the tower stands on the field in paris and was built for the fair by the company".split()
    premise = " ".join(words[i % len(words)] for i in range(length * 2))
    return [premise, "The tower was built for the fair in Paris."]


def _page_ms(page: Any, length: int, repeats: int) -> float:
    ms = page.evaluate(
        """async ([pair, length, repeats]) => {
            const g = window.hg.guard, out = [];
            await g.call('modelScores', {pairs: [pair], length});
            for (let i = 0; i < repeats; i++) {
              const t = performance.now(); await g.call('modelScores', {pairs: [pair], length}); out.push(performance.now() - t);
            }
            return out; }""", [_pair(length), length, repeats])
    return round(statistics.median(ms), 2)


def _python_ms(length: int, threads: int, repeats: int) -> float:
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(REPO / "models" / "default", threads=threads, max_length=length)
    premise, hypothesis = _pair(length)
    p = (premise, hypothesis)
    sc.score_pairs([p])
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        sc.score_pairs([p])
        ts.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(ts), 2)


def _kernel_us(page: Any) -> dict[str, Any]:
    from haltguard.bench.kernel import _OURS

    code = (BENCHMARKS / "streams.py").read_text() + _OURS + (
        "\ntokens, seqs = make_streams(20000)\nres = bench_ours(tokens, seqs, 3)\njson.dumps(res)\n")
    import json

    return json.loads(page.evaluate("(code) => window.hg.guard.call('python', {code})", code))


def run(mobile: bool = True) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from haltguard.bundle import build_bundle
    from haltguard.testing import CHROMIUM, CHROMIUM_ARGS, HostProcess

    tmp = Path(tempfile.mkdtemp(prefix="haltguard-bench-edge-"))
    bundle = build_bundle(tmp / "bundle")
    cfg = {"auth": {"keys": [{"name": "bench", "key": KEY}]}, "server": {"bundle_dir": bundle["out"]},
           "session": {"keys": [{"kid": "e1", "secret": "e" * 48}]}, "rate_limit": {"enabled": False}}
    out: dict[str, Any] = {"bundle_mb": round(bundle["total_bytes"] / 1e6, 1),
                           "bundle_parts_mb": {k: round(v / 1e6, 2) for k, v in bundle["parts_bytes"].items()},
                           "repeats": REPEATS}
    with HostProcess(cfg, log=tmp / "host.log") as h, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        out["chromium"] = browser.version

        def open_page(query: str, profile: str) -> tuple[Any, Any, dict[str, Any], float]:
            ctx = browser.new_context(**(dict(p.devices["Pixel 7"]) if profile == "mobile" else {}))
            page = ctx.new_page()
            if profile == "mobile":
                ctx.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
            t0 = time.perf_counter()
            page.goto(f"{h.url}/?key={KEY}&{query}")
            info = page.evaluate("window.hg.ready")
            return ctx, page, info, (time.perf_counter() - t0) * 1000

        for profile in ["desktop"] + (["mobile"] if mobile else []):
            res: dict[str, Any] = {}
            for threads in (1, 2):
                ctx, page, info, ready_ms = open_page(f"threads={threads}", profile)
                res[f"threads_{threads}"] = {
                    "ms_per_pair_128": _page_ms(page, 128, REPEATS), "ms_per_pair_256": _page_ms(page, 256, REPEATS),
                    "pyodide_boot_ms": round(info["pyodideBootMs"], 1), "model_load_ms": round(info["modelLoadMs"], 1),
                    "first_score_ms": round(info["firstScoreMs"], 1), "page_ready_ms": round(ready_ms, 1),
                    "cross_origin_isolated": page.evaluate("crossOriginIsolated"), "threads": info["threads"]}
                if threads == 2:
                    k = _kernel_us(page)
                    res["kernel_us_per_token"] = {"never_halts": round(k["never"], 2), "halts_late": round(k["late"], 2)}
                ctx.close()
            out[profile] = res
        browser.close()
    out["python_onnxruntime_ms_per_pair"] = {f"threads_{t}": {f"ms_per_pair_{L}": _python_ms(L, t, REPEATS)
                                                             for L in (128, 256)} for t in (1, 2)}
    out["ort_web_ms_per_pair_256"] = out["desktop"]["threads_2"]["ms_per_pair_256"]
    out["goal_ms_per_pair_256"] = {"goal": 60.0, "measured": out["ort_web_ms_per_pair_256"],
                                   "met": out["ort_web_ms_per_pair_256"] <= 60.0}
    return out
