"""Real servers for tests and benchmarks: ``redis-server`` and host processes on 127.0.0.1.

Used by the test suite, the browser smoke tests and ``haltguard bench host``; kept in the
package so users can run their own integration tests against a real host the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["free_port", "RedisServer", "HostProcess", "ScriptedUpstream", "awkward_chunks", "wait_http", "run_coroutine",
           "module_imports", "CHROMIUM", "CHROMIUM_ARGS"]

# Debian's Chromium and the flags that keep it offline and headless (see ../shared/OFFLINE.md).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


T = TypeVar("T")


def module_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a source file; relative ones as ``.``-prefixed names.

    What the layering tests scan: the kernel's standard-library rule and the package layers.
    """
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, also when this thread already runs a loop.

    pytest-playwright's sync API keeps an event loop running in the main thread once a browser
    test has run in the session, and ``asyncio.run`` refuses to start under it; the coroutine
    then gets a fresh loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


class RedisServer:
    """A throw-away ``redis-server`` (no persistence) on a free loopback port."""

    def __init__(self, port: int | None = None) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (scripts/setup.sh installs it from Debian)")
        self.port = port or free_port()  # a given port: a "restarted" server where the old one was
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="haltguard-redis-")
        self.proc = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self._dir, "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def command(self, *args: str) -> bytes:
        """One raw RESP command (for tests that inspect what is stored)."""
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(payload.encode())
            time.sleep(0.05)
            return s.recv(1 << 20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class HostProcess:
    """``haltguard serve`` in a child process with a config written to a temp file."""

    def __init__(self, config: dict[str, Any], *, env: dict[str, str] | None = None, port: int | None = None,
                 log: Path | None = None, timeout: float = 90.0, python: str = sys.executable,
                 cwd: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        fd, path = tempfile.mkstemp(prefix="haltguard-host-", suffix=".yaml")
        with os.fdopen(fd, "w") as fh:
            json.dump(config, fh)  # JSON is YAML
        self.config_path = path
        self._log = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [python, "-m", "haltguard.cli", "serve", "--config", path, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env={**os.environ, **(env or {})}, stdout=self._log, stderr=self._log, start_new_session=True, cwd=cwd)
        try:
            wait_http(self.url + "/v1/health", timeout, self.proc)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()  # type: ignore[union-attr]
        Path(self.config_path).unlink(missing_ok=True)

    def __enter__(self) -> HostProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def awkward_chunks(text: str, sizes: tuple[int, ...] = (1, 3, 2, 7, 5, 4)) -> list[str]:
    """``text`` cut into chunks of cycling ``sizes``: inside words, placeholders and numbers."""
    out, i, k = [], 0, 0
    while i < len(text):
        out.append(text[i:i + sizes[k % len(sizes)]])
        i += sizes[k % len(sizes)]
        k += 1
    return out


class ScriptedUpstream:
    """A small OpenAI-compatible LLM server on 127.0.0.1 for tests and benchmarks (no weights exist offline).

    ``answer(request_body) -> str`` writes each answer (a string: always that one); streams
    deliver it in ``chunker(answer)`` pieces, every ``delay_s`` apart. ``received`` keeps every
    request body, so a test can check what reached the "LLM". ``fail`` makes it misbehave:
    ``"status:503"`` (an OpenAI-shaped error), ``"hang"`` (no answer within any sane timeout),
    ``"cut"`` (the stream stops half-way without ``[DONE]``), ``"error_event"`` (an error event
    mid-stream), ``"garbage"`` (a body that is not JSON). Runs uvicorn in a thread.
    """

    def __init__(self, answer: Any = "Hello.", *, chunker: Any = awkward_chunks, delay_s: float = 0.0,
                 models: tuple[str, ...] = ("scripted-1",), api_key: str | None = None) -> None:
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response, StreamingResponse
        from starlette.routing import Route

        self.answer = answer
        self.chunker = chunker
        self.delay_s = delay_s
        self.models = models
        self.api_key = api_key
        self.fail: str | None = None
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

        async def chat(request: Request) -> Response:
            body = await request.json()
            self.received.append(body)
            self.headers.append(dict(request.headers))
            if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse({"error": {"message": "bad key", "type": "authentication_error"}}, 401)
            fail = self.fail or ""
            if fail.startswith("status:"):
                code = int(fail.split(":", 1)[1])
                return JSONResponse({"error": {"message": f"scripted failure {code}", "type": "server_error"}}, code)
            if fail == "hang":
                await asyncio.sleep(3600)
            if fail == "garbage":
                return Response("<html>not json</html>", 200, media_type="text/html")
            text = self.answer(body) if callable(self.answer) else str(self.answer)
            words = len(text.split())
            usage = {"prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body["messages"]),
                     "completion_tokens": words, "total_tokens": 0}
            usage["total_tokens"] = usage["prompt_tokens"] + words
            base = {"id": "chatcmpl-scripted", "created": 1700000000, "model": body["model"]}
            if not body.get("stream"):
                return JSONResponse({**base, "object": "chat.completion", "usage": usage, "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}]})

            async def events() -> Any:
                def ev(delta: dict[str, Any], finish: str | None = None) -> str:
                    obj = {**base, "object": "chat.completion.chunk",
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
                    return f"data: {json.dumps(obj)}\n\n"

                yield ev({"role": "assistant", "content": ""})
                chunks = self.chunker(text)
                for n, piece in enumerate(chunks):
                    if self.delay_s:
                        await asyncio.sleep(self.delay_s)
                    if fail in ("cut", "error_event") and n == len(chunks) // 2:
                        if fail == "error_event":
                            yield f"data: {json.dumps({'error': {'message': 'scripted mid-stream failure'}})}\n\n"
                        return
                    yield ev({"content": piece})
                yield ev({}, "stop")
                if (body.get("stream_options") or {}).get("include_usage"):
                    yield f"data: {json.dumps({**base, 'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        async def models_route(request: Request) -> Response:
            return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"}
                                                            for m in self.models]})

        app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                                Route("/v1/models", models_route, methods=["GET"])])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="off", timeout_graceful_shutdown=1))
        self._thread = threading.Thread(target=self._server.run, name="scripted-upstream", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the scripted upstream did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> ScriptedUpstream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
