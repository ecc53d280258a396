"""haltguard.kernel: the part of haltguard that runs wherever the text is.

Standard library only, so the same code runs on CPython >= 3.11, in Pyodide (browser page,
module Web Worker, Node) and on embedded interpreters. The host, the model pipeline and
the browser bundle all build on these pieces instead of re-implementing them.
"""

from haltguard.kernel._version import __version__
from haltguard.kernel.config import (
    Cadence,
    ConfigError,
    FailOpen,
    HaltConfig,
    SoftMode,
    TrendRule,
    WindowRule,
)
from haltguard.kernel.events import Halt, HaltRecord, ReasonCode, Release, Warn, WarningCode
from haltguard.kernel.halt import HaltKernel, KernelStateError, ScoreView
from haltguard.kernel.heuristic import HeuristicScorer, heuristic_support, overlap_support
from haltguard.kernel.sentences import SentenceTracker, sentence_spans, split_sentences
from haltguard.kernel.stream import Score, Skip, aguard_stream, arun_stream, guard_stream, run_stream

# Heavier parts load on first use (PEP 562), so importing the kernel for the halt path stays
# cheap in Pyodide and on small devices.
_LAZY = {
    "Detector": "haltguard.kernel.detector",
    "Finding": "haltguard.kernel.detector",
    "Registry": "haltguard.kernel.detector",
    "detect": "haltguard.kernel.detector",
    "Recognizer": "haltguard.kernel.recognizers",
    "Policy": "haltguard.kernel.policy",
    "PolicyError": "haltguard.kernel.policy",
    "Session": "haltguard.kernel.pseudonymize",
    "transform": "haltguard.kernel.pseudonymize",
    "rehydrate": "haltguard.kernel.pseudonymize",
    "StreamingRehydrator": "haltguard.kernel.pseudonymize",
    "protect_output": "haltguard.kernel.pseudonymize",
    "BlockedInput": "haltguard.kernel.pseudonymize",
    "scan_prompt": "haltguard.kernel.injection",
    "WordPieceTokenizer": "haltguard.kernel.tokenizer",
    "ClaimStream": "haltguard.kernel.driver",
    "DocumentScorer": "haltguard.kernel.scoring",
    "OperatingPoint": "haltguard.kernel.scoring",
    "PRESET_NAMES": "haltguard.kernel.presets",
    "preset": "haltguard.kernel.presets",
    "resolve_halt": "haltguard.kernel.presets",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'haltguard.kernel' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    *_LAZY,
    "__version__",
    "Cadence",
    "ConfigError",
    "FailOpen",
    "HaltConfig",
    "SoftMode",
    "TrendRule",
    "WindowRule",
    "Halt",
    "HaltRecord",
    "ReasonCode",
    "Release",
    "Warn",
    "WarningCode",
    "HaltKernel",
    "KernelStateError",
    "ScoreView",
    "HeuristicScorer",
    "heuristic_support",
    "overlap_support",
    "SentenceTracker",
    "sentence_spans",
    "split_sentences",
    "Score",
    "Skip",
    "guard_stream",
    "run_stream",
    "aguard_stream",
    "arun_stream",
]
