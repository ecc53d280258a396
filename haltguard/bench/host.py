"""`haltguard bench host`: open-loop loopback load test of a real host process.

Requests are sent on a fixed schedule (rate r: one every 1/r s, whether or not earlier ones
have answered), so a slow server shows up as latency and errors instead of silently lowering
the rate. Client and server share this machine's cores, so the numbers are pessimistic.
Total run time stays under 60 s with the defaults.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from haltguard.kernel.demo import ANSWER, CONTEXT

KEY = "bench-key-0123456789abcdef"
TRANSFORM = {"input": "Hi, I'm Jane Roe. Mail jane.roe@example.com or call +44 20 7946 0958 about invoice 4471; "
                      "my IBAN is DE89 3704 0044 0532 0130 00."}
REVIEW = {"response": ANSWER.split(". ")[0] + ". " + ANSWER.split(". ")[2] + ".", "context": CONTEXT}
# "review (cached)" repeats one body (score cache hits); "review (fresh)" makes every body unique,
# so each request runs the model on every claim × evidence window.
# A fresh review here is 2 claims x 7 evidence windows = 14 model pairs (~0.3 s of one core).
def _fresh(lo: int, hi: int) -> list[dict[str, Any]]:
    return [{"response": f"The tower is {i} metres tall. Gustave Eiffel's company built it for visitor {i}.",
             "context": CONTEXT} for i in range(lo, hi)]


STEPS = [("transform", "/v1/transform", [TRANSFORM], 300), ("transform", "/v1/transform", [TRANSFORM], 600),
         ("review (cached)", "/v1/review", [REVIEW], 30), ("review (fresh)", "/v1/review", _fresh(0, 1000), 1),
         ("review (fresh)", "/v1/review", _fresh(1000, 2000), 2)]


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def _fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _step(port: int, path: str, bodies: list[dict[str, Any]], rate: float, seconds: float,
                connections: int = 32) -> dict[str, Any]:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less than the server.

    Latency is measured from each request's *scheduled* send time, so queueing in the
    client when every connection is busy counts against the server (no coordinated omission).
    """
    def build(body: dict[str, Any]) -> bytes:
        payload = json.dumps(body).encode()
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload

    requests = [build(b) for b in bodies]
    n = int(rate * seconds)
    lat: list[float] = []
    errors: dict[str, int] = {}
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with warm_lock:  # warm-up one connection at a time (the same body: fresh bodies stay fresh)
            for _ in range(3):
                await _fetch(reader, writer, requests[-1])
        warmed.append(1)
        if len(warmed) == connections and not ready.done():
            ready.set_result(None)
        while True:
            item = await queue.get()
            if item is None:
                break
            scheduled, request = item
            try:
                try:
                    status = await _fetch(reader, writer, request)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise
                    # the server closed an idle keep-alive connection: reconnect and resend,
                    # as any HTTP client does (not an error of the request)
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status = await _fetch(reader, writer, request)
            except Exception as exc:  # noqa: BLE001 - counted, then reconnect
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
            else:
                lat.append((time.perf_counter() - scheduled) * 1000)
        writer.close()

    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    warm_lock = asyncio.Lock()
    warmed: list[int] = []
    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await ready
    await asyncio.sleep(0.2)
    start = time.perf_counter()
    for i in range(n):
        t = start + i / rate
        delay = t - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((t, requests[i % len(requests)]))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    wall = time.perf_counter() - start
    return {"rate_rps": rate, "requests": n, "achieved_rps": round(n / wall, 1), "ok": len(lat),
            "errors": sum(errors.values()), "error_kinds": errors,
            "p50_ms": round(_pct(lat, 50), 2), "p99_ms": round(_pct(lat, 99), 2),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else None}


def _big_context(chars: int = 20_000) -> str:
    """~20 KB of distinct sentences around the demo context (the cost goal's context size)."""
    parts, i = [CONTEXT], 0
    while sum(map(len, parts)) < chars:
        parts.append(f"Visitor guide note {i}: the tower's level {i % 3 + 1} shop sells {i} kinds of postcards and "
                     f"the café on level {i % 2 + 1} opens at {8 + i % 4} in the morning.")
        i += 1
    return " ".join(parts)


def review_large_context(url: str, runs: int = 12) -> dict[str, Any]:
    """Closed loop: fresh 2-sentence reviews (every claim new, nothing cached) against a 20 KB context."""
    import httpx

    context = _big_context()
    lat = []
    with httpx.Client(base_url=url, timeout=120, headers={"authorization": f"Bearer {KEY}"}) as c:
        for i in range(runs + 1):
            body = {"response": f"The tower is {300 + i} metres tall. About {i + 2} million people visit it.",
                    "context": context}
            t = time.perf_counter()
            r = c.post("/v1/review", json=body)
            if i:  # the first one warms up
                lat.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return {"context_chars": len(context), "runs": runs, "p50_ms": round(_pct(lat, 50), 1),
            "max_ms": round(max(lat), 1), "goal_p50_ms": 150.0, "met": _pct(lat, 50) <= 150.0}


def run(seconds: float = 10.0) -> dict[str, Any]:
    from haltguard.testing import HostProcess

    seconds = min(seconds, 60.0 / len(STEPS))
    cfg = {"auth": {"keys": [{"name": "bench", "key": KEY}]}, "rate_limit": {"enabled": False},
           "session": {"keys": [{"kid": "b1", "secret": "b" * 48}]}, "server": {"demo": False}}
    log = Path(tempfile.gettempdir()) / "haltguard-bench-host.log"
    out: dict[str, Any] = {"seconds_per_step": seconds, "engine": "onnx int8 (shipped default)",
                           "note": "open-loop loopback load; client and server share the machine's cores", "steps": []}
    with HostProcess(cfg, log=log) as h:
        for name, path, bodies, rate in STEPS:
            res = asyncio.run(_step(h.port, path, bodies, rate, seconds))
            out["steps"].append({"route": name, **res})
        out["review_2_sentences_20kb_context"] = review_large_context(h.url)
    t300 = next(s for s in out["steps"] if s["route"] == "transform" and s["rate_rps"] == 300)
    out["goal_transform_p99_ms_at_300rps"] = {"goal": 10.0, "measured": t300["p99_ms"], "errors": t300["errors"],
                                              "met": t300["p99_ms"] < 10.0 and t300["errors"] == 0}
    return out
