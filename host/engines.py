"""Scoring engines (ONNX Runtime, PyTorch, heuristic) behind one async service.

An engine only scores token pairs: the ONNX and PyTorch engines wrap
``haltguard.models.scorer`` (the tokenisation export validation and ``haltguard eval nli``
use), the heuristic engine the kernel's lexical score. Planning windows, aggregating and the
number penalty are the kernel's one scoring path (``haltguard.kernel.scoring``) at the
engine's operating point, so ``/v1/score``, ``/v1/review``, streams and the browser agree.
``ScoringService`` adds what a server needs: an LRU+TTL cache keyed by hashes of (model id,
premise, hypothesis), and a micro-batching queue so concurrent requests share one forward
pass. The model runs on one worker thread, so the event loop never blocks.

A configured engine that cannot load is an error (``EngineLoadError``), never a silent
downgrade: the heuristic stands in only when the operator set ``scorer.fallback: heuristic``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from haltguard.host.config import ScorerConfig
from haltguard.kernel.resources import ResourceMissing, locate_model
from haltguard.kernel.scoring import DocumentScorer, OperatingPoint, Premises, count_words, heuristic_pair_scores, heuristic_point

__all__ = ["Engine", "OnnxEngine", "TorchEngine", "HeuristicEngine", "ScoringService", "TTLCache",
           "load_engine", "cuda_available", "EngineLoadError", "LoadedEngine"]

log = logging.getLogger("haltguard.host")
Pair = tuple[str, str]


class Engine(Protocol):
    model_id: str
    point: OperatingPoint  # threshold, window, number penalty: the model manifest's
    description: dict[str, Any]

    @property
    def threshold(self) -> float: ...
    def count_tokens(self, text: str) -> int: ...
    def score_pairs(self, pairs: Sequence[Pair]) -> list[float]: ...


class EngineLoadError(RuntimeError):
    """The configured engine cannot load; the message is one line saying why."""


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _model_id(model_dir: Path, variant: str) -> str:
    h = hashlib.sha256()
    manifest = model_dir / "manifest.json"
    if manifest.exists():
        h.update(manifest.read_bytes())
    h.update(variant.encode())
    return f"{model_dir.name}:{variant}:{h.hexdigest()[:12]}"


class OnnxEngine:
    def __init__(self, model_dir: Path, variant: str, device: str, threads: int | None, threshold: float | None) -> None:
        import onnxruntime as ort

        from haltguard.models.scorer import OnnxNliScorer

        providers = ["CPUExecutionProvider"]
        if device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        elif device == "cuda":
            raise RuntimeError("scorer.device is cuda but onnxruntime has no CUDAExecutionProvider")
        self._s = OnnxNliScorer(model_dir, variant, threads=threads, providers=providers)
        self.model_id = _model_id(model_dir, variant)
        self.point = self._s.point if threshold is None else self._s.point.replace(threshold=threshold)
        self.description = {"engine": "onnx", "variant": variant, "providers": self._s.session.get_providers(),
                            "model_dir": str(model_dir)}

    @property
    def threshold(self) -> float:
        return self.point.threshold

    def count_tokens(self, text: str) -> int:
        return self._s.count_tokens(text)

    def score_pairs(self, pairs: Sequence[Pair]) -> list[float]:
        return self._s.score_pairs(list(pairs), batch_size=max(1, len(pairs)))


class TorchEngine(OnnxEngine):
    def __init__(self, model_dir: Path, device: str, dtype: str, threshold: float | None) -> None:  # noqa: D107
        from haltguard.models.scorer import TorchNliScorer, operating_point

        dev = "cuda" if device in ("auto", "cuda") and cuda_available() else "cpu"
        if device == "cuda" and dev != "cuda":
            raise RuntimeError("scorer.device is cuda but CUDA is not available")
        if dtype == "float16" and dev == "cpu":
            raise RuntimeError("float16 needs CUDA; use float32 on CPU")
        # the int8 model's operating point of the same release: window, mode, number penalty, threshold
        point = operating_point(model_dir)
        if threshold is not None:
            point = point.replace(threshold=threshold)
        self._s = TorchNliScorer(model_dir, device=dev, dtype=dtype, point=point)  # type: ignore[assignment]
        self.model_id = _model_id(model_dir, f"torch-{dtype}")
        self.point = self._s.point
        self.description = {"engine": "torch", "device": dev, "dtype": dtype, "model_dir": str(model_dir)}


class HeuristicEngine:
    """Model-free scorer: the kernel's lexical support (never windowed, no number penalty on top)."""

    def __init__(self, threshold: float | None = None) -> None:
        self.model_id = "heuristic:1"
        self.point = heuristic_point(threshold)
        self.description = {"engine": "heuristic"}

    @property
    def threshold(self) -> float:
        return self.point.threshold

    def count_tokens(self, text: str) -> int:
        return count_words(text)

    def score_pairs(self, pairs: Sequence[Pair]) -> list[float]:
        return heuristic_pair_scores(pairs)


@dataclass(frozen=True)
class LoadedEngine:
    """An engine and, when it stands in for the configured one, why (``fallback_reason``)."""

    engine: Engine
    fallback_reason: str | None = None
    model_source: str | None = None  # which lookup step found the model (kernel.resources)


