"""Standard-library-only core: runs on CPython and inside Pyodide."""
from haltguard.kernel._version import __version__
