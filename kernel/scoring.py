"""The one scoring path: a model's operating point, and "plan → unique pairs → score → aggregate → penalties".

Every caller that turns text into a support score goes through :class:`DocumentScorer`: the
host's ``/v1/score``, ``/v1/review`` and WebSocket streams, ``haltguard eval nli``, the model
release, the Python API and the browser worker. They differ only in the callable that scores
token pairs (onnxruntime, PyTorch, onnxruntime-web, the heuristic), so the same sentence gets
the same number on every path. The pieces (premise windows, hypothesis units, the number
penalty) are ``haltguard.kernel.windows``; the operating point they run at is read from the
model's manifest here and nowhere else.

Support of a hypothesis against one or more premises: placeholders (``{{email:1}}``) become
their type word on both sides; each hypothesis unit (the whole text, or each sentence when the
manifest says ``"hypothesis": "sentences"``) takes its best window over the ``max_windows``
windows of all premises most relevant to it (bounded work at any context size); the weakest
unit counts; then ``number_penalty`` logits come off per number the hypothesis states and no
premise does. A claim is ``supported`` at or above the
threshold, ``contradicted`` below it when it states such numbers, else ``unsupported``. A
contradicted claim's support is capped at ``CONTRADICTION_CAP``: a changed figure is
categorical, and a halting stream must stop on it, not merely warn. The cap only lowers
supports already below the threshold, so no decision at the operating point changes.
Sentences that make no claim (``kernel.claims``) are not scored at all (``no_claim``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haltguard.kernel.claims import no_claim_reason
from haltguard.kernel.heuristic import CONTRADICTION_CAP, unsupported_numbers
from haltguard.kernel.placeholders import neutralise
from haltguard.kernel.windows import (
    HYPOTHESIS_MODES,
    NUMBERS_COUNTED,
    apply_number_penalty,
    hypothesis_units,
    premise_chunk_spans,
    rank_passages,
)

__all__ = ["OperatingPoint", "read_manifest", "DocumentScorer", "Judgement", "Pair", "Premises", "SyncPairScorer",
           "AsyncPairScorer", "ClaimJudge", "verdict_of", "softmax_support", "CONTRADICTION_CAP", "heuristic_pair_scores",
           "heuristic_document_scorer", "heuristic_point", "count_words", "no_claim", "review_summary", "TooMuchWork"]

Pair = tuple[str, str]
Premises = str | Sequence[str]
SyncPairScorer = Callable[[Sequence[Pair]], Sequence[float]]
AsyncPairScorer = Callable[[Sequence[Pair]], Awaitable[Sequence[float]]]
# (context, sentence) -> the claim's wire shape (see ``DocumentScorer.claim``)
ClaimJudge = Callable[[str, str], Awaitable[dict[str, Any]]]
# token counts memoised per scorer: a stream judges many claims against one long context
_COUNT_MEMO = 8192


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """How a release scores: chosen together on dev data, so every scorer of it must use all of it."""

    max_length: int = 256
    threshold: float = 0.5
    hypothesis_mode: str = "whole"
    number_penalty: float = 0.0
    supported_index: int = 1
    # model pairs per claim, whatever the context's size: the most relevant windows (rank_passages)
    max_windows: int = 4

    def __post_init__(self) -> None:
        if self.hypothesis_mode not in HYPOTHESIS_MODES:
            raise ValueError(f"hypothesis mode must be one of {HYPOTHESIS_MODES}, not {self.hypothesis_mode!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], not {self.threshold}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be >= 8, not {self.max_length}")
        if self.max_windows < 1:
            raise ValueError(f"max_windows must be >= 1, not {self.max_windows}")

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> OperatingPoint:
        """The manifest's fields (``max_length``, ``threshold``, ``hypothesis``, ``number_penalty``,
        ``supported_index``); defaults where it has none."""
        return cls(max_length=int(manifest.get("max_length", 256)), threshold=float(manifest.get("threshold", 0.5)),
                   hypothesis_mode=str(manifest.get("hypothesis", "whole")),
                   number_penalty=float(manifest.get("number_penalty", 0.0)),
                   supported_index=int(manifest.get("supported_index", 1)),
                   max_windows=int(manifest.get("max_windows", 4)))

    def replace(self, **changes: Any) -> OperatingPoint:
        return dataclasses.replace(self, **changes)


def read_manifest(model_dir: str | Path) -> dict[str, Any]:
    """``model_dir/manifest.json`` as a dict: the one place a model manifest is parsed."""
    path = Path(model_dir) / "manifest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: export the model with `haltguard export` first") from None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def softmax_support(logits: Sequence[Sequence[float]], supported_index: int) -> list[float]:
    """P(supported) per row of logits (pure Python: the browser worker and tests use it as is)."""
    out = []
    for row in logits:
        m = max(row)
        e = [math.exp(z - m) for z in row]
        out.append(e[supported_index] / sum(e))
    return out


@dataclass(frozen=True, slots=True)
class Judgement:
    """Support of one hypothesis, and what decided it."""

    support: float
    model_support: float  # before the number penalty
    premise_index: int  # which premise held the deciding window (-1: none)
    window: str  # the deciding window: the weakest unit's best
    window_support: float
    numbers: tuple[str, ...] = field(default_factory=tuple)  # stated by the hypothesis, by no premise
    window_start: int = 0  # the deciding window's offsets in its premise
    window_end: int = 0


def verdict_of(j: Judgement, threshold: float) -> str:
    if j.support >= threshold:
        return "supported"
    return "contradicted" if j.numbers else "unsupported"


@dataclass(slots=True)
class _Plan:
    premises: tuple[str, ...]  # as given (evidence offsets point into these)
    judged: tuple[str, ...]  # what the number check reads: premises with placeholders neutralised
    hypothesis: str  # neutralised
    units: list[list[tuple[int, int, int, Pair]]]  # per unit: (premise index, start, end, (window, unit))


class DocumentScorer:
    """Plans, aggregates and penalises at one operating point; the caller supplies pair scores.

    ``count_tokens`` is the model's tokenizer length (windows must fit its ``max_length``); a
    model-free scorer passes a word count and a very large ``max_length``.
    """

    def __init__(self, count_tokens: Callable[[str], int], point: OperatingPoint) -> None:
        self.point = point
        self._count = count_tokens
        self._memo: dict[str, int] = {}

    def count_tokens(self, text: str) -> int:
        n = self._memo.get(text)
        if n is None:
            n = self._count(text)
            if len(self._memo) >= _COUNT_MEMO:
                self._memo.clear()
            self._memo[text] = n
        return n

    # --- plan ------------------------------------------------------------------------------
    def plan(self, premises: Premises, hypothesis: str, mode: str | None = None) -> list[list[Pair]]:
        """For each hypothesis unit, the (window, unit) pairs the model scores (the selected evidence)."""
        return [[pr for *_, pr in unit] for unit in self._plan(premises, hypothesis, mode).units]

    def _plan(self, premises: Premises, hypothesis: str, mode: str | None) -> _Plan:
        ps = (premises,) if isinstance(premises, str) else tuple(premises)
        # placeholders ({{email:1}}) are their type word: never a number, never a name to contradict
        hypothesis = neutralise(hypothesis)
        units = []
        texts = hypothesis_units(hypothesis, mode or self.point.hypothesis_mode)
        per_unit = max(1, self.point.max_windows // len(texts))
        for u in texts:
            cands = [(i, a, b) for i, p in enumerate(ps)
                     for a, b in premise_chunk_spans(p, u, self.count_tokens, self.point.max_length)]
            if len(cands) > per_unit:  # evidence, not every window: the passages most about the claim
                keep = set(rank_passages(u, [ps[i][a:b] for i, a, b in cands])[:per_unit])
                cands = [c for k, c in enumerate(cands) if k in keep]
            units.append([(i, a, b, (neutralise(ps[i][a:b]), u)) for i, a, b in cands])
        return _Plan(ps, tuple(neutralise(p) for p in ps), hypothesis, units)

    def prepare(self, items: Sequence[tuple[Premises, str]], mode: str | None = None) -> tuple[list[_Plan], list[Pair]]:
        """The plans, and every pair they need once, shortest first (batches pad to their longest)."""
        plans = [self._plan(p, h, mode) for p, h in items]
        flat = sorted({pr for plan in plans for unit in plan.units for *_, pr in unit},
                      key=lambda pr: (len(pr[0]) + len(pr[1]), pr))
        return plans, flat

    # --- aggregate + penalise -----------------------------------------------------------------
    def finish(self, plans: Sequence[_Plan], probs: Mapping[Pair, float]) -> list[Judgement]:
        out = []
        for plan in plans:
            weakest: tuple[float, int, int, int] | None = None
            for unit in plan.units:
                best: tuple[float, int, int, int] | None = None
                for i, a, b, pr in unit:
                    s = float(probs[pr])
                    if best is None or s > best[0]:
                        best = (s, i, a, b)
                if best is not None and (weakest is None or best[0] < weakest[0]):
                    weakest = best
            model = weakest[0] if weakest else 0.0
            nums = tuple(unsupported_numbers("\n".join(plan.judged), plan.hypothesis))
            penalised = apply_number_penalty([model], [min(len(nums), NUMBERS_COUNTED)], self.point.number_penalty)[0]
            if nums and penalised < self.point.threshold:
                penalised = min(penalised, CONTRADICTION_CAP)
            if weakest is None:
                out.append(Judgement(penalised, model, -1, "", model, nums))
                continue
            _, i, a, b = weakest
            out.append(Judgement(support=penalised, model_support=model, premise_index=i, window=plan.premises[i][a:b],
                                 window_support=model, numbers=nums, window_start=a, window_end=b))
        return out

    # --- the whole path, sync and async -------------------------------------------------------
    def _planned(self, items: Sequence[tuple[Premises, str]], mode: str | None,
                 max_pairs: int | None) -> tuple[list[_Plan], list[Pair]]:
        plans, flat = self.prepare(items, mode)
        if max_pairs is not None and len(flat) > max_pairs:
            raise TooMuchWork(len(flat), max_pairs)
        return plans, flat

    def judge(self, items: Sequence[tuple[Premises, str]], score_pairs: SyncPairScorer,
              mode: str | None = None, max_pairs: int | None = None) -> list[Judgement]:
        """Judgements of ``items``; more than ``max_pairs`` model pairs is refused before any is scored."""
        plans, flat = self._planned(items, mode, max_pairs)
        return self.finish(plans, dict(zip(flat, score_pairs(flat))) if flat else {})

    async def ajudge(self, items: Sequence[tuple[Premises, str]], score_pairs: AsyncPairScorer,
                     mode: str | None = None, max_pairs: int | None = None) -> list[Judgement]:
        plans, flat = self._planned(items, mode, max_pairs)
        return self.finish(plans, dict(zip(flat, await score_pairs(flat))) if flat else {})

    def score(self, items: Sequence[tuple[Premises, str]], score_pairs: SyncPairScorer,
              mode: str | None = None) -> list[float]:
        return [j.support for j in self.judge(items, score_pairs, mode)]

    async def ascore(self, items: Sequence[tuple[Premises, str]], score_pairs: AsyncPairScorer,
                     mode: str | None = None) -> list[float]:
        return [j.support for j in await self.ajudge(items, score_pairs, mode)]

    # --- claims ------------------------------------------------------------------------------
    async def ajudge_claims(self, premises: Premises, sentences: Sequence[str], score_pairs: AsyncPairScorer,
                            max_pairs: int | None = None) -> list[dict[str, Any]]:
        """Each sentence's verdict: ``no_claim`` (not scored) or judged against ``premises``."""
        reasons = [no_claim_reason(s) for s in sentences]
        todo = [(premises, s) for s, r in zip(sentences, reasons) if r is None]
        return self._claims(sentences, reasons, await self.ajudge(todo, score_pairs, max_pairs=max_pairs))

    def judge_claims(self, premises: Premises, sentences: Sequence[str], score_pairs: SyncPairScorer,
                     max_pairs: int | None = None) -> list[dict[str, Any]]:
        reasons = [no_claim_reason(s) for s in sentences]
        todo = [(premises, s) for s, r in zip(sentences, reasons) if r is None]
        return self._claims(sentences, reasons, self.judge(todo, score_pairs, max_pairs=max_pairs))

    def _claims(self, sentences: Sequence[str], reasons: Sequence[str | None],
                judged: Sequence[Judgement]) -> list[dict[str, Any]]:
        it = iter(judged)
        return [self.claim(s, next(it)) if r is None else no_claim(s, r) for s, r in zip(sentences, reasons)]

    def claim_judge(self, score_pairs: AsyncPairScorer) -> ClaimJudge:
        """A stream's judge: one sentence against the context, through this scorer."""
        async def judge(context: str, sentence: str) -> dict[str, Any]:
            return (await self.ajudge_claims(context, [sentence], score_pairs))[0]

        return judge

    def claim(self, sentence: str, j: Judgement) -> dict[str, Any]:
        """The wire shape of one judged claim (review verdicts, stream evidence)."""
        verdict = verdict_of(j, self.point.threshold)
        evidence = None if j.premise_index < 0 else {"fact_index": j.premise_index, "chunk": j.window,
                                                     "support": j.window_support, "start": j.window_start,
                                                     "end": j.window_end}
        contradiction = {"numbers": list(j.numbers)} if verdict == "contradicted" else None
        return {"sentence": sentence, "support": j.support, "verdict": verdict, "reason": None, "evidence": evidence,
                "contradiction": contradiction}


