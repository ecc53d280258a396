"""Director-AI's RegexPIIDetector (analyse) on the Presidio texts; run with the benchmark venv.

Prints {"mb_per_s": median, "backend": ..., "types": 8}.
"""

import json
import statistics
import sys
import time

from director_ai.core.safety.moderation.pii import RegexPIIDetector

texts = [r["full_text"] for r in json.load(open(sys.argv[1], encoding="utf-8"))]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
det = RegexPIIDetector()
speeds = []
for _ in range(runs):
    t0 = time.perf_counter()
    for t in texts:
        det.analyse(t)
    speeds.append(mb / (time.perf_counter() - t0))
print(json.dumps({"mb_per_s": statistics.median(speeds), "backend": det.backend, "types": 8}))
