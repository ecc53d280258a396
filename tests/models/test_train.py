"""`haltguard train`'s training loop on a tiny BERT: frozen layers stay put, runs are reproducible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="models extra not installed")

from test_export import PAIRS, _tiny_bert  # noqa: E402  (tests/models is on sys.path under pytest)

from haltguard.models.train import train  # noqa: E402

OPTS = {"max_steps": 4, "batch_size": 8, "max_length": 32, "lr": 1e-3, "eval_every": 0.5, "select_dev": 8}


def _pairs():
    rows = [{"premise": p, "hypothesis": h, "label": i % 2, "source": "snli", "group": str(i)}
            for i, (p, h) in enumerate(PAIRS * 4)]
    return rows[:40], rows[40:]


def _weights(d):
    from transformers import BertForSequenceClassification

    return BertForSequenceClassification.from_pretrained(d).state_dict()


@pytest.mark.parametrize("cache_frozen", [True, False], ids=["cached", "uncached"])
def test_train_freezes_the_lowest_layers_and_records_the_run(tmp_path, cache_frozen):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    m = train(tmp_path / "run", base=base, pairs=_pairs(), freeze_layers=1, cache_frozen=cache_frozen, **OPTS)
    before, after = _weights(base), _weights(tmp_path / "run" / "checkpoint")
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "nothing trained"
    assert not any(k.startswith(("bert.embeddings.", "bert.encoder.layer.0.")) for k in changed)
    assert any(k.startswith("bert.encoder.layer.1.") for k in changed)
    assert any(k.startswith("classifier.") for k in changed)
    assert m["steps"]["planned"] == 4 and m["steps"]["done"] == 4 and m["steps"]["best"] in {h["step"] for h in m["history"]}
    assert m["hyperparameters"]["freeze_layers"] == 1 and m["base_model"] == {"path": str(base)}
    assert 0.0 <= m["threshold"] <= 1.0
    on_disk = json.loads((tmp_path / "run" / "train_manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(m))
    dev = (tmp_path / "run" / "dev_pairs.jsonl").read_text().splitlines()
    assert len(dev) == len(_pairs()[1])


def test_cached_frozen_layers_give_the_full_models_logits(tmp_path):
    """The training shortcut (frozen layers once, then the trained ones) is the same network."""
    from transformers import AutoTokenizer, BertForSequenceClassification

    from haltguard.models.train import _collate, frozen_prefix, top_logits

    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    tok = AutoTokenizer.from_pretrained(base)
    model = BertForSequenceClassification.from_pretrained(base)
    torch.manual_seed(1)
    with torch.no_grad():  # larger weights than the 0.02 init, so padding and every layer show in the logits
        for n, w in model.named_parameters():
            if "LayerNorm" not in n:
                w.normal_(0, 0.3)
    pairs = PAIRS[:4]  # different lengths: the batch is padded
    e = tok([p for p, _ in pairs], [h for _, h in pairs], truncation=True, max_length=32)
    enc = [{k: e[k][i] for k in ("input_ids", "attention_mask", "token_type_ids")} for i in range(len(pairs))]
    assert len({len(x["input_ids"]) for x in enc}) > 1
    ids = list(range(len(enc)))
    a, m, t = _collate(enc, ids)
    model.eval()
    with torch.no_grad():
        full = model(input_ids=a, attention_mask=m, token_type_ids=t).logits
        assert (full.max(0).values - full.min(0).values).min() > 0.1
        for k in (0, 1):
            cache = frozen_prefix(model, enc, k)
            assert [c.shape[0] for c in cache] == [len(x["input_ids"]) for x in enc]
            top = top_logits(model, k, [cache[i] for i in ids], m)
            assert torch.allclose(full, top, atol=5e-3), (k, (full - top).abs().max())  # fp16 cache: ~5e-4
    assert not model.training


def test_train_is_reproducible_with_a_seed(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    a = train(tmp_path / "a", base=base, pairs=_pairs(), freeze_layers=0, **OPTS)
    b = train(tmp_path / "b", base=base, pairs=_pairs(), freeze_layers=0, **OPTS)
    wa, wb = _weights(tmp_path / "a" / "checkpoint"), _weights(tmp_path / "b" / "checkpoint")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a["history"] == [{**h, "minutes": a["history"][i]["minutes"]} for i, h in enumerate(b["history"])]


def test_bf16_precision_trains_under_autocast_and_keeps_float32_weights(tmp_path):
    """bf16 changes the arithmetic (so the weights differ from the fp32 run's), not the result's
    type, and a seeded bf16 run is as reproducible as an fp32 one."""
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    runs = {name: train(tmp_path / name, base=base, pairs=_pairs(), freeze_layers=0, precision=prec, **OPTS)
            for name, prec in (("fp32", "fp32"), ("bf16", "bf16"), ("bf16b", "bf16"))}
    w = {name: _weights(tmp_path / name / "checkpoint") for name in runs}
    before = _weights(base)
    assert runs["bf16"]["hyperparameters"]["precision"] == "bf16"
    assert all(v.dtype == torch.float32 for v in w["bf16"].values() if v.is_floating_point())
    assert any(not torch.equal(before[k], w["bf16"][k]) for k in before), "nothing trained"
    assert any(not torch.equal(w["fp32"][k], w["bf16"][k]) for k in before), "bf16 ran in float32"
    assert all(torch.equal(w["bf16"][k], w["bf16b"][k]) for k in before)


def test_tail_average_is_the_mean_of_the_weights_after_its_start_and_skips_frozen_ones():
    from haltguard.models.train import TailAverage

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    net[0].requires_grad_(False)
    frozen = net[0].weight.detach().clone()
    tail = TailAverage(net, start=1)
    tail.load_into(net)  # nothing averaged yet: untouched
    assert torch.equal(net[0].weight, frozen)
    for step, value in enumerate((5.0, 1.0, 2.0, 6.0), start=1):
        with torch.no_grad():
            net[1].weight.fill_(value)
            net[1].bias.fill_(-value)
        tail.update(step)
    assert tail.n == 3
    tail.load_into(net)
    assert torch.allclose(net[1].weight, torch.full_like(net[1].weight, 3.0))  # mean of steps 2-4
    assert torch.allclose(net[1].bias, torch.full_like(net[1].bias, -3.0))
    assert torch.equal(net[0].weight, frozen)


def test_train_with_tail_average_ships_the_mean_of_the_last_steps(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    plain = train(tmp_path / "plain", base=base, pairs=_pairs(), freeze_layers=1, tail_average=0.0, **OPTS)
    runs = {name: train(tmp_path / name, base=base, pairs=_pairs(), freeze_layers=1, **OPTS)  # the default: 0.5
            for name in ("tail", "tail2")}
    m = runs["tail"]
    assert plain["steps"]["averaged"] == 0
    assert m["steps"]["averaged"] == 2 and m["history"][-1]["averaged_steps"] == 2  # steps 3 and 4 of 4
    assert m["history"][:-1] == [{**h, "minutes": m["history"][i]["minutes"]} for i, h in enumerate(plain["history"])]
    before, w_plain = _weights(base), _weights(tmp_path / "plain" / "checkpoint")
    w_tail, w_tail2 = _weights(tmp_path / "tail" / "checkpoint"), _weights(tmp_path / "tail2" / "checkpoint")
    trained = [k for k in before if k.startswith(("bert.encoder.layer.1.", "classifier."))]
    assert any(not torch.equal(w_tail[k], w_plain[k]) for k in trained)
    assert all(torch.equal(w_tail[k], before[k]) for k in before if k.startswith(("bert.embeddings.", "bert.encoder.layer.0.")))
    assert all(torch.equal(w_tail[k], w_tail2[k]) for k in w_tail)


def test_a_run_cut_by_the_safety_stop_says_so(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    with pytest.warns(RuntimeWarning, match=r"safety stop after 1 of 4 planned steps: this model differs"):
        m = train(tmp_path / "cut", base=base, pairs=_pairs(), freeze_layers=1, **{**OPTS, "minutes": 0.0})
    assert m["steps"]["planned"] == 4 and m["steps"]["done"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a run of all its steps stays silent
        full = train(tmp_path / "full", base=base, pairs=_pairs(), freeze_layers=1, **OPTS)
    assert full["steps"]["done"] == 4


def test_train_rejects_bad_options(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    with pytest.raises(ValueError, match="unknown training options"):
        train(tmp_path / "x", base=base, pairs=_pairs(), epochz=2)
    with pytest.raises(ValueError, match="freeze_layers=2 leaves none"):
        train(tmp_path / "x", base=base, pairs=_pairs(), freeze_layers=2, **OPTS)
    with pytest.raises(ValueError, match="precision must be one of"):
        train(tmp_path / "x", base=base, pairs=_pairs(), precision="fp8", **OPTS)
    with pytest.raises(ValueError, match="tail_average must be in"):
        train(tmp_path / "x", base=base, pairs=_pairs(), tail_average=1.0, **OPTS)


def test_class_balance_weights_equalise_the_classes_within_each_source_family():
    from haltguard.models.train import class_balance_weights

    spec = ([("snli", 1)] * 3 + [("snli", 0)]                                     # 3:1 -> 2/3 and 2
            + [("synthetic_copy", 1)] * 2 + [("synthetic_entity", 0), ("synthetic_negation", 0)]  # one family, 2:2
            + [("summedits_news", 1), ("summedits_samsum", 0), ("summedits_samsum", 0), ("summedits_news", 0)]
            + [("qags", 1)] * 2)                                                  # one class only: unweighted
    rows = [{"source": s, "label": y} for s, y in spec]
    w = class_balance_weights(rows)
    assert w[:4] == [pytest.approx(2 / 3)] * 3 + [pytest.approx(2.0)]
    assert w[4:8] == [1.0] * 4 and w[-2:] == [1.0, 1.0]
    assert w[8] == pytest.approx(2.0) and w[9:12] == [pytest.approx(2 / 3)] * 3
    for fam in ("snli", "synthetic", "summedits"):
        ii = [i for i, r in enumerate(rows) if r["source"].split("_")[0] == fam]
        pos = sum(w[i] for i in ii if rows[i]["label"])
        neg = sum(w[i] for i in ii if not rows[i]["label"])
        assert pos == pytest.approx(neg) == pytest.approx(len(ii) / 2)
    assert sum(w) / len(w) == pytest.approx(1.0)


def test_balanced_loss_trains_each_source_towards_even_odds(tmp_path):
    # every pair is the same text, 3 of 4 labelled supported: the model can only learn the prior,
    # P(supported) -> 0.75 with the plain loss and -> 0.5 when the classes are balanced
    from transformers import AutoTokenizer, BertForSequenceClassification

    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    p, h = PAIRS[0]
    rows = [{"premise": p, "hypothesis": h, "label": int(i % 4 != 0), "source": "wice", "group": str(i)} for i in range(64)]
    opts = {**OPTS, "max_steps": 40, "lr": 1e-2, "eval_every": 1.0, "warmup": 0.0}
    support = {}
    for bal in (False, True):
        train(tmp_path / str(bal), base=base, pairs=(rows[:48], rows[48:]), balance_classes=bal, freeze_layers=1, **opts)
        ckpt = tmp_path / str(bal) / "checkpoint"
        model = BertForSequenceClassification.from_pretrained(ckpt).eval()
        with torch.no_grad():
            logits = model(**AutoTokenizer.from_pretrained(ckpt)(p, h, return_tensors="pt")).logits
        support[bal] = torch.softmax(logits, -1)[0, 1].item()
    assert support[False] == pytest.approx(0.75, abs=0.1)
    assert support[True] == pytest.approx(0.5, abs=0.1)


def test_haltguard_train_stops_on_a_set_up_fault_with_a_message_not_a_traceback(tmp_path, monkeypatch):
    import haltguard.models.train as tr
    from haltguard.cli import main

    env = {**os.environ, "HALTGUARD_DATA": str(tmp_path / "no-data")}
    out = subprocess.run([str(Path(sys.executable).parent / "haltguard"), "train", "--out", str(tmp_path / "out"),
                          "--work", str(tmp_path / "work")], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    want = f"haltguard: data folder {tmp_path / 'no-data'} not found; set HALTGUARD_DATA to the shared data folder"
    assert out.stderr.strip().endswith(want)
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(tr, "BASE_SHA256", "0" * 64)  # another encoder than the pinned one
    with pytest.raises(SystemExit, match=r"^haltguard: .*model\.safetensors has sha256 [0-9a-f]{64}, expected 0{64}"):
        main(["train", "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")])
    assert not (tmp_path / "out").exists()
