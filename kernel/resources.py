"""Where the model, the data and the browser bundle are: found the same way by every caller.

The host, ``haltguard eval``/``train``/``bundle``, the benchmarks and the Python API all ask
here, so an installed package and a source checkout behave alike and a missing piece is
reported with what to install instead of a silent fallback. The order is always:

1. an explicit argument (a config field, a ``--model`` flag);
2. the environment (``HALTGUARD_MODEL``, ``HALTGUARD_NAMES_MODEL``, ``HALTGUARD_DATA``, ``HALTGUARD_BUNDLE``);
3. an installed distribution (the ``haltguard-model-default`` wheel for the models);
4. the source checkout this module was imported from (development);
5. a :class:`ResourceMissing` error that says what to install or set.

Standard library only (it lives in the kernel, the bottom layer every other part may import);
in Pyodide the page hands the worker its files, so nothing here runs there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ResourceMissing", "DataMissing", "ModelLocation", "locate_model", "model_dir", "data_dir",
           "bundle_dir", "cache_dir", "checkout_root", "MODEL_PACKAGE", "ENV_MODEL", "ENV_DATA", "ENV_BUNDLE",
           "ENV_NAMES_MODEL"]

ENV_MODEL = "HALTGUARD_MODEL"
ENV_DATA = "HALTGUARD_DATA"
ENV_BUNDLE = "HALTGUARD_BUNDLE"
ENV_NAMES_MODEL = "HALTGUARD_NAMES_MODEL"
# the import name of the default model's own distribution (models/package/ builds it)
MODEL_PACKAGE = "haltguard_model_default"
_INSTALL_HINT = ("pip install 'haltguard[server]' (it brings the haltguard-model-default wheel), "
                 f"set {ENV_MODEL} to an exported model folder, or pass the folder explicitly")


class ResourceMissing(FileNotFoundError):
    """A model, data or bundle folder that is not where any lookup step expected it."""


class DataMissing(ResourceMissing):
    """The shared data folder (or one of its files) is not where it should be."""


@dataclass(frozen=True, slots=True)
class ModelLocation:
    """A model folder and which lookup step found it (``explicit``, ``env``, ``installed``, ``checkout``)."""

    path: Path
    source: str


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed package.

    Recognised by the design-card layout itself (the kernel's own build file next to the
    project's), never by the folder merely existing: an installed wheel's parent folder is
    site-packages, where ``models/default`` must not be looked up.
    """
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "kernel" / "pyproject.toml").is_file():
        return root
    return None


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _is_model(d: Path) -> bool:
    return (d / "manifest.json").is_file()


# what each kind of model is called: (environment variable, folder inside the model
# distribution, folder in the checkout, what builds one)
_KINDS = {
    "nli": (ENV_MODEL, "", "default", "haltguard export"),
    "names": (ENV_NAMES_MODEL, "names", "names", "haltguard train ner"),
}


def _installed_model(kind: str = "nli") -> Path | None:
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / _KINDS[kind][1]
    return d if _is_model(d) else None


def locate_model(explicit: str | os.PathLike[str] | None = None, *,
                 env: Mapping[str, str] | None = None, kind: str = "nli") -> ModelLocation:
    """The model folder (one with ``manifest.json``) and where it was found.

    ``kind``: ``nli`` (the claim-support model) or ``names`` (the name model of the detector).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    var, _, folder, builder = _KINDS[kind]
    if explicit is not None:
        d = Path(explicit)
        if not _is_model(d):
            raise ResourceMissing(f"model folder {d} has no manifest.json (build one with `{builder}`)")
        return ModelLocation(d, "explicit")
    given = _env(env).get(var)
    if given:
        d = Path(given)
        if not _is_model(d):
            raise ResourceMissing(f"{var}={given} has no manifest.json")
        return ModelLocation(d, "env")
    installed = _installed_model(kind)
    if installed is not None:
        return ModelLocation(installed, "installed")
    root = checkout_root()
    if root is not None and _is_model(root / "models" / folder):
        return ModelLocation(root / "models" / folder, "checkout")
    hint = _INSTALL_HINT.replace(ENV_MODEL, var)
    raise ResourceMissing(f"no {'name ' if kind == 'names' else ''}model found: {hint}")


def model_dir(explicit: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
              kind: str = "nli") -> Path:
    """The model folder only (see :func:`locate_model`)."""
    return locate_model(explicit, env=env, kind=kind).path


def data_dir(explicit: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Path:
    """The labelled data folder (``../shared/data`` beside a checkout, or ``HALTGUARD_DATA``).

    Data is never packaged: training and evaluation read it from where it lies.
    """
    given = explicit if explicit is not None else _env(env).get(ENV_DATA)
    if given:
        d = Path(given)
    else:
        root = checkout_root()
        d = root.parent / "shared" / "data" if root is not None else Path("shared") / "data"
    if not d.is_dir():
        raise DataMissing(f"data folder {d} not found; set {ENV_DATA} to the shared data folder")
    return d


def bundle_dir(explicit: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Path:
    """Where ``haltguard bundle`` writes the browser bundle and the host serves it from.

    A checkout keeps it in ``build/wasm-bundle``; an installed package in the user's cache
    (``$XDG_CACHE_HOME/haltguard/wasm-bundle``), so both commands agree without a flag.
    """
    e = _env(env)
    given = explicit if explicit is not None else e.get(ENV_BUNDLE)
    if given:
        return Path(given)
    root = checkout_root()
    if root is not None:
        return root / "build" / "wasm-bundle"
    return cache_dir(env=env) / "wasm-bundle"


def cache_dir(*, env: Mapping[str, str] | None = None) -> Path:
    """haltguard's folder in the user cache (``$XDG_CACHE_HOME/haltguard``, else ``~/.cache/haltguard``)."""
    return Path(_env(env).get("XDG_CACHE_HOME") or Path.home() / ".cache") / "haltguard"