def heuristic_pair_scores(pairs: Sequence[Pair]) -> list[float]:
    """The model-free pair scorer (the kernel's lexical support): no model, no tokenizer."""
    from haltguard.kernel.heuristic import heuristic_support

    return [heuristic_support(p, h)[0] for p, h in pairs]


def count_words(text: str) -> int:
    """The heuristic's "tokenizer": it reads any length, so only the word count matters."""
    return len(text.split())


def heuristic_point(threshold: float | None = None) -> OperatingPoint:
    """The heuristic's operating point: the premise is never windowed (it reads any length) and it
    weighs unsupported numbers itself (no penalty on top)."""
    from haltguard.kernel.heuristic import DEFAULT_THRESHOLD

    return OperatingPoint(max_length=1 << 30, threshold=DEFAULT_THRESHOLD if threshold is None else threshold)


def heuristic_document_scorer(threshold: float | None = None) -> DocumentScorer:
    """A ``DocumentScorer`` for :func:`heuristic_pair_scores`."""
    return DocumentScorer(count_words, heuristic_point(threshold))


def no_claim(sentence: str, reason: str | None = None) -> dict[str, Any]:
    """The wire shape of a sentence that makes no checkable claim (``kernel.claims``): not scored."""
    return {"sentence": sentence, "support": None, "verdict": "no_claim", "reason": reason or no_claim_reason(sentence),
            "evidence": None, "contradiction": None}


def review_summary(spans: Sequence[tuple[int, int]], claims: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """A review from its sentences' spans and claims: approved when every claim is supported;
    coherence is the weakest support. Sentences without a claim neither lower coherence nor
    block approval."""
    out = [{**c, "span": {"start": a, "end": b}} for c, (a, b) in zip(claims, spans)]
    coherence = min((c["support"] for c in out if c["support"] is not None), default=1.0)
    return {"approved": all(c["verdict"] in ("supported", "no_claim") for c in out), "coherence": coherence,
            "threshold": threshold, "claims": out}


class TooMuchWork(ValueError):
    """A judgement would score more model pairs than the caller allows."""

    def __init__(self, pairs: int, limit: int) -> None:
        super().__init__(f"{pairs} claim x evidence pairs (limit {limit})")
        self.pairs, self.limit = pairs, limit
