"""The `haltguard` command. Subcommands import their heavy dependencies lazily."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence


def _cmd_demo(args: argparse.Namespace) -> int:
    from haltguard.kernel.demo import CONTEXT, DEMO_CONFIG, run_demo
    from haltguard.kernel.events import Halt, Release, Warn

    out = sys.stdout
    if args.json:
        events: list[dict[str, Any]] = []
        rec = run_demo(lambda ev: events.append(ev.to_dict()))
        print(json.dumps({"events": events, "record": rec.to_dict()}, indent=2))
        return 0
    print("context:", CONTEXT, "\n", file=out)
    print(f"halt config: {DEMO_CONFIG.to_json()}\n", file=out)
    print("streaming the answer (hold-back mode: text appears only after its sentence is scored)\n", file=out)

    def show(ev: Any) -> None:
        if isinstance(ev, Release):
            print(f"  released  {ev.text.strip()}", file=out)
        elif isinstance(ev, Warn):
            print(f"  WARNING   {ev.code.value}: {ev.message}", file=out)
        elif isinstance(ev, Halt):
            print(f"  HALT      {ev.reason.value} at token {ev.token_index}: {ev.message}", file=out)
            if ev.evidence:
                print(f"            evidence: {json.dumps(ev.evidence)}", file=out)

    rec = run_demo(show)
    print("\nreleased text:\n  " + rec.released_text.strip(), file=out)
    print("withheld:\n  " + (rec.unreleased_text.strip() or "(nothing)"), file=out)
    print(f"\nhalted={rec.halted} reason={rec.reason} scores={[round(s, 3) for s in rec.scores]}", file=out)
    return 0


def _cmd_golden(args: argparse.Namespace) -> int:
    from haltguard.kernel import golden

    return golden.main()


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "kernel":
        from haltguard.bench.kernel import run

        result = run(n=args.tokens, runs=args.runs, peers=not args.no_peers, pyodide=not args.no_pyodide)
        result["heuristic"] = _heuristic_eval()
    elif args.what == "heuristic":
        result = _heuristic_eval()
    else:  # pragma: no cover - argparse restricts choices
        raise SystemExit(f"unknown benchmark {args.what}")
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


def _heuristic_eval() -> dict[str, Any]:
    from haltguard.bench.heuristic import evaluate

    return evaluate()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="haltguard", description="Guardrails for LLM applications.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser("demo", help="stream a canned LLM answer through the halt kernel (heuristic scorer)")
    d.add_argument("--json", action="store_true", help="print events and the record as JSON")
    d.set_defaults(func=_cmd_demo)

    g = sub.add_parser("golden", help="run the halt kernel's golden vectors and report mismatches")
    g.set_defaults(func=_cmd_golden)

    b = sub.add_parser("bench", help="benchmarks with side-by-side peers (numbers, not tests)")
    b.add_argument("what", choices=["kernel", "heuristic"], help="kernel: µs/token vs Director-AI and in Pyodide; "
                   "heuristic: balanced accuracy of the model-free scorer")
    b.add_argument("--json", action="store_true", help="one JSON object on one line")
    b.add_argument("--tokens", type=int, default=20000)
    b.add_argument("--runs", type=int, default=5)
    b.add_argument("--no-peers", action="store_true", help="skip Director-AI (no benchmark venv)")
    b.add_argument("--no-pyodide", action="store_true", help="skip the Pyodide-in-Node run")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
