"""`haltguard train`'s training loop on a tiny BERT: frozen layers stay put, runs are reproducible."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="models extra not installed")

from haltguard.models.train import train  # noqa: E402

from test_export import PAIRS, _tiny_bert  # noqa: E402  (tests/models is on sys.path under pytest)

OPTS = {"max_steps": 4, "batch_size": 8, "max_length": 32, "lr": 1e-3, "eval_every": 0.5, "select_dev": 8}


def _pairs():
    rows = [{"premise": p, "hypothesis": h, "label": i % 2, "source": "snli", "group": str(i)}
            for i, (p, h) in enumerate(PAIRS * 4)]
    return rows[:40], rows[40:]


def _weights(d):
    from transformers import BertForSequenceClassification

    return BertForSequenceClassification.from_pretrained(d).state_dict()


def test_train_freezes_the_lowest_layers_and_records_the_run(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    m = train(tmp_path / "run", base=base, pairs=_pairs(), freeze_layers=1, **OPTS)
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


def test_train_is_reproducible_with_a_seed(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    a = train(tmp_path / "a", base=base, pairs=_pairs(), freeze_layers=0, **OPTS)
    b = train(tmp_path / "b", base=base, pairs=_pairs(), freeze_layers=0, **OPTS)
    wa, wb = _weights(tmp_path / "a" / "checkpoint"), _weights(tmp_path / "b" / "checkpoint")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a["history"] == [{**h, "minutes": a["history"][i]["minutes"]} for i, h in enumerate(b["history"])]


def test_train_rejects_bad_options(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    _tiny_bert(base)
    with pytest.raises(ValueError, match="unknown training options"):
        train(tmp_path / "x", base=base, pairs=_pairs(), epochz=2)
    with pytest.raises(ValueError, match="freeze_layers=2 leaves none"):
        train(tmp_path / "x", base=base, pairs=_pairs(), freeze_layers=2, **OPTS)
