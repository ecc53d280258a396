"""Python side of the haltguard worker (runs in Pyodide inside a module Web Worker or Node).

Everything here is glue: wire shapes come from ``haltguard.kernel.guard``, tokenisation from
the kernel's WordPiece, scoring from the kernel's one scoring path (``kernel.scoring``, the
same as the host's), halting from ``haltguard.kernel.driver``. JavaScript only runs the ONNX
session (logits come back through the ``hg_js`` module the worker registers) or, without a
model, asks the host's ``/v1/score`` and ``/v1/review``, which judge the same way.
"""

import json
from typing import Any

from haltguard.kernel.claims import no_claim_reason
from haltguard.kernel.driver import ClaimStream
from haltguard.kernel.guard import detect_json, rehydrate_json, transform_json
from haltguard.kernel.ner import NerEncoder, decode, word_probabilities, word_spans
from haltguard.kernel.policy import Policy
from haltguard.kernel.presets import resolve_halt
from haltguard.kernel.scoring import DocumentScorer, OperatingPoint, no_claim, softmax_support
from haltguard.kernel.tokenizer import WordPieceTokenizer


class _State:
    """What one worker holds: the tokenizer, the scoring path at the model's operating point, streams."""

    def __init__(self) -> None:
        self.tok: Any = None
        self.docs: Any = None
        self.point = OperatingPoint()
        self.remote = False
        self.streams: dict[int, ClaimStream] = {}
        self.next = 0
        self.names: Any = None  # NerEncoder of the name model, when the page loaded one


_state = _State()


def setup(vocab_text, manifest_json):
    """On-device: the model's vocab and manifest (its operating point). Without a vocab the
    host judges (``remote``) and its manifest's threshold is the one that applies."""
    manifest = json.loads(manifest_json) if manifest_json else {}
    point = OperatingPoint.from_manifest(manifest)
    _state.point = point
    if vocab_text:
        lines = vocab_text.split("\n")  # not splitlines(): tokens may contain U+2028 & co.
        if lines and lines[-1] == "":
            lines.pop()
        tok = WordPieceTokenizer.from_lines(lines)
        _state.tok = tok
        _state.docs = DocumentScorer(lambda text: len(tok.tokenize_ids(text)), point)
        _state.remote = False
    else:
        _state.remote = True
    int8 = (manifest.get("onnx") or {}).get("int8")
    return json.dumps({"threshold": point.threshold, "max_length": point.max_length, "int8_file": int8})


def setup_names(vocab_text, manifest_json):
    """The name model's vocab and manifest; JS runs its ONNX session (``hg_js.name_logits``)."""
    manifest = json.loads(manifest_json)
    lines = vocab_text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    _state.names = NerEncoder(WordPieceTokenizer.from_lines(lines), int(manifest["max_length"]))
    return json.dumps({"int8_file": manifest["onnx"]["int8"], "labels": manifest["labels"]})


async def _names_in(text, policy):
    """The name model's entities of ``text`` (None when no name model runs here or the policy wants none):
    the kernel cuts and decodes, JS only runs the session, exactly as the host does."""
    if _state.names is None or not policy.uses_names:
        return None
    import hg_js

    spans = word_spans(text)
    chunks = _state.names.chunks(text, spans)
    if not chunks:
        return []
    logits = json.loads(await hg_js.name_logits(json.dumps([{"ids": list(c.ids), "heads": list(c.heads)} for c in chunks])))
    return decode(text, spans, word_probabilities(len(spans), chunks, logits))


def encode(pairs_json, max_length=0):
    """Pairs -> flat int ids/mask/type arrays padded to the longest, for onnxruntime-web."""
    tok = _state.tok
    pairs = json.loads(pairs_json)
    n = int(max_length) or _state.point.max_length
    encs = [tok.encode(p, h, max_length=n) for p, h in pairs]
    width = max(len(e.ids) for e in encs)
    ids, mask, types = [], [], []
    for e in encs:
        e.pad(width, tok.pad_id)
        ids += e.ids
        mask += e.attention_mask
        types += e.type_ids
    return json.dumps({"batch": len(encs), "length": width, "ids": ids, "mask": mask, "types": types})


def supports(logits_json):
    """P(supported) per row of model logits (JS only runs the session)."""
    return json.dumps(softmax_support(json.loads(logits_json), _state.point.supported_index))


async def _model_pairs(pairs):
    import hg_js  # registered by worker.mjs: runs the ONNX session, answers logits as JSON

    rows = json.loads(await hg_js.logits(json.dumps([list(p) for p in pairs])))
    return softmax_support(rows, _state.point.supported_index)


async def score_planned(pairs_json):
    """Support per (premise, hypothesis) exactly as the host's /v1/score and `haltguard eval nli` give it."""
    items = [(p, h) for p, h in json.loads(pairs_json)]
    return json.dumps(await _state.docs.ascore(items, _model_pairs))


async def _remote_judge(context, sentence):
    """The host's /v1/review of one sentence; chit-chat is told apart here by the same kernel rule
    (no round trip), and the host's own no_claim parts never count."""
    import hg_js

    reason = no_claim_reason(sentence)
    if reason is not None:
        return no_claim(sentence, reason)
    review = json.loads(await hg_js.review(json.dumps({"response": sentence, "context": context})))
    claims = review.get("claims") or []
    judged = [c for c in claims if c.get("support") is not None]
    if not judged:  # the host found only chit-chat in it
        return no_claim(sentence, next((c.get("reason") for c in claims if c.get("reason")), None))
    return {**min(judged, key=lambda c: c["support"]), "sentence": sentence}


_DEFAULT_POLICY = Policy()


def _policy(policy_json):
    return Policy.from_dict(json.loads(policy_json)) if policy_json else _DEFAULT_POLICY


async def detect(text, policy_json):
    policy = _policy(policy_json)
    return json.dumps(detect_json(text, policy, await _names_in(text, policy)))


async def transform(text, policy_json, session_json):
    from haltguard.kernel.pseudonymize import BlockedInput

    policy = _policy(policy_json)
    try:
        return json.dumps(transform_json(text, policy, json.loads(session_json) if session_json else None,
                                         await _names_in(text, policy)))
    except BlockedInput as exc:
        return json.dumps({"error": {"code": "input_blocked", "types": sorted({f.type for f in exc.findings})}})


def rehydrate(output, session_json):
    return json.dumps(rehydrate_json(output, json.loads(session_json)))


def stream_start(context, halt_json):
    """``halt_json``: a preset name, a HaltConfig dict, ``{"preset": ..., ...}`` or empty (the default preset)."""
    cfg = resolve_halt(json.loads(halt_json) if halt_json else None, threshold=_state.point.threshold)
    judge = _remote_judge if _state.remote else _state.docs.claim_judge(_model_pairs)
    _state.next += 1
    sid = _state.next
    _state.streams[sid] = ClaimStream(judge, context, cfg)
    return sid


async def stream_feed(sid, chunk):
    return json.dumps(await _state.streams[sid].feed(chunk))


async def stream_end(sid):
    s = _state.streams.pop(sid)
    return json.dumps(await s.end())
