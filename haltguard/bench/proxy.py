"""`haltguard bench proxy`: what the guarding proxy adds to an LLM stream, against the same stream direct.

A scripted OpenAI-compatible upstream (``haltguard.testing.ScriptedUpstream``) streams a
six-sentence answer one word per chunk, ``delay_ms`` apart (an LLM at ~1000/delay_ms tokens
a second). The same streams are read directly from it and through a real host, at 1 and
50 concurrent streams: ungrounded (pseudonymise and restore only) and grounded (every
sentence judged by the shipped model before it is released).

Reported per case: time to the first content chunk (TTFT), the whole stream, the mean
per-chunk overhead, errors. The hold-back delay is what grounding costs by design: a
sentence is released once it is complete and judged, so its first word reaches the client
when its last word has arrived plus the judging; ``holdback_ms`` is the proxy's TTFT minus
the time the direct stream took to finish the first sentence (goal: <= 20 ms, i.e. at most
one sentence of delay plus 20 ms). Client, host and upstream share this machine's cores.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from haltguard.kernel.demo import CONTEXT
from haltguard.kernel.driver import word_tokens

KEY = "bench-key-0123456789abcdef"
# six sentences the shipped model supports against the demo context (so no stream halts)
ANSWER = ("The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
          "It is named after the engineer Gustave Eiffel. "
          "His company designed and built the tower for the 1889 World's Fair. "
          "The tower is 330 metres tall. "
          "It was the tallest man-made structure in the world until 1930. "
          "About seven million people visit it every year.")
PROMPT = "Hi, I'm Jane Roe (jane.roe@example.com). Tell me about the Eiffel Tower."


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


async def _one(client: Any, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One stream: (seconds since the request, text) per content chunk."""
    t0 = time.perf_counter()
    got: list[tuple[float, str]] = []
    async with client.stream("POST", url, json=body, headers={"Authorization": f"Bearer {KEY}"}) as resp:
        if resp.status_code != 200:
            return {"error": f"HTTP {resp.status_code}"}
        async for line in resp.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            ev = json.loads(line[6:])
            if "error" in ev:
                return {"error": ev["error"].get("code")}
            for ch in ev.get("choices") or ():
                text = (ch.get("delta") or {}).get("content")
                if text:
                    got.append((time.perf_counter() - t0, text))
    return {"chunks": got, "total": time.perf_counter() - t0}


async def _case(url: str, body: dict[str, Any], streams: int) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=streams + 8)) as client:
        results = await asyncio.gather(*(_one(client, url, body) for _ in range(streams)))
    ok = [r for r in results if "error" not in r and r["chunks"]]
    out: dict[str, Any] = {"streams": streams, "errors": len(results) - len(ok)}
    if not ok:
        return out
    ttft = [r["chunks"][0][0] * 1e3 for r in ok]
    first_end = []  # when the first sentence was complete at the client
    for r in ok:
        seen = ""
        for t, text in r["chunks"]:
            seen += text
            if ANSWER.split(". ")[0] in seen.replace("{{", "").replace("}}", ""):
                first_end.append(t * 1e3)
                break
    out.update({"ttft_ms_p50": round(_pct(ttft, 50), 1), "ttft_ms_p99": round(_pct(ttft, 99), 1),
                "first_sentence_ms_p50": round(_pct(first_end, 50), 1) if first_end else None,
                "total_ms_p50": round(_pct([r["total"] * 1e3 for r in ok], 50), 1),
                "chunks_p50": statistics.median(len(r["chunks"]) for r in ok),
                "text_ok": all("".join(t for _, t in r["chunks"]).strip() == ANSWER for r in ok)})
    return out


def run(delay_ms: float = 20.0, concurrency: tuple[int, ...] = (1, 50)) -> dict[str, Any]:
    from haltguard.testing import HostProcess, ScriptedUpstream

    out: dict[str, Any] = {"delay_ms_per_chunk": delay_ms, "chunks": len(word_tokens(ANSWER)),
                           "note": "client, host and upstream share this machine's cores", "cases": []}
    with ScriptedUpstream(ANSWER, chunker=word_tokens, delay_s=delay_ms / 1e3) as up:
        cfg = {"auth": {"keys": [{"name": "bench", "key": KEY}]}, "rate_limit": {"enabled": False},
               "session": {"keys": [{"kid": "b1", "secret": "b" * 48}]}, "server": {"demo": False},
               "proxy": {"upstreams": [{"name": "scripted", "base_url": up.url}]}}
        log = Path(tempfile.gettempdir()) / "haltguard-bench-proxy.log"
        with HostProcess(cfg, log=log) as h:
            base = {"model": "scripted-1", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
            grounded = {**base, "haltguard": {"context": CONTEXT}}
            asyncio.run(_case(h.url + "/v1/chat/completions", grounded, 2))  # warm the model and the connections
            for n in concurrency:
                direct = asyncio.run(_case(up.url + "/chat/completions", base, n))
                plain = asyncio.run(_case(h.url + "/v1/chat/completions", base, n))
                judged = asyncio.run(_case(h.url + "/v1/chat/completions", grounded, n))
                if "ttft_ms_p50" in direct:
                    chunks = max(1, int(direct["chunks_p50"]))
                    for res in (plain, judged):
                        if "total_ms_p50" in res:
                            res["overhead_ms_per_chunk"] = round((res["total_ms_p50"] - direct["total_ms_p50"]) / chunks, 2)
                    if "ttft_ms_p50" in judged and direct.get("first_sentence_ms_p50") is not None:
                        judged["holdback_ms_p50"] = round(judged["ttft_ms_p50"] - direct["first_sentence_ms_p50"], 1)
                    if "ttft_ms_p50" in plain:
                        plain["ttft_added_ms_p50"] = round(plain["ttft_ms_p50"] - direct["ttft_ms_p50"], 1)
                for name, res in (("direct", direct), ("proxy", plain), ("proxy, grounded", judged)):
                    out["cases"].append({"path": name, **res})
    none: dict[str, Any] = {}
    g50 = next((c for c in out["cases"] if c["path"] == "proxy, grounded" and c["streams"] == max(concurrency)), none)
    g1 = next((c for c in out["cases"] if c["path"] == "proxy, grounded" and c["streams"] == 1), none)
    out["goals"] = {
        "holdback_ms_at_1_stream": {"goal": 20.0, "measured": g1.get("holdback_ms_p50"),
                                    "met": g1.get("holdback_ms_p50") is not None and g1["holdback_ms_p50"] <= 20.0},
        f"errors_at_{max(concurrency)}_streams": {"goal": 0, "measured": g50.get("errors"), "met": g50.get("errors") == 0},
    }
    return out
