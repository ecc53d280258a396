"""Export + quantize + validate tiny random classifiers built in code (no downloads)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="models extra not installed")
transformers = pytest.importorskip("transformers")

from haltguard.models.export import export_model  # noqa: E402
from haltguard.models.scorer import OnnxNliScorer  # noqa: E402

WORDS = ("[PAD] [UNK] [CLS] [SEP] [MASK] the a cat dog sat on mat is in paris tower tall was built "
         "not no ##s ##ed . , 1 2 3 330 1889 eiffel river").split()
PAIRS = [("The cat sat on the mat.", "A cat is on the mat."), ("The tower is in Paris.", "The tower is not tall."),
         ("The dog was built in 1889.", "The dog is 330."), ("Eiffel tower, Paris.", "The river is tall.")] * 3


def _vocab(d):
    (d / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast(vocab_file=str(d / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(d)


def _tiny_bert(d):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, num_labels=2,
                     id2label={0: "contradiction", 1: "entailment"}, label2id={"contradiction": 0, "entailment": 1})
    BertForSequenceClassification(cfg).save_pretrained(d)
    _vocab(d)


def _tiny_deberta(d):
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    torch.manual_seed(0)
    cfg = DebertaV2Config(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=128, num_labels=3,
                          id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
                          label2id={"entailment": 0, "neutral": 1, "contradiction": 2}, type_vocab_size=0,
                          relative_attention=True, position_buckets=16, max_relative_positions=32,
                          pos_att_type=["p2c", "c2p"])
    DebertaV2ForSequenceClassification(cfg).save_pretrained(d)
    _vocab(d)


@pytest.mark.parametrize("build, supported", [(_tiny_bert, 1), (_tiny_deberta, 0)], ids=["bert", "deberta-v2"])
def test_export_quantize_validate(tmp_path, build, supported):
    src, out = tmp_path / "ckpt", tmp_path / "onnx"
    src.mkdir()
    build(src)
    rows = [{"premise": p, "hypothesis": h, "label": i % 2} for i, (p, h) in enumerate(PAIRS)]
    m = export_model(src, out, int8=True, fp16=True, max_length=32, calibration=PAIRS, eval_rows=rows)
    assert set(m["onnx"]) == {"fp32", "int8", "fp16"}
    assert m["supported_index"] == supported and m["opset"] >= 14
    v = m["validation"]
    assert v["fp32_vs_torch_max_abs_logit"] < 1e-4
    assert 0 <= v["int8_vs_fp32_max_abs_prob"] < 0.2 and 0.0 <= v["int8_vs_fp32_label_agreement"] <= 1.0
    assert v["fp16_vs_fp32_max_abs_prob"] < 0.01
    for name, info in m["files"].items():
        assert (out / name).stat().st_size == info["bytes"] and len(info["sha256"]) == 64
    assert m["tokenizer"]["kind"] == "wordpiece" and "vocab.txt" in m["tokenizer"]["files"]
    assert set(m["accuracy"]) == {"fp32", "int8"} and m["accuracy"]["int8"]["n"] == len(rows)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["files"] == m["files"]
    # the exported folder scores on its own, and int8 weights really are int8
    sc = OnnxNliScorer(out, "int8")
    p = sc.score("The cat sat on the mat.", "A cat is on the mat.")
    assert 0.0 <= p <= 1.0
    import onnx

    q = onnx.load(str(out / "model_int8.onnx"))
    ops = {n.op_type for n in q.graph.node}
    assert "MatMulNBits" in ops  # 8-bit weights ...
    assert not ops & {"DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul"}  # ... float activations
    assert {i.data_type for i in q.graph.initializer} & {onnx.TensorProto.INT8, onnx.TensorProto.UINT8}


def test_export_rejects_non_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        export_model(tmp_path, tmp_path / "out")