def load_engine(cfg: ScorerConfig, env: dict[str, str] | None = None) -> LoadedEngine:
    """The configured engine; the heuristic with the reason only when ``scorer.fallback`` is ``heuristic``."""
    if cfg.engine == "heuristic":
        return LoadedEngine(HeuristicEngine(cfg.threshold))
    where = cfg.model_dir or "the default model"
    try:
        loc = locate_model(cfg.model_dir, env=env)
        where = str(loc.path)
        if cfg.engine == "onnx":
            engine: Engine = OnnxEngine(loc.path, cfg.variant, cfg.device, cfg.threads, cfg.threshold)
        else:
            engine = TorchEngine(loc.path, cfg.device, cfg.dtype, cfg.threshold)
        return LoadedEngine(engine, None, loc.source)
    except (ImportError, ResourceMissing) as exc:
        reason = f"{cfg.engine} engine cannot load {where}: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - any load failure is reported in one line
        reason = f"{cfg.engine} engine failed to load {where}: {type(exc).__name__}: {exc}"
    reason = " ".join(reason.split())
    if cfg.fallback != "heuristic":
        raise EngineLoadError(reason + " (set scorer.fallback: heuristic to serve the model-free scorer instead)")
    log.error("%s; serving the heuristic scorer (scorer.fallback: heuristic)", reason)
    return LoadedEngine(HeuristicEngine(None), reason)


class TTLCache:
    """LRU with a time-to-live; keys are digests, so no text is kept as a key."""

    def __init__(self, size: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl_s, self._clock = size, ttl_s, clock
        self._d: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    @staticmethod
    def key(model_id: str, premise: str, hypothesis: str) -> bytes:
        h = hashlib.blake2b(digest_size=20)
        for part in (model_id, premise, hypothesis):
            b = part.encode("utf-8", "surrogatepass")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
        return h.digest()

    def get(self, k: bytes) -> float | None:
        hit = self._d.get(k)
        if hit is None:
            return None
        if hit[1] < self._clock():
            del self._d[k]
            return None
        self._d.move_to_end(k)
        return hit[0]

    def put(self, k: bytes, v: float) -> None:
        if self.size <= 0:
            return
        self._d[k] = (v, self._clock() + self.ttl_s)
        self._d.move_to_end(k)
        while len(self._d) > self.size:
            self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)


class ScoringService:
    """Cache + micro-batching in front of an engine. Create and use inside one event loop."""

    def __init__(self, engine: Engine, cfg: ScorerConfig, *,
                 on_batch: Callable[[int], None] | None = None,
                 on_cache: Callable[[bool], None] | None = None) -> None:
        self.engine = engine
        self.documents = DocumentScorer(engine.count_tokens, engine.point)
        self.max_batch, self.max_wait = cfg.max_batch, cfg.max_wait_ms / 1000.0
        self.cache = TTLCache(cfg.cache_size, cfg.cache_ttl_s)
        self._queue: asyncio.Queue[tuple[Pair, asyncio.Future[float]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haltguard-model")
        self._on_batch = on_batch or (lambda n: None)
        self._on_cache = on_cache or (lambda hit: None)
        self._inflight: dict[bytes, asyncio.Future[float]] = {}  # identical pairs in flight share one slot

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    while len(batch) < self.max_batch and not self._queue.empty():
                        batch.append(self._queue.get_nowait())
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            live = [(p, f) for p, f in batch if not f.done()]
            if not live:
                continue
            self._on_batch(len(live))
            try:
                scores = await loop.run_in_executor(self._pool, self.engine.score_pairs, [p for p, _ in live])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                for _, f in live:
                    if not f.done():
                        f.set_exception(exc)
                continue
            for (_, f), s in zip(live, scores):
                if not f.done():
                    f.set_result(float(s))

    async def score_pairs(self, pairs: Sequence[Pair]) -> list[float]:
        """P(supported) per token pair (no windows, no penalty): cached, micro-batched."""
        if self._queue is None:
            raise RuntimeError("ScoringService.start() was not awaited")
        out: list[float | None] = [None] * len(pairs)
        waits: list[tuple[int, bytes, asyncio.Future[float]]] = []
        loop = asyncio.get_running_loop()
        mid = self.engine.model_id
        for i, (p, h) in enumerate(pairs):
            k = TTLCache.key(mid, p, h)
            hit = self.cache.get(k)
            self._on_cache(hit is not None)
            if hit is not None:
                out[i] = hit
                continue
            fut = self._inflight.get(k)
            if fut is None:
                fut = loop.create_future()
                self._inflight[k] = fut
                fut.add_done_callback(functools.partial(self._settle, k))
                self._queue.put_nowait(((p, h), fut))
            waits.append((i, k, fut))
        for i, _k, fut in waits:
            out[i] = await asyncio.shield(fut)
        return [float(v) for v in out]  # type: ignore[arg-type]

    def _settle(self, k: bytes, fut: asyncio.Future[float]) -> None:
        self._inflight.pop(k, None)
        if not fut.cancelled() and fut.exception() is None:
            self.cache.put(k, fut.result())

    async def score_documents(self, items: Sequence[tuple[Premises, str]]) -> list[float]:
        """Support per (premise or premises, hypothesis): the kernel's one scoring path."""
        return await self.documents.ascore(items, self.score_pairs)
