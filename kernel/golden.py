"""Golden vectors for the halt kernel: (config, steps) -> expected events and record.

The runner lives in the kernel (not in tests/) because the same vectors must pass under
CPython, Pyodide in Node, Pyodide in a browser and a bare embedded interpreter; each of
those only has the kernel wheel. ``python -m haltguard.kernel.golden`` prints a summary.

Step encoding (JSON has no NaN, so "nan"/"inf"/"-inf" strings stand for those floats):
  ["t", token]                       push a token
  ["s", value, {"upto", "evidence"}] push a score (options optional)
  ["raw", value]                     push a value as-is (strings, booleans: invalid scores)
  ["f", "scorer_error", message]     push a failure
  ["time", seconds]                  advance the fake clock
  ["tick"]                           check_deadline()
  ["due"]                            record ["D", score_due, due_upto or null]
  ["close"]                          close()
Exceptions are recorded as ["E", ExceptionName]. Events are encoded compactly:
  ["R", start, end, text]  ["W", code, token_index]
  ["H", reason, token_index, soft, retract [start, end, text] or null, evidence]
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.events import Halt, Release, Warn
from haltguard.kernel.halt import HaltKernel

__all__ = ["load_vectors", "run_vector", "check_vectors", "encode_event"]

_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
RECORD_FIELDS = (
    "released_text",
    "unreleased_text",
    "halted",
    "reason",
    "token_index",
    "soft",
    "retract",
    "tokens_seen",
    "tokens_dropped",
    "scores",
    "evidence",
)


def load_vectors() -> list[dict[str, Any]]:
    text = resources.files("haltguard.kernel").joinpath("data/halt_golden.json").read_text("utf-8")
    return json.loads(text)["vectors"]


def encode_event(ev: Any) -> list[Any]:
    if isinstance(ev, Release):
        return ["R", ev.start, ev.end, ev.text]
    if isinstance(ev, Warn):
        return ["W", ev.code.value, ev.token_index]
    if isinstance(ev, Halt):
        retract = list(ev.retract) if ev.retract is not None else None
        return ["H", ev.reason.value, ev.token_index, ev.soft, retract, ev.evidence]
    raise TypeError(f"not an event: {ev!r}")


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_vector(vec: dict[str, Any]) -> dict[str, Any]:
    """Run one vector; returns ``{"events": [...], "record": {...}}`` in the golden encoding."""
    clock = _FakeClock()
    kernel = HaltKernel(HaltConfig.from_dict(vec.get("config", {})), clock=clock)
    out: list[Any] = []
    for step in vec["steps"]:
        op = step[0]
        try:
            if op == "t":
                evs = kernel.push_token(step[1])
            elif op == "s":
                value = _SPECIAL.get(step[1], step[1]) if isinstance(step[1], str) else step[1]
                opts = step[2] if len(step) > 2 else {}
                evs = kernel.push_score(value, opts.get("evidence"), upto=opts.get("upto"))
            elif op == "raw":
                evs = kernel.push_score(step[1])
            elif op == "f":
                evs = kernel.push_failure(step[1], step[2])
            elif op == "time":
                clock.now += float(step[1])
                evs = ()
            elif op == "tick":
                evs = kernel.check_deadline()
            elif op == "due":
                out.append(["D", kernel.score_due, kernel.due_upto if kernel.score_due else None])
                evs = ()
            elif op == "close":
                evs = kernel.close()
            else:
                raise ValueError(f"unknown step {op!r}")
        except (ValueError, TypeError, RuntimeError) as exc:
            out.append(["E", type(exc).__name__])
            continue
        out.extend(encode_event(e) for e in evs)
    rec = kernel.finish().to_dict(timings=False)
    if rec["retract"] is not None:
        r = rec["retract"]
        rec["retract"] = [r["start"], r["end"], r["text"]]
    return {"events": out, "record": {k: rec[k] for k in RECORD_FIELDS}}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def check_vectors(vectors: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run every vector; returns one ``{name, field, expected, got}`` per mismatch (empty = pass)."""
    failures = []
    for vec in load_vectors() if vectors is None else vectors:
        got = run_vector(vec)
        exp = vec["expect"]
        if not _same(got["events"], exp["events"]):
            failures.append({"name": vec["name"], "field": "events", "expected": exp["events"], "got": got["events"]})
        for key, want in exp.get("record", {}).items():
            if not _same(got["record"].get(key), want):
                failures.append(
                    {"name": vec["name"], "field": f"record.{key}", "expected": want, "got": got["record"].get(key)}
                )
    return failures


def main() -> int:
    vectors = load_vectors()
    failures = check_vectors(vectors)
    print(json.dumps({"python": sys.version.split()[0], "vectors": len(vectors), "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
