"""Cross-runtime parity cases for detect / transform / rehydrate / output protection.

``run_cases`` returns plain JSON for every case in ``data/pii_cases.json``; the tests run it
under CPython and under Pyodide (Node, browser) and require identical output.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from haltguard.kernel.guard import detect_json, protect_json, rehydrate_json, rehydrate_stream_json, transform_json
from haltguard.kernel.pseudonymize import BlockedInput

__all__ = ["load_cases", "run_cases", "main"]


def load_cases() -> list[dict[str, Any]]:
    text = resources.files("haltguard.kernel").joinpath("data/pii_cases.json").read_text("utf-8")
    return json.loads(text)["cases"]


def _chunks(text: str, sizes: list[int]) -> list[str]:
    out, pos = [], 0
    for n in sizes:
        out.append(text[pos:pos + n])
        pos += n
    out.append(text[pos:])
    return out


def run_case(case: dict[str, Any]) -> Any:
    op = case["op"]
    policy = case.get("policy")
    if op == "detect":
        return detect_json(case["text"], policy)
    if op == "transform":
        try:
            return transform_json(case["text"], policy)
        except BlockedInput as exc:
            return {"blocked": [[f.type, f.start, f.end] for f in exc.findings]}
    if op == "roundtrip":
        t = transform_json(case["text"], policy)
        one = rehydrate_json(case["output"], t["session"], case.get("revoked"))
        stream = rehydrate_stream_json(_chunks(case["output"], case.get("chunks", [])), t["session"]) \
            if not case.get("revoked") else None
        return {"transform": t, "rehydrate": one, "stream": stream}
    if op == "protect":
        return protect_json(case["text"], policy)
    raise ValueError(f"unknown parity op {op!r}")


def run_cases(cases: list[dict[str, Any]] | None = None) -> list[Any]:
    return [run_case(c) for c in (load_cases() if cases is None else cases)]


def main() -> None:
    print(json.dumps(run_cases(), sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
