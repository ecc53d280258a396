"""A canned answer streamed through the halt kernel with the heuristic scorer.

Kept in the kernel so the same demo runs on bare CPython, in Pyodide and from the CLI.
The answer starts grounded in the context, adds a weakly supported sentence (a soft
warning), then drifts: a wrong year and a claim the context never makes. Hold-back mode
means the wrong sentence is never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from haltguard.kernel.events import Event, HaltRecord
from haltguard.kernel.heuristic import DEFAULT_THRESHOLD, HeuristicScorer
from haltguard.kernel.presets import preset
from haltguard.kernel.stream import run_stream

__all__ = ["CONTEXT", "ANSWER", "DEMO_CONFIG", "demo_tokens", "run_demo"]

CONTEXT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower "
    "for the 1889 World's Fair. The tower is 330 metres tall and was the tallest man-made "
    "structure in the world until 1930. About seven million people visit it every year."
)
ANSWER = (
    "The Eiffel Tower stands on the Champ de Mars in Paris. "
    "It was built by the company of the engineer Gustave Eiffel for the World's Fair of 1889. "
    "The tower is 330 metres tall. "
    "Around seven million people visit it each year, and many climb to the top. "
    "It remained the tallest structure in the world until 1950. "
    "In 1925 it was moved to Berlin by order of Napoleon, who also painted it gold."
)

# The "strict" preset at the heuristic scorer's own threshold (0.28; contradictions score <= 0.15).
DEMO_CONFIG = preset("strict", DEFAULT_THRESHOLD)


def demo_tokens(text: str = ANSWER) -> list[str]:
    """Word-and-space tokens, the way LLM streams usually arrive."""
    from haltguard.kernel.driver import word_tokens

    return word_tokens(text)


def run_demo(on_event: Callable[[Event], Any] | None = None) -> HaltRecord:
    return run_stream(demo_tokens(), HeuristicScorer(CONTEXT), DEMO_CONFIG, on_event=on_event)
