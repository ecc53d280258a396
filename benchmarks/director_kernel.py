"""Director-AI's StreamingKernel on the shared streams; run with the benchmark venv's python.

Prints one JSON object: {"never": us_per_token, "late": us_per_token, "halted_at": {...}}.
"""

import json
import statistics
import sys
import time

from director_ai.core.runtime.streaming import StreamingKernel
from streams import make_streams


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tokens, seqs = make_streams(n)
    out = {"halted_at": {}}
    for name, scores in seqs.items():
        per_token = []
        for _ in range(runs):
            it = iter(scores)
            nxt = it.__next__
            k = StreamingKernel(hard_limit=0.5, window_size=10, window_threshold=0.55,
                                trend_window=5, trend_threshold=0.15, soft_limit=0.6)
            t0 = time.perf_counter()
            session = k.stream_tokens(tokens, lambda _text: nxt())
            dt = time.perf_counter() - t0
            used = len(session.tokens)
            per_token.append(dt / used * 1e6)
        out[name] = statistics.median(per_token)
        out["halted_at"][name] = session.halt_index if session.halted else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
