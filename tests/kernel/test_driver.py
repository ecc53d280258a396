"""ClaimStream: the guarded-stream driver shared by the host WebSocket and the browser worker."""

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.demo import ANSWER, CONTEXT, demo_tokens
from haltguard.kernel.driver import ClaimStream
from haltguard.kernel.heuristic import heuristic_support
from haltguard.kernel.scoring import heuristic_document_scorer
from haltguard.testing import run_coroutine

CFG = {"hard_limit": 0.2, "soft_limit": 0.45, "window": None, "trend": None, "cadence": {"mode": "sentence"}}


async def lexical(pairs):
    await asyncio.sleep(0)  # a real async scorer (model in a worker, a host round trip)
    return [heuristic_support(p, h)[0] for p, h in pairs]


def _run(tokens, config=CFG):
    async def go():
        s = ClaimStream(heuristic_document_scorer(0.28).claim_judge(lexical), CONTEXT, HaltConfig.from_dict(config))
        frames = []
        for t in tokens:
            frames += await s.feed(t)
        return frames + await s.end()
    return run_coroutine(go())


def test_halts_before_the_contradicted_sentence_with_evidence():
    frames = _run(demo_tokens(ANSWER))
    released = "".join(f["text"] for f in frames if f["type"] == "release")
    halt = next(f for f in frames if f["type"] == "halt")
    assert "1950" in halt["evidence"]["sentence"] and halt["evidence"]["verdict"] == "contradicted"
    assert halt["evidence"]["contradiction"]["numbers"] == ["1950"]
    assert "1950" not in released and released.startswith("The Eiffel Tower stands")
    assert frames[-1]["type"] == "done" and frames[-1]["record"]["halted"]
    scores = [f for f in frames if f["type"] == "score"]
    assert scores and all(f["evidence"]["sentence"] for f in scores)


def test_grounded_answer_is_released_whole_and_chunking_does_not_matter():
    good = "The Eiffel Tower is in Paris. The tower is 330 metres tall."
    by_word = _run(demo_tokens(good))
    by_char = _run(list(good))
    for frames in (by_word, by_char):
        assert "".join(f["text"] for f in frames if f["type"] == "release") == good
        assert not frames[-1]["record"]["halted"]


def test_scorer_failure_fails_closed():
    async def broken(pairs):
        raise RuntimeError("model crashed")

    async def go():
        s = ClaimStream(heuristic_document_scorer(0.5).claim_judge(broken), CONTEXT, HaltConfig.from_dict(CFG))
        frames = []
        for t in demo_tokens("The tower is tall. It is in Paris."):
            frames += await s.feed(t)
        return frames + await s.end()
    frames = run_coroutine(go())
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["reason"] == "scorer_error" and not any(f["type"] == "release" for f in frames)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=60))
def test_any_chunking_gives_the_same_frames_as_whole_words(cuts):
    """LLM streams cut anywhere (inside words, numbers, sentence ends): the outcome never changes."""
    chunks, i = [], 0
    for n in cuts:
        chunks.append(ANSWER[i:i + n])
        i += n
    chunks.append(ANSWER[i:])
    got, want = _run(chunks), _run(demo_tokens(ANSWER))

    def outcome(frames):
        return ("".join(f["text"] for f in frames if f["type"] == "release"),
                [(f["reason"], f["evidence"]["sentence"]) for f in frames if f["type"] == "halt"],
                [f["value"] for f in frames if f["type"] == "score"])

    assert outcome(got) == outcome(want)
