"""The host side of a guarded stream: the kernel's ``ClaimStream`` fed by the scoring service."""

from __future__ import annotations

import re

from haltguard.host.engines import ScoringService
from haltguard.kernel.config import HaltConfig
from haltguard.kernel.driver import ClaimStream

__all__ = ["host_stream", "word_tokens"]


def word_tokens(text: str) -> list[str]:
    """Split a whole answer into the word-and-space tokens LLM streams usually deliver."""
    return re.findall(r"\s*\S+", text) + ([m] if (m := text[len(text.rstrip()):]) else [])


def host_stream(scoring: ScoringService, context: str, config: HaltConfig) -> ClaimStream:
    return ClaimStream(scoring.score, scoring.engine.threshold, context, config)
