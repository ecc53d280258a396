from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from haltguard.kernel.resources import model_dir
from haltguard.models.evaluate import auc, eval_nli, evaluate_scores, load_rows

DEFAULT_MODEL_DIR = model_dir()

BIN = Path(sys.executable).parent / "haltguard"


def test_auc_and_metrics():
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auc([0.5, 0.5], [0, 1]) == 0.5
    assert auc([0.2], [1]) is None
    m = evaluate_scores([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], 0.5)
    assert m["confusion"] == {"tp": 1, "fp": 1, "tn": 1, "fn": 1}
    assert m["balanced_accuracy"] == 50.0 and m["accuracy"] == 50.0 and m["n"] == 4


def test_load_rows_errors(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"premise": "a", "hypothesis": "b", "label": 2}\n')
    with pytest.raises(ValueError, match="label"):
        load_rows(f)
    f.write_text('{"premise": "a"}\n')
    with pytest.raises(ValueError, match="premise and hypothesis"):
        load_rows(f)
    f.write_text("not json\n")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_rows(f)


ROWS = [
    {"premise": "The Eiffel Tower is in Paris and is 330 metres tall.", "hypothesis": "The tower is 330 metres tall.", "label": 1},
    {"premise": "The Eiffel Tower is in Paris and is 330 metres tall.", "hypothesis": "The tower is 300 metres tall.", "label": 0},
    {"premise": "A man is playing a guitar on stage.", "hypothesis": "A man plays an instrument.", "label": 1},
    {"premise": "A man is playing a guitar on stage.", "hypothesis": "A woman is swimming in a lake.", "label": 0},
]


def test_eval_heuristic_backend(tmp_path):
    f = tmp_path / "rows.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = eval_nli(f, backend="heuristic")
    assert out["number_penalty"] == 0.0  # the heuristic weighs numbers itself
    assert out["n"] == 4 and out["backend"] == "heuristic" and out["confusion"]["tp"] + out["confusion"]["fn"] == 2


shipped = pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "manifest.json").exists(), reason="default model not built")


@shipped
def test_default_model_manifest_and_files():
    import hashlib

    m = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    assert m["onnx"]["int8"] == "model_int8.onnx" and m["supported_index"] == 1
    for name, info in m["files"].items():
        data = (DEFAULT_MODEL_DIR / name).read_bytes()
        assert len(data) == info["bytes"] and hashlib.sha256(data).hexdigest() == info["sha256"], name
    assert (DEFAULT_MODEL_DIR / "model_int8.onnx").stat().st_size < 25 * 1024 * 1024
    from haltguard.models.release import model_card

    # the card is the manifest's figures in words: an edit to either alone shows here
    assert (DEFAULT_MODEL_DIR / "README.md").read_text() == model_card(m)


@shipped
def test_default_model_separates_supported_from_unsupported(tmp_path):
    f = tmp_path / "rows.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    proc = subprocess.run([str(BIN), "eval", "nli", "--data", str(f)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["backend"] == "onnx-int8" and out["n"] == 4 and out["threshold"] > 0
    assert out["number_penalty"] == json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text()).get("number_penalty", 0.0)
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(DEFAULT_MODEL_DIR, "int8")
    good = sc.score(ROWS[0]["premise"], ROWS[0]["hypothesis"])
    bad = sc.score(ROWS[3]["premise"], ROWS[3]["hypothesis"])
    assert good > bad


@shipped
def test_long_premises_are_chunked_not_cut():
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(DEFAULT_MODEL_DIR, "int8", max_length=64)
    filler = " ".join(f"Sentence number {i} talks about something unrelated to towers." for i in range(40))
    premise = filler + " The Eiffel Tower is 330 metres tall."
    from haltguard.kernel.windows import premise_chunks

    chunks = premise_chunks(premise, "The tower is 330 metres tall.", sc.count_tokens, 64)
    assert len(chunks) > 5 and "330 metres" in chunks[-1]
    assert all(sc.count_tokens(c) <= 64 for c in chunks)
    # the supporting sentence sits far beyond the window, yet it is scored: the score is the
    # maximum over all windows, the last of which holds it (a truncating scorer never sees it)
    h = "The tower is 330 metres tall."
    per_chunk = sc.score_pairs([(c, h) for c in chunks])
    assert sc.score(premise, h) == pytest.approx(max(per_chunk), abs=1e-9)
    assert sc.score_pairs([(chunks[-1], h)])[0] == pytest.approx(per_chunk[-1], abs=1e-6)


