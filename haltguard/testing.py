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

__all__ = ["free_port", "RedisServer", "HostProcess", "wait_http", "run_coroutine", "module_imports", "CHROMIUM",
           "CHROMIUM_ARGS"]

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

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (scripts/setup.sh installs it from Debian)")
        self.port = free_port()
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
