"""Python side of the haltguard worker (runs in Pyodide inside a module Web Worker or Node).

Everything here is glue: wire shapes come from ``haltguard.kernel.guard``, tokenisation from
the kernel's WordPiece, halting and judging from ``haltguard.kernel.driver``. Pair scores
come from JavaScript (onnxruntime-web, or the host's /v1/score) through the ``hg_js``
module the worker registers.
"""

import json

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.driver import DEFAULT_STREAM_HALT, ClaimStream
from haltguard.kernel.guard import detect_json, rehydrate_json, transform_json
from haltguard.kernel.tokenizer import WordPieceTokenizer
from haltguard.kernel.windows import (aggregate_plans, manifest_operating_point, pair_plan,
                                      penalise_unsupported_numbers, unique_pairs)

_state = {"tok": None, **manifest_operating_point({}), "streams": {}, "next": 0}


def setup(vocab_text, manifest_json):
    m = json.loads(manifest_json) if manifest_json else {}
    if vocab_text:
        lines = vocab_text.split("\n")  # not splitlines(): tokens may contain U+2028 & co.
        if lines and lines[-1] == "":
            lines.pop()
        _state["tok"] = WordPieceTokenizer.from_lines(lines)
    _state.update(manifest_operating_point(m))
    return json.dumps({"threshold": _state["threshold"], "max_length": _state["max_length"]})


def encode(pairs_json, max_length=0):
    """Pairs -> flat int ids/mask/type arrays padded to the longest, for onnxruntime-web."""
    tok = _state["tok"]
    pairs = json.loads(pairs_json)
    n = int(max_length) or _state["max_length"]
    encs = [tok.encode(p, h, max_length=n) for p, h in pairs]
    width = max(len(e.ids) for e in encs)
    ids, mask, types = [], [], []
    for e in encs:
        e.pad(width, tok.pad_id)
        ids += e.ids
        mask += e.attention_mask
        types += e.type_ids
    return json.dumps({"batch": len(encs), "length": width, "ids": ids, "mask": mask, "types": types})


async def _score(pairs):
    import hg_js  # registered by worker.mjs

    out = await hg_js.score(json.dumps(pairs))
    return list(out.to_py()) if hasattr(out, "to_py") else list(out)


async def score_planned(pairs_json):
    """Support per (premise, hypothesis) exactly as the host's /v1/score and `haltguard eval nli`
    give it: long premises windowed, hypothesis sentences apart and unsupported numbers
    penalised when the model's manifest asks for it."""
    tok = _state["tok"]
    count = lambda text: len(tok.tokenize_ids(text))  # noqa: E731
    items = [(p, h) for p, h in json.loads(pairs_json)]
    plans = [pair_plan(p, h, count, _state["max_length"], _state["hypothesis_mode"]) for p, h in items]
    flat = unique_pairs(plans)
    supports = aggregate_plans(plans, dict(zip(flat, await _score([list(pr) for pr in flat]))))
    return json.dumps(penalise_unsupported_numbers(supports, items, _state["number_penalty"]))


def detect(text, policy_json):
    return json.dumps(detect_json(text, json.loads(policy_json) if policy_json else None))


def transform(text, policy_json, session_json):
    from haltguard.kernel.pseudonymize import BlockedInput

    try:
        return json.dumps(transform_json(text, json.loads(policy_json) if policy_json else None,
                                         json.loads(session_json) if session_json else None))
    except BlockedInput as exc:
        return json.dumps({"error": {"code": "input_blocked", "types": sorted({f.type for f in exc.findings})}})


def rehydrate(output, session_json):
    return json.dumps(rehydrate_json(output, json.loads(session_json)))


def stream_start(context, halt_json):
    cfg = HaltConfig.from_dict(json.loads(halt_json) if halt_json else DEFAULT_STREAM_HALT)
    _state["next"] += 1
    sid = _state["next"]
    _state["streams"][sid] = ClaimStream(_score, _state["threshold"], context, cfg)
    return sid


async def stream_feed(sid, chunk):
    return json.dumps(await _state["streams"][sid].feed(chunk))


async def stream_end(sid):
    s = _state["streams"].pop(sid)
    return json.dumps(await s.end())
