"""The Python Guard API: the same numbers as the host, streams over plain and OpenAI-shaped chunks."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from haltguard import Guard
from haltguard.guard import chunk_text
from haltguard.kernel.demo import ANSWER, CONTEXT
from haltguard.kernel.resources import model_dir
from haltguard.models.scorer import OnnxNliScorer
from haltguard.testing import run_coroutine


@pytest.fixture(scope="module")
def guard():
    return Guard()


def openai_chunks(text: str, size: int = 7) -> list[SimpleNamespace]:
    """Chunks shaped like the openai SDK's ChatCompletionChunk, cut at awkward places."""
    parts = [text[i:i + size] for i in range(0, len(text), size)]
    return [SimpleNamespace(choices=[SimpleNamespace(delta=SimpleNamespace(content=p), finish_reason=None)]) for p in parts] + \
        [SimpleNamespace(choices=[SimpleNamespace(delta=SimpleNamespace(content=None), finish_reason="stop")])]


def test_score_and_review_give_the_host_s_numbers(guard):
    pairs = [("The Eiffel Tower is in Paris.", "The tower is in Rome."), (CONTEXT, "The tower is 330 metres tall.")]
    assert guard.score(pairs) == pytest.approx(OnnxNliScorer(model_dir()).score_many(pairs), abs=1e-6)
    rv = guard.review("Great question! The tower is in Paris. It was built in 1920.",
                      facts=["The Eiffel Tower is in Paris.", "It was built in 1889."])
    assert [c["verdict"] for c in rv["claims"]] == ["no_claim", "supported", "contradicted"] and not rv["approved"]
    with pytest.raises(ValueError, match="context or facts"):
        guard.review("x")


def test_stream_over_openai_shaped_chunks_halts_before_the_wrong_sentence(guard):
    frames = list(guard.stream(openai_chunks(ANSWER), context=CONTEXT))
    released = "".join(f["text"] for f in frames if f["type"] == "release")
    halt = next(f for f in frames if f["type"] == "halt")
    assert "1950" in halt["evidence"]["sentence"] and "1950" not in released
    assert released.startswith("The Eiffel Tower stands on the Champ de Mars in Paris.")
    assert frames[-1]["type"] == "done" and frames[-1]["record"]["halted"]


def test_pseudonymise_then_stream_the_answer_back_rehydrated(guard):
    t = guard.transform("Please email jane.roe@example.com about the Eiffel Tower.")
    assert "jane.roe" not in t.safe_text and "{{email:1}}" in t.safe_text
    answer = "I have noted your email {{email:1}}. The Eiffel Tower stands on the Champ de Mars in Paris."
    frames = list(guard.stream(openai_chunks(answer, size=5), context=CONTEXT, session=t.session))
    released = "".join(f["text"] for f in frames if f["type"] == "release")
    assert released == answer.replace("{{email:1}}", "jane.roe@example.com")
    assert not frames[-1]["record"]["halted"]
    assert guard.rehydrate("Wrote to {{email:1}}.", t.session).text == "Wrote to jane.roe@example.com."


def test_astream_over_an_async_source_matches_the_sync_stream(guard):
    async def source():
        for c in openai_chunks(ANSWER, size=11):
            await asyncio.sleep(0)
            yield c

    async def collect():
        return [f async for f in guard.astream(source(), context=CONTEXT)]

    got = run_coroutine(collect())
    want = list(guard.stream(openai_chunks(ANSWER, size=11), context=CONTEXT))
    strip = lambda fs: [(f["type"], f.get("text"), f.get("value")) for f in fs if f["type"] != "done"]  # noqa: E731
    assert strip(got) == strip(want)


def test_chunk_text_reads_strings_objects_and_dicts():
    assert chunk_text("abc") == "abc"
    assert chunk_text({"choices": [{"delta": {"content": "x"}}]}) == "x"
    assert chunk_text({"choices": [{"delta": {}}]}) == "" and chunk_text({"choices": []}) == ""
    assert chunk_text(openai_chunks("hi")[0]) == "hi" and chunk_text(openai_chunks("hi")[-1]) == ""


def test_the_heuristic_guard_needs_no_model():
    g = Guard("heuristic", preset="strict")
    assert g.threshold == pytest.approx(0.28)
    frames = list(g.stream(ANSWER.split(" "), context=CONTEXT))
    assert any(f["type"] == "halt" for f in frames)


def test_the_sync_stream_works_inside_a_running_event_loop():
    async def main():  # a notebook, or a framework that already runs a loop
        g = Guard("heuristic", preset="strict")
        return [f["type"] for f in g.stream(ANSWER.split(" "), context=CONTEXT)]

    assert run_coroutine(main())[-2:] == ["halt", "done"]


def test_names_are_pseudonymised_with_the_name_model_and_skipped_without_it():
    text = "Hi, I'm Jane Roe from Berlin. Mail jane@example.com"
    g = Guard(model="heuristic")
    out = g.transform(text)
    assert out.safe_text == "Hi, I'm {{person:1}} from {{location:1}}. Mail {{email:1}}"
    assert g.rehydrate(out.safe_text, out.session).text == text
    assert {f["type"] for f in g.detect(text)["findings"]} == {"person", "location", "email"}
    assert Guard(model="heuristic", names=False).transform(text).safe_text == "Hi, I'm Jane Roe from Berlin. Mail {{email:1}}"
    only = Guard(model="heuristic", policy={"detector_mode": "regex"})
    assert [f["type"] for f in only.detect(text)["findings"]] == ["email"]


def test_guard_reads_a_real_openai_sdk_stream(guard):
    import openai

    from haltguard.testing import ScriptedUpstream

    with ScriptedUpstream(ANSWER) as up:
        async def frames():
            client = openai.AsyncOpenAI(base_url=up.url, api_key="unused", max_retries=0)
            stream = await client.chat.completions.create(model="scripted-1", stream=True,
                                                          messages=[{"role": "user", "content": "Tell me about the tower."}])
            return [f async for f in guard.astream(stream, context=CONTEXT)]

        got = run_coroutine(frames())
    want = list(guard.stream([ANSWER], context=CONTEXT))
    released = "".join(f["text"] for f in got if f["type"] == "release")
    assert released == "".join(f["text"] for f in want if f["type"] == "release")
    assert [f["type"] for f in got if f["type"] in ("halt", "done")] == ["halt", "done"]
