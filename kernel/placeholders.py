"""The ``{{type:n}}`` placeholder family: one pattern for pseudonymisation, rehydration and judging.

The pattern tolerates what LLMs do to placeholders (spaces, case, escaped braces). Judging
needs them neutral: ``{{email:1}}`` must never read as the number 1, nor as a name the facts
fail to mention, so ``neutralise`` turns each into its plain type word before a claim is scored.
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDER", "PLACEHOLDER_MAX_LEN", "MAX_TYPE", "MAX_INDEX", "neutralise", "has_placeholder"]

MAX_TYPE = 40
MAX_INDEX = 6
# a placeholder (damaged or not) is never longer than PLACEHOLDER_MAX_LEN characters.
PLACEHOLDER = re.compile(
    r"\\?\{ ?\\?\{ {0,2}([A-Za-z][A-Za-z0-9_]{0,%d}) {0,2}: {0,2}(\d{1,%d}) {0,2}\\?\} ?\\?\}" % (MAX_TYPE - 1, MAX_INDEX)
)
PLACEHOLDER_MAX_LEN = 2 + 1 + 2 + 2 + MAX_TYPE + 2 + 1 + 2 + MAX_INDEX + 2 + 2 + 1 + 2


def _word(m: re.Match[str]) -> str:
    return m.group(1).lower().replace("_", " ")


def neutralise(text: str) -> str:
    """``text`` with each placeholder replaced by its type word (``{{email:1}}`` -> ``email``)."""
    if "{" not in text:
        return text
    return PLACEHOLDER.sub(_word, text)


def has_placeholder(text: str) -> bool:
    return "{" in text and PLACEHOLDER.search(text) is not None
