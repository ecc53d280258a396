"""haltguard: guardrails for LLM applications.

``from haltguard import Guard`` is the Python API (``haltguard.guard``); it loads on first use,
so ``import haltguard`` stays cheap.
"""

from typing import Any

from haltguard.kernel._version import __version__

__all__ = ["__version__", "Guard"]


def __getattr__(name: str) -> Any:
    if name == "Guard":
        from haltguard.guard import Guard

        return Guard
    raise AttributeError(f"module 'haltguard' has no attribute {name!r}")
