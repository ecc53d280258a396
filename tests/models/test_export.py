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


TEXTS = [t for pair in PAIRS[:4] for t in pair]


def _tiny_roberta(d):
    """RoBERTa with a byte-level BPE vocab trained here: cased, no token type ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(TEXTS * 5, trainers.BpeTrainer(vocab_size=120, special_tokens=specials,
                                                           initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bpe.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok = RobertaTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                               cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    tok.save_pretrained(d)
    torch.manual_seed(0)
    cfg = RobertaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=130, num_labels=3, pad_token_id=1,
                        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
                        label2id={"contradiction": 0, "neutral": 1, "entailment": 2})
    RobertaForSequenceClassification(cfg).save_pretrained(d)


def _tiny_deberta_v3(d):
    """DeBERTa-v3 as such checkpoints ship: a SentencePiece ``spm.model`` and no tokenizer.json."""
    import io

    import sentencepiece as spm  # in the models extra: no skip
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, DebertaV2Tokenizer

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(TEXTS * 20), model_writer=buf, vocab_size=60,
                                   model_type="unigram", pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]",
                                   bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]",
                                   user_defined_symbols=["[MASK]"], minloglevel=2, hard_vocab_limit=False)
    (d / "spm.model").write_bytes(buf.getvalue())
    tok = DebertaV2Tokenizer(vocab_file=str(d / "spm.model"))
    tok.save_pretrained(d)
    (d / "tokenizer.json").unlink(missing_ok=True)
    torch.manual_seed(0)
    cfg = DebertaV2Config(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=128, num_labels=2, type_vocab_size=0,
                          id2label={0: "entailment", 1: "not_entailment"},
                          label2id={"entailment": 0, "not_entailment": 1},
                          relative_attention=True, position_buckets=16, max_relative_positions=32,
                          pos_att_type=["p2c", "c2p"])
    DebertaV2ForSequenceClassification(cfg).save_pretrained(d)


@pytest.mark.parametrize("build, supported, kind", [(_tiny_roberta, 2, "bpe"), (_tiny_deberta_v3, 0, "unigram")],
                         ids=["roberta-bpe", "deberta-v3-spm"])
def test_export_models_with_their_own_tokenizer(tmp_path, build, supported, kind):
    """Cased BPE / SentencePiece models: exported, validated and scored with their own tokenizer."""
    from transformers import AutoTokenizer

    src, out = tmp_path / "ckpt", tmp_path / "onnx"
    src.mkdir()
    build(src)
    m = export_model(src, out, int8=True, max_length=32, calibration=PAIRS)
    assert m["supported_index"] == supported
    assert m["validation"]["fp32_vs_torch_max_abs_logit"] < 1e-4
    tok = m["tokenizer"]
    assert tok["kind"] == kind and tok["lowercase"] is False and tok["kernel"] is False and tok["kernel_mismatch"]
    assert "tokenizer.json" in tok["files"] and (out / "tokenizer.json").exists()  # written for spm-only checkpoints
    sc = OnnxNliScorer(out, "int8")
    assert sc._wp is None  # never the kernel's lower-casing WordPiece
    want = AutoTokenizer.from_pretrained(src)(TEXTS[0], TEXTS[1], truncation="longest_first", max_length=32)["input_ids"]
    assert len(want) == 32  # the window cuts this pair: truncation is checked too
    got = sc.encode_batch([(TEXTS[0], TEXTS[1])])["input_ids"][0].tolist()
    assert got == want
    assert 0.0 <= sc.score(*PAIRS[0]) <= 1.0


def test_cased_wordpiece_is_not_lowercased(tmp_path):
    """A cased BERT vocab keeps its case: the kernel's tokenizer (uncased only) must not take it."""
    from transformers import BertTokenizerFast

    from haltguard.models.scorer import kernel_tokenizer_mismatch

    src, out = tmp_path / "ckpt", tmp_path / "onnx"
    src.mkdir()
    _tiny_bert(src)
    words = WORDS + ["The", "Cat", "Paris", "Eiffel"]
    (src / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(vocab_file=str(src / "vocab.txt"), do_lower_case=False).save_pretrained(src)
    assert "cased" in kernel_tokenizer_mismatch(src)
    from transformers import BertConfig, BertForSequenceClassification

    cfg = BertConfig.from_pretrained(src)
    cfg.vocab_size = len(words)
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(src)
    m = export_model(src, out, int8=True, max_length=32, calibration=PAIRS)
    assert m["tokenizer"]["kind"] == "wordpiece" and m["tokenizer"]["lowercase"] is False
    assert m["tokenizer"]["kernel"] is False
    sc = OnnxNliScorer(out, "fp32")
    ids = sc.encode_batch([("The Cat", "the cat")])["input_ids"][0].tolist()
    cap, low = ids[1:3], ids[4:6]
    assert cap == [words.index("The"), words.index("Cat")] and low == [words.index("the"), words.index("cat")]


def test_uncased_wordpiece_goes_to_the_kernel(tmp_path):
    from haltguard.models.scorer import kernel_tokenizer_mismatch

    _tiny_bert(tmp_path)
    assert kernel_tokenizer_mismatch(tmp_path) is None
    (tmp_path / "tokenizer.json").unlink()  # tokenizer_config.json alone decides then
    assert kernel_tokenizer_mismatch(tmp_path) is None
    (tmp_path / "vocab.txt").write_text("<s>\n</s>\nthe\n")
    assert "lacks" in kernel_tokenizer_mismatch(tmp_path)


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
    assert m["tokenizer"]["lowercase"] is True and m["tokenizer"]["kernel"] is True
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
