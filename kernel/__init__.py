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
from haltguard.kernel.stream import Score, aguard_stream, arun_stream, guard_stream, run_stream

__all__ = [
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
    "guard_stream",
    "run_stream",
    "aguard_stream",
    "arun_stream",
]