def test_batches_group_pairs_by_length_and_scores_keep_their_order():
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(DEFAULT_MODEL_DIR, "int8")
    # ordinary unrelated sentences: a filler of twelve near-identical sentences that all mention
    # towers ("Sentence 3 says nothing about towers.") leaves both shipped models at chance on
    # the pair it hides, so it tested luck rather than the order of the scores
    long = "It rained all morning. The market opened late. Many visitors came by train. " * 3
    pairs = [(long + "The Eiffel Tower is in Paris.", "The tower is in Paris."),
             ("A man is playing a guitar.", "A man plays music."),
             (long, "The tower is in Rome."),
             ("A man is playing a guitar.", "A woman is asleep."),
             ("The cat sat on the mat.", "A cat is on the mat.")]
    widths: list[int] = []
    logits = sc.logits

    def padded_width(batch):
        widths.append(sc.encode_batch(batch)["input_ids"].shape[1])
        return logits(batch)

    sc.logits = padded_width  # type: ignore[method-assign]
    batched = sc.score_pairs(pairs, batch_size=2)
    batch_widths = list(widths)
    assert len(batch_widths) == 3
    alone = [sc.score_pairs([p], batch_size=1)[0] for p in pairs]
    assert batched == pytest.approx(alone, abs=1e-5)
    assert alone[1] > 0.5 > alone[3] and alone[0] > alone[2]
    assert batch_widths == sorted(batch_widths) and batch_widths[0] < batch_widths[-1]  # short pairs are not padded to the long ones


@shipped
def test_cpu_host_expands_weight_only_int8_to_the_same_scores():
    from haltguard.models.scorer import OnnxNliScorer

    pairs = [("The Eiffel Tower is in Paris.", "The tower is in Paris."),
             (" ".join(["Filler words about nothing."] * 60), "The tower is tall.")]
    plain = OnnxNliScorer(DEFAULT_MODEL_DIR, "int8", expand_weights=False)
    expanded = OnnxNliScorer(DEFAULT_MODEL_DIR, "int8")
    assert expanded.expanded and not plain.expanded
    import onnx

    from haltguard.models.scorer import dequantize_weight_only

    ops = {n.op_type for n in onnx.load_from_string(dequantize_weight_only(DEFAULT_MODEL_DIR / "model_int8.onnx")).graph.node}
    assert "MatMulNBits" not in ops and "MatMul" in ops
    a, b = plain.score_pairs(pairs), expanded.score_pairs(pairs)
    assert max(abs(x - y) for x, y in zip(a, b)) <= 1e-5


def test_torch_backend_scores_at_the_manifest_operating_point(tmp_path):
    pytest.importorskip("torch")
    from test_export import _tiny_bert  # tests/models is on sys.path under pytest

    from haltguard.models.evaluate import make_scorer

    _tiny_bert(tmp_path / "checkpoint")
    (tmp_path / "manifest.json").write_text(json.dumps({"threshold": 0.42, "max_length": 48, "hypothesis": "sentences",
                                                       "number_penalty": 1.0}))
    sc = make_scorer(tmp_path, "torch")
    assert (sc.threshold, sc.max_length, sc.hypothesis_mode, sc.number_penalty) == (0.42, 48, "sentences", 1.0)
    premise = "the cat sat on the mat . " * 3
    _, invented = sc.score_many([(premise, "the cat sat ."), (premise, "the cat sat 3 .")])
    sc.set_point(sc.point.replace(number_penalty=0.0))
    assert sc.score_many([(premise, "the cat sat 3 .")])[0] > invented


def test_torch_backend_without_weights_says_where_they_come_from(tmp_path):
    # the committed default model is int8 ONNX only
    f = tmp_path / "rows.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    r = subprocess.run([str(BIN), "eval", "nli", "--data", str(f), "--backend", "torch"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "has no PyTorch weights" in r.stderr and "--keep-fp32" in r.stderr and "onnx-fp32" in r.stderr
