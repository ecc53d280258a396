"""Deterministic benchmark streams shared by every runner (ours, Director-AI, Pyodide).

Standard library only and import-free of haltguard, because it is also executed in the
Director-AI benchmark venv and pasted into Pyodide.
"""

import random

WORDS = ("the model said that tower river paris data guard score halt stream token text "
         "claim fact source answer year city report value number people company").split()


def make_streams(n=20000, seed=7):
    """Tokens plus two score sequences: one that never halts and one that halts late."""
    rng = random.Random(seed)
    tokens = []
    for i in range(n):
        tokens.append(" " + rng.choice(WORDS) + ("." if i % 17 == 16 else ""))
    # Noise of +-0.04 around 0.86 keeps every rule quiet (max trend drop over 5 < 0.1).
    never = [0.82 + 0.08 * rng.random() for _ in range(n)]
    late = list(never)
    start = n - 300
    for i in range(start, n):  # a gradual slide: window mean crosses 0.55 near the end
        late[i] = max(0.0, 0.86 - 0.002 * (i - start))
    return tokens, {"never": never, "late": late}
