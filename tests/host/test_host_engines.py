import asyncio
import threading

import pytest

from haltguard.host.config import ScorerConfig
from haltguard.host.engines import EngineLoadError, HeuristicEngine, ScoringService, TTLCache, cuda_available, load_engine
from haltguard.kernel.resources import model_dir
from haltguard.testing import run_coroutine as run


class CountingEngine(HeuristicEngine):
    def __init__(self):
        super().__init__()
        self.calls = []
        self.lock = threading.Lock()

    def score_pairs(self, pairs):
        with self.lock:
            self.calls.append(len(pairs))
        return super().score_pairs(pairs)


def test_micro_batching_groups_concurrent_requests_and_cache_hits():
    eng = CountingEngine()
    batches, hits = [], []

    async def go():
        svc = ScoringService(eng, ScorerConfig(max_batch=16, max_wait_ms=20), on_batch=batches.append, on_cache=hits.append)
        await svc.start()
        pairs = [(f"fact number {i}", f"claim {i}") for i in range(40)]
        out = await asyncio.gather(*(svc.score_pairs([p]) for p in pairs))
        again = await svc.score_pairs(pairs[:5])
        await svc.stop()
        return out, again

    out, again = run(go())
    assert sum(eng.calls) == 40 and max(eng.calls) == 16 and len(eng.calls) <= 4
    assert [o[0] for o in out[:5]] == again
    assert hits.count(True) == 5 and hits.count(False) == 40


def test_ttl_cache_expires_and_evicts():
    now = [0.0]
    c = TTLCache(2, 10, clock=lambda: now[0])
    k = [TTLCache.key("m", "p", str(i)) for i in range(3)]
    c.put(k[0], 0.1)
    c.put(k[1], 0.2)
    c.put(k[2], 0.3)
    assert c.get(k[0]) is None and c.get(k[2]) == 0.3
    now[0] = 11
    assert c.get(k[2]) is None
    assert TTLCache.key("m", "ab", "c") != TTLCache.key("m", "a", "bc")


def test_engine_failure_raises_unless_the_fallback_is_configured(tmp_path):
    with pytest.raises(EngineLoadError, match="cannot load .*manifest.json.*scorer.fallback: heuristic") as err:
        load_engine(ScorerConfig(model_dir=str(tmp_path)))
    assert "\n" not in str(err.value)  # one line
    (tmp_path / "manifest.json").write_text("{}")  # a manifest, but no model file: fails in onnxruntime
    with pytest.raises(EngineLoadError, match="failed to load"):
        load_engine(ScorerConfig(model_dir=str(tmp_path)))
    got = load_engine(ScorerConfig(model_dir=str(tmp_path), fallback="heuristic"))
    assert got.engine.model_id == "heuristic:1" and "failed to load" in got.fallback_reason


def test_onnx_engine_matches_models_scorer():
    from haltguard.models.scorer import OnnxNliScorer

    got = load_engine(ScorerConfig())
    eng = got.engine
    assert got.fallback_reason is None and eng.description["engine"] == "onnx" and got.model_source == "checkout"
    ref = OnnxNliScorer(model_dir())
    pairs = [("The cat sat on the mat.", "A cat is on a mat."), ("Paris is in France.", "Paris is in Spain.")]
    assert eng.score_pairs(pairs) == pytest.approx(ref.score_pairs(pairs), abs=1e-6)


def test_service_scores_like_the_models_scorer():
    """The host's /v1/score path and `haltguard eval nli` give the same support for long pairs."""
    from haltguard.models.scorer import OnnxNliScorer

    eng = load_engine(ScorerConfig()).engine
    ref = OnnxNliScorer(model_dir())
    premise = " ".join(f"In {1900 + i} the town of Arlen built bridge number {i} over the river." for i in range(40))
    pairs = [(premise, "In 1903 the town built bridge number 3. In 1937 it built bridge number 37."),
             (premise, "In 1903 the town built bridge number 3. In 1937 it built a tunnel instead."),
             (premise, "In 1903 the town built bridge number 93."),  # a number the premise never states
             ("Paris is in France.", "Paris is in Spain.")]

    async def go():
        svc = ScoringService(eng, ScorerConfig())
        await svc.start()
        out = await svc.score_documents(pairs), [j.model_support for j in await svc.documents.ajudge(pairs, svc.score_pairs)]
        await svc.stop()
        return out

    assert len(ScoringService(eng, ScorerConfig()).documents.plan(*pairs[0])[0]) > 1  # the premise really is windowed
    docs, plain = run(go())
    assert docs == pytest.approx(ref.score_many(pairs), abs=1e-6)
    # the manifest's number penalty lowers exactly the pair with the invented number
    assert eng.point == ref.point
    lowered = [i for i, (a, b) in enumerate(zip(docs, plain)) if a < b - 1e-9]
    assert lowered == ([2] if eng.point.number_penalty else [])


def test_torch_engine_takes_the_release_operating_point_from_the_manifest(tmp_path):
    pytest.importorskip("torch")
    import json

    from transformers import BertConfig, BertForSequenceClassification

    from haltguard.host.engines import TorchEngine

    cfg = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                     max_position_embeddings=128, num_labels=2)
    BertForSequenceClassification(cfg).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(59)]))
    (tmp_path / "manifest.json").write_text(json.dumps({"threshold": 0.4, "max_length": 96, "hypothesis": "sentences",
                                                        "number_penalty": 1.5}))
    eng = TorchEngine(tmp_path, "cpu", "float32", None)
    assert (eng.threshold, eng.point.max_length, eng.point.number_penalty) == (0.4, 96, 1.5)
    plan = ScoringService(eng, ScorerConfig()).documents.plan("w1 w2.", "The dam is old. The river is wide.")
    assert len(plan) == 2  # one unit per hypothesis sentence
    assert TorchEngine(tmp_path, "cpu", "float32", 0.7).threshold == 0.7


def _ort_cuda() -> bool:
    import onnxruntime as ort

    return cuda_available() and "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(not _ort_cuda(), reason="needs CUDA and onnxruntime-gpu (GPU paths are optional; CI has no GPU)")
def test_cuda_engines_agree_with_cpu():
    from haltguard.host.engines import OnnxEngine

    cpu = load_engine(ScorerConfig(device="cpu")).engine
    gpu = OnnxEngine(model_dir(), "int8", "cuda", None, None)
    pairs = [("The cat sat on the mat.", "A cat is on a mat.")] * 8
    assert gpu.score_pairs(pairs) == pytest.approx(cpu.score_pairs(pairs), abs=1e-3)


def test_identical_pairs_in_flight_share_one_model_slot():
    eng = CountingEngine()

    async def go():
        svc = ScoringService(eng, ScorerConfig(max_batch=64, max_wait_ms=20))
        await svc.start()
        out = await asyncio.gather(*(svc.score_pairs([("same fact", "same claim")]) for _ in range(30)))
        await svc.stop()
        return out

    out = run(go())
    assert sum(eng.calls) == 1 and len({o[0] for o in out}) == 1
