"""haltguard: guardrails for LLM applications."""
from haltguard.kernel._version import __version__

__all__ = ["__version__"]
