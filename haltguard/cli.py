"""The `haltguard` command. Subcommands import their heavy dependencies lazily."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any


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


def _read_json_arg(raw: str | None, what: str) -> Any:
    if raw is None:
        return None
    try:
        if raw.startswith("@"):
            with open(raw[1:], encoding="utf-8") as fh:
                return json.load(fh)
        return json.loads(raw)
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"haltguard: invalid {what}: {exc}") from None


def _stdin_json() -> Any:
    raw = sys.stdin.read()
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"haltguard: stdin is not valid JSON: {exc}") from None


def _cmd_detect(args: argparse.Namespace) -> int:
    from haltguard.kernel.guard import detect_json
    from haltguard.kernel.policy import PolicyError

    text = sys.stdin.read()
    try:
        out = detect_json(text, _read_json_arg(args.policy, "policy"))
    except PolicyError as exc:
        raise SystemExit(f"haltguard: invalid policy: {exc}") from None
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _cmd_transform(args: argparse.Namespace) -> int:
    """stdin: {"input": str, "policy"?: {...}, "session"?: {...}} -> transform JSON."""
    from haltguard.kernel.guard import transform_json
    from haltguard.kernel.policy import PolicyError
    from haltguard.kernel.pseudonymize import BlockedInput

    req = _stdin_json()
    if not isinstance(req, dict) or not isinstance(req.get("input"), str):
        raise SystemExit('haltguard: stdin must be {"input": "...", "policy"?: {...}, "session"?: {...}}')
    try:
        out = transform_json(req["input"], req.get("policy"), req.get("session"))
    except PolicyError as exc:
        raise SystemExit(f"haltguard: invalid policy: {exc}") from None
    except BlockedInput as exc:
        print(json.dumps({"error": "blocked", "message": str(exc),
                          "entities": [{"type": f.type, "start": f.start, "end": f.end} for f in exc.findings]}))
        return 3
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _cmd_rehydrate(args: argparse.Namespace) -> int:
    """stdin: {"output": str, "session": {...}, "revoked"?: [values]} -> {"restored_text", ...}."""
    from haltguard.kernel.guard import rehydrate_json

    req = _stdin_json()
    if not isinstance(req, dict) or not isinstance(req.get("output"), str) or not isinstance(req.get("session"), dict):
        raise SystemExit('haltguard: stdin must be {"output": "...", "session": {...}, "revoked"?: [...]}')
    try:
        out = rehydrate_json(req["output"], req["session"], req.get("revoked"))
    except ValueError as exc:
        raise SystemExit(f"haltguard: invalid session: {exc}") from None
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from haltguard import evals

    try:
        if args.unseen:
            if args.what != "nli" or args.data:
                raise ValueError("--unseen is for `eval nli` without --data")
            from haltguard.models.evaluate import eval_unseen

            out = eval_unseen(args.model, args.backend, limit=args.limit, progress=sys.stderr.isatty())
        elif args.chat:
            if args.what != "nli" or args.data:
                raise ValueError("--chat is for `eval nli` without --data")
            from haltguard.models.evaluate import eval_chat

            out = eval_chat(args.model, args.backend)
        elif not args.data:
            raise ValueError(f"`eval {args.what}` needs --data FILE")
        elif args.what == "pii":
            names = None
            if not args.no_names:
                from haltguard.kernel.resources import model_dir
                from haltguard.models.ner_model import OnnxNerModel

                names = OnnxNerModel(model_dir(args.names_model, kind="names"))
            out = evals.eval_pii(args.data, names=names)
            if args.spacy:  # spaCy's en_core_web_sm as the name engine, beside ours (the spacy extra)
                from haltguard.host.names import SpacyNames

                out = {"haltguard": out, "spacy": evals.eval_pii(args.data, names=SpacyNames())}
        elif args.what == "nli":
            from haltguard.models.evaluate import eval_nli

            out = eval_nli(args.data, args.model, args.backend, progress=sys.stderr.isatty())
        else:
            out = evals.eval_injection(args.data, args.threshold)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"haltguard: {exc}") from None
    print(json.dumps(out, indent=2))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from haltguard.models.evaluate import load_rows
    from haltguard.models.export import export_model

    if not args.int8 and not args.fp16:
        print("haltguard: exporting fp32 only (add --int8 and/or --fp16 for the other variants)", file=sys.stderr)
    try:
        rows = load_rows(args.eval) if args.eval else None
        m = export_model(args.model, args.out, int8=args.int8, fp16=args.fp16, max_length=args.max_length, eval_rows=rows,
                         hypothesis_mode=args.hypothesis)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"haltguard: {exc}") from None
    print(json.dumps({k: m[k] for k in ("onnx", "opset", "validation", "files")}, indent=2))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from haltguard.models.datasets import DataMissing
    from haltguard.models.release import train_and_release
    from haltguard.models.train import BaseModelMismatch

    try:
        if args.what == "ner":
            from haltguard.models.ner_train import train_and_export_ner

            m = train_and_export_ner(args.out or "models/names", args.work or "build/names-train", seed=args.seed,
                                     keep_fp32=args.keep_fp32)
            print(json.dumps({k: m.get(k) for k in ("dev_report", "validation")}, indent=2))
            return 0
        m = train_and_release(args.out or "models/default", args.work or "build/default-train", minutes=args.minutes,
                              seed=args.seed, keep_fp32=args.keep_fp32)
    except (DataMissing, BaseModelMismatch) as exc:  # set-up faults, found in the first seconds: no traceback
        raise SystemExit(f"haltguard: {exc}") from None
    print(json.dumps({k: m.get(k) for k in ("threshold", "validation", "dev", "train_minutes")}, indent=2))
    return 0


def _cmd_golden(args: argparse.Namespace) -> int:
    from haltguard.kernel import golden

    return golden.main()


def _int_list(raw: str) -> tuple[int, ...]:
    """argparse type for "128,256": a bad item is a usage error, not a traceback."""
    try:
        values = tuple(int(x) for x in raw.split(",") if x.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, not {raw!r}")
    return values


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "kernel":
        from haltguard.bench.kernel import run

        result = run(n=args.tokens, runs=args.runs, peers=not args.no_peers, pyodide=not args.no_pyodide)
        result["heuristic"] = _heuristic_eval()
    elif args.what == "heuristic":
        result = _heuristic_eval()
    elif args.what == "nli":
        from haltguard.bench.nli import run as run_nli

        given = {k: v for k, v in (("lengths", args.lengths), ("threads", args.threads)) if v}  # else run's defaults
        result = run_nli(runs=args.runs, dynamic=not args.no_dynamic, **given)
    elif args.what == "edge":
        from haltguard.bench.edge import run as run_edge

        result = run_edge(mobile=not args.no_mobile)
    elif args.what == "host":
        from haltguard.bench.host import run as run_host

        result = run_host(seconds=args.seconds)
    elif args.what == "proxy":
        from haltguard.bench.proxy import run as run_proxy

        result = run_proxy(delay_ms=args.delay_ms)
    elif args.what == "detector":
        from haltguard.bench.detector import run as run_detector

        result = run_detector(runs=args.runs, peers=not args.no_peers)
    else:  # pragma: no cover - argparse restricts choices
        raise SystemExit(f"unknown benchmark {args.what}")
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from haltguard.host.app import create_app
    from haltguard.host.config import ConfigFileError, load_config
    from haltguard.host.engines import EngineLoadError, load_engine
    from haltguard.host.names import NamesLoadError, load_names

    try:
        config = load_config(args.config)
    except ConfigFileError as exc:
        print(f"haltguard: {exc}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:  # before the server starts: a model that cannot load stops here with one line
        engine = load_engine(config.scorer)
        names = load_names(config.detector.names)
    except (EngineLoadError, NamesLoadError) as exc:
        print(f"haltguard: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(config, engine=engine, names=names)
    except ValueError as exc:
        print(f"haltguard: {exc}", file=sys.stderr)
        return 2
    if config.server.demo:
        print(f"haltguard: demo page at http://{host}:{port}/  (API docs at /docs)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level=args.log_level, access_log=False,
                ws_max_size=config.server.max_body_bytes)
    return 0


def _cmd_bundle(args: argparse.Namespace) -> int:
    from haltguard.bundle import build_bundle

    info = build_bundle(args.out, args.model, args.names)
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"bundle in {info['out']} ({info['total_bytes'] / 1e6:.1f} MB):")
    for part, size in info["parts_bytes"].items():
        print(f"  {part:<24} {size / 1e6:8.2f} MB")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from haltguard.host.audit import verify

    key = None
    if args.key_env:
        if not os.environ.get(args.key_env):
            raise SystemExit(f"haltguard: environment variable {args.key_env} (the audit key) is not set")
        key = os.environ[args.key_env].encode("utf-8")
    result = verify(args.file, key)
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


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

    dt = sub.add_parser("detect", help="text on stdin -> JSON findings and prompt-security verdict")
    dt.add_argument("--policy", help="policy as JSON or @file.json")
    dt.set_defaults(func=_cmd_detect)

    tr = sub.add_parser("transform", help='pseudonymise: stdin {"input", "policy"?, "session"?} -> JSON')
    tr.set_defaults(func=_cmd_transform)

    rh = sub.add_parser("rehydrate", help='restore placeholders: stdin {"output", "session", "revoked"?} -> JSON')
    rh.set_defaults(func=_cmd_rehydrate)

    ev = sub.add_parser("eval", help="metrics on a labelled file (pii: presidio JSON; injection: CSV/JSONL; nli: JSONL)")
    ev.add_argument("what", choices=["pii", "injection", "nli"])
    ev.add_argument("--data", help="the labelled file (nli: or --unseen)")
    ev.add_argument("--unseen", action="store_true",
                    help="nli: the dev sets of sources no model of ours trains on (FM2, FaithDial), per source, "
                    "beside word overlap and the heuristic")
    ev.add_argument("--chat", action="store_true",
                    help="nli: the chat-answer probe (supported, wrong and chit-chat sentences against policy paragraphs), "
                    "flagged counts beside the heuristic's")
    ev.add_argument("--limit", type=int, help="--unseen: first N rows of each class of each source (a quick look)")
    ev.add_argument("--no-names", action="store_true", help="pii: the recognizers only, without the name model")
    ev.add_argument("--spacy", action="store_true",
                    help="pii: also with spaCy's en_core_web_sm as the name engine, printed beside ours (the spacy extra)")
    ev.add_argument("--names-model", help="pii: the name model folder (default: found like the NLI model, models/names)")
    ev.add_argument("--threshold", type=float, default=0.5, help="injection score threshold")
    ev.add_argument("--model", help="nli: exported model folder (default models/default)")
    ev.add_argument("--backend", default="onnx-int8", choices=["onnx-int8", "onnx-fp32", "onnx-fp16", "torch", "heuristic"])
    ev.set_defaults(func=_cmd_eval)

    ex = sub.add_parser("export", help="HF sequence-classification checkpoint -> ONNX fp32/int8/fp16 + manifest")
    ex.add_argument("--model", required=True, help="local checkpoint folder (config.json, weights, tokenizer)")
    ex.add_argument("--out", required=True)
    ex.add_argument("--int8", action="store_true", help="also int8 (8-bit weights, float activations: same scores in every runtime)")
    ex.add_argument("--fp16", action="store_true", help="also fp16 (for GPU hosts)")
    ex.add_argument("--max-length", type=int, default=256)
    ex.add_argument("--eval", help="JSONL rows to report accuracy on")
    ex.add_argument("--hypothesis", choices=("whole", "sentences"), default="whole",
                    help="score a hypothesis whole, or each sentence and keep the weakest (models trained on sentences)")
    ex.set_defaults(func=_cmd_export)

    tn = sub.add_parser("train", help="train the default NLI model (MiniLM-L6 + head) or the name model, then export it")
    tn.add_argument("what", nargs="?", choices=["nli", "ner"], default="nli",
                    help="nli: the claim-support model (default); ner: the name model of the detector")
    tn.add_argument("--out", help="where the exported model goes (default models/default, or models/names for ner)")
    tn.add_argument("--work", help="checkpoint and training files (default build/default-train or build/names-train)")
    tn.add_argument("--minutes", type=float, default=36.0,
                    help="safety stop for training (minutes, data preparation included); the step count is fixed, "
                    "and a run this stop cuts short warns")
    tn.add_argument("--seed", type=int, default=13)
    tn.add_argument("--keep-fp32", action="store_true", help="keep model_fp32.onnx in --out (not committed by default)")
    tn.set_defaults(func=_cmd_train)

    sv = sub.add_parser("serve", help="start the host (API + browser demo); no config = embedded defaults")
    sv.add_argument("--config", help="YAML config file (${ENV} and ${ENV:-default} are expanded)")
    sv.add_argument("--host", help="bind address (default from config: 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default from config: 8000)")
    sv.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    sv.set_defaults(func=_cmd_serve)

    bu = sub.add_parser("bundle", help="assemble the browser/Worker bundle (Pyodide, onnxruntime-web, kernel wheel, model, JS API, demo)")
    bu.add_argument("--out", help="output folder (default build/wasm-bundle)")
    bu.add_argument("--names", help="the name model folder (default: found like the model, models/names)")
    bu.add_argument("--model", help="exported model folder (default models/default)")
    bu.add_argument("--json", action="store_true")
    bu.set_defaults(func=_cmd_bundle)

    au = sub.add_parser("audit", help="audit log tools")
    au_sub = au.add_subparsers(dest="audit_command", metavar="ACTION")
    au_sub.required = True
    av = au_sub.add_parser("verify", help="check a hash-chained audit log; exit 1 on any edited/removed line")
    av.add_argument("file")
    av.add_argument("--key-env", help="environment variable holding audit.hmac_secret, for a keyed log")
    av.set_defaults(func=_cmd_audit)

    b = sub.add_parser("bench", help="benchmarks with side-by-side peers (numbers, not tests)")
    b.add_argument("what", choices=["kernel", "heuristic", "detector", "nli", "host", "edge", "proxy"],
                   help="kernel: µs/token vs Director-AI and in Pyodide; heuristic: balanced accuracy of the "
                   "model-free scorer; detector: MB/s vs Director-AI and Presidio; nli: ms/pair of the default model; "
                   "host: p50/p99 of transform and review at fixed rates over loopback; edge: the browser bundle "
                   "in Chromium (boot, kernel, onnxruntime-web ms/pair, mobile profile); proxy: what the OpenAI-compatible "
                   "proxy adds to a stream (time to first token, per chunk, hold-back) at 1 and 50 concurrent streams")
    b.add_argument("--delay-ms", type=float, default=20.0, help="proxy: the scripted LLM's milliseconds between chunks")
    b.add_argument("--no-mobile", action="store_true", help="edge: skip the mobile profile")
    b.add_argument("--seconds", type=float, default=10.0, help="host: seconds per rate step")
    b.add_argument("--json", action="store_true", help="one JSON object on one line")
    b.add_argument("--tokens", type=int, default=20000)
    b.add_argument("--runs", type=int, default=5)
    b.add_argument("--no-peers", action="store_true", help="skip Director-AI (no benchmark venv)")
    b.add_argument("--no-pyodide", action="store_true", help="skip the Pyodide-in-Node run")
    b.add_argument("--lengths", type=_int_list, metavar="N,N,…", help="nli: tokens per pair (default 128,256,512)")
    b.add_argument("--threads", type=_int_list, metavar="N,N,…", help="nli: onnxruntime thread counts (default 1,2)")
    b.add_argument("--no-dynamic", action="store_true",
                   help="nli: skip the dynamic int8 build (not shipped) timed beside the shipped model")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
