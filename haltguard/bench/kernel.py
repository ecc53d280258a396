"""`haltguard bench kernel`: per-token cost of the halt kernel vs Director-AI, and in Pyodide.

Same streams for every runner (benchmarks/streams.py: 20,000 tokens scored every token,
one score sequence that never halts and one that halts late), same rule settings
(hard 0.5, window 10 @ 0.55, trend 5 @ 0.15, soft limit 0.6), median of the runs. Our
side goes through ``run_stream`` with a scorer callable, the same shape as Director-AI's
``stream_tokens(tokens, callback)``.
"""

from __future__ import annotations

import json
import runpy
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from haltguard.paths import BENCHMARKS, NODE_RUNNER, REPO, SCRIPTS, WASM, require_checkout

SETTINGS = {"hard_limit": 0.5, "window": (10, 0.55), "trend": (5, 0.15), "soft_limit": 0.6}

_OURS = r'''
import json, statistics, time
from haltguard.kernel import HaltConfig, WindowRule, TrendRule, run_stream

def bench_ours(tokens, seqs, runs):
    cfg = HaltConfig(hard_limit=0.5, window=WindowRule(10, 0.55), trend=TrendRule(5, 0.15), soft_limit=0.6)
    out = {"halted_at": {}}
    for name, scores in seqs.items():
        per = []
        for _ in range(runs):
            nxt = iter(scores).__next__
            t0 = time.perf_counter()
            rec = run_stream(tokens, lambda view: nxt(), cfg)
            dt = time.perf_counter() - t0
            used = rec.tokens_seen
            per.append(dt / used * 1e6)
        out[name] = statistics.median(per)
        out["halted_at"][name] = rec.token_index if rec.halted else None
    return out
'''


def _ours(tokens: list[str], seqs: dict[str, list[float]], runs: int) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec(_OURS, ns)
    return ns["bench_ours"](tokens, seqs, runs)


def _director(n: int, runs: int) -> dict[str, Any]:
    subprocess.run(["bash", str(SCRIPTS / "bench-setup.sh")], check=True)
    py = REPO / ".venv-bench" / "bin" / "python"
    proc = subprocess.run(
        [str(py), str(BENCHMARKS / "director_kernel.py"), str(n), str(runs)],
        capture_output=True, text=True, cwd=BENCHMARKS, timeout=3600,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pyodide(n: int, runs: int) -> dict[str, Any]:
    from haltguard.wheel import build_kernel_wheel

    if not (WASM / "node_modules" / "pyodide").is_dir():
        return {"error": "wasm/node_modules/pyodide missing: run scripts/setup.sh"}
    wheel = build_kernel_wheel()
    code = (BENCHMARKS / "streams.py").read_text() + _OURS + (
        f"\ntokens, seqs = make_streams({n})\nres = bench_ours(tokens, seqs, {runs})\n"
        "res['boot_ms'] = PYODIDE_BOOT_MS\nimport sys\nres['python'] = sys.version.split()[0]\nprint(json.dumps(res))\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    proc = subprocess.run(
        ["node", str(NODE_RUNNER), "--wheel", str(wheel), "--file", fh.name],
        capture_output=True, text=True, timeout=1800,
    )
    Path(fh.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip()[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(n: int = 20000, runs: int = 5, peers: bool = True, pyodide: bool = True) -> dict[str, Any]:
    require_checkout("haltguard bench kernel")
    streams = runpy.run_path(str(BENCHMARKS / "streams.py"))
    tokens, seqs = streams["make_streams"](n)
    t0 = time.perf_counter()
    ours = _ours(tokens, seqs, runs)
    result: dict[str, Any] = {
        "tokens": n,
        "runs": runs,
        "settings": SETTINGS,
        "haltguard_us_per_token": statistics.mean([ours["never"], ours["late"]]),
        "haltguard": ours,
    }
    if peers:
        d = _director(n, runs)
        result["director_ai"] = d
        if "never" in d:
            result["director_ai_us_per_token"] = statistics.mean([d["never"], d["late"]])
            result["ratio"] = result["director_ai_us_per_token"] / result["haltguard_us_per_token"]
        else:
            result["director_ai_us_per_token"] = None
            result["ratio"] = None
    if pyodide:
        p = _pyodide(n, runs)
        result["pyodide"] = p
        result["pyodide_us_per_token"] = statistics.mean([p["never"], p["late"]]) if "never" in p else None
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result
