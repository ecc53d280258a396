"""Presidio regex-only (AnalyzerEngine with a blank spaCy English model) on the same texts.

A blank model has no NER, so only Presidio's pattern recognizers fire; that is the
regex-to-regex comparison. Run with the benchmark venv. Prints {"mb_per_s": median, ...}.
"""

import json
import statistics
import sys
import time

import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import SpacyNlpEngine


class BlankEnglish(SpacyNlpEngine):
    def __init__(self):
        super().__init__(models=[{"lang_code": "en", "model_name": "blank"}])
        self.nlp = {"en": spacy.blank("en")}

    def load(self):
        pass


texts = [r["full_text"] for r in json.load(open(sys.argv[1], encoding="utf-8"))]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
engine = AnalyzerEngine(nlp_engine=BlankEnglish(), supported_languages=["en"])
speeds = []
for _ in range(runs):
    t0 = time.perf_counter()
    for t in texts:
        engine.analyze(t, language="en")
    speeds.append(mb / (time.perf_counter() - t0))
types = len(engine.get_supported_entities(language="en"))
print(json.dumps({"mb_per_s": statistics.median(speeds), "types": types}))
