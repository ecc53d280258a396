"""The LLM servers the proxy forwards to: routing by model, one pooled HTTP client, error mapping.

Any OpenAI-compatible server is an upstream (OpenAI, vLLM, Ollama, llama.cpp): the proxy
posts the (pseudonymised) chat request to ``{base_url}/chat/completions`` and reads the
answer, whole or as server-sent events. Whatever goes wrong on the way — refused
connection, timeout, a 4xx/5xx, a stream cut short or not JSON — becomes an
:class:`UpstreamError` with an OpenAI-shaped status and code, so a client never sees a 500
or a hang because of the upstream.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from haltguard.host.config import ProxyConfig, Upstream

__all__ = ["UpstreamError", "Upstreams", "ENV_URL", "ENV_KEY"]

ENV_URL = "HALTGUARD_UPSTREAM_URL"
ENV_KEY = "HALTGUARD_UPSTREAM_API_KEY"


class UpstreamError(Exception):
    """The upstream failed; ``status`` and ``code`` are what the proxy's client gets."""

    def __init__(self, status: int, code: str, message: str, upstream: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.upstream = status, code, message, upstream


@dataclass(frozen=True)
class _Route:
    upstream: Upstream
    api_key: str | None


class Upstreams:
    """The configured upstreams (plus ``HALTGUARD_UPSTREAM_URL``'s) and one HTTP client for all of them."""

    def __init__(self, config: ProxyConfig, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        ups = list(config.upstreams)
        if not ups and env.get(ENV_URL):
            ups.append(Upstream(name="default", base_url=env[ENV_URL].rstrip("/"),
                                api_key_env=ENV_KEY if env.get(ENV_KEY) else None))
        self.config = config
        self._routes = [_Route(u, env.get(u.api_key_env) if u.api_key_env else None) for u in ups]
        self._client: httpx.AsyncClient | None = None

    def __len__(self) -> int:
        return len(self._routes)

    @property
    def names(self) -> list[str]:
        return [r.upstream.name for r in self._routes]

    def route(self, model: str) -> _Route:
        """The upstream that lists ``model``, else the first that takes any model."""
        if not self._routes:
            raise UpstreamError(503, "no_upstream", f"no upstream is configured (set proxy.upstreams or {ENV_URL})", "")
        for r in self._routes:
            if r.upstream.models is not None and model in r.upstream.models:
                return r
        for r in self._routes:
            if r.upstream.models is None:
                return r
        known = sorted(m for r in self._routes for m in r.upstream.models or ())
        raise UpstreamError(404, "model_not_found", f"no upstream serves model {model!r} (known: {', '.join(known)})", "")

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=512, max_keepalive_connections=64))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _request(self, route: _Route, method: str, path: str, body: Any = None) -> httpx.Request:
        u = route.upstream
        headers = {"Accept": "application/json"}
        if route.api_key:
            headers["Authorization"] = f"Bearer {route.api_key}"
        timeout = httpx.Timeout(u.timeout_s, connect=self.config.connect_timeout_s)
        return self.client().build_request(method, f"{u.base_url.rstrip('/')}{path}", json=body, headers=headers,
                                           timeout=timeout)

    @staticmethod
    def _failure(route: _Route, exc: Exception) -> UpstreamError:
        name = route.upstream.name
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamError(504, "upstream_timeout", f"upstream {name!r} did not answer in time", name)
        return UpstreamError(502, "upstream_unavailable", f"upstream {name!r} could not be reached ({type(exc).__name__})", name)

    @staticmethod
    async def _refusal(route: _Route, resp: httpx.Response) -> UpstreamError:
        """An upstream 4xx/5xx, its own message kept (an OpenAI-shaped body says what was wrong)."""
        name = route.upstream.name
        raw = (await resp.aread()).decode("utf-8", "replace")
        try:
            err = json.loads(raw).get("error")
            message = str(err.get("message") if isinstance(err, dict) else err or raw)
        except (ValueError, AttributeError):
            message = raw
        status = resp.status_code if 400 <= resp.status_code < 500 and resp.status_code != 401 else 502
        # the upstream's own key being refused is the proxy's misconfiguration, not the client's
        code = "upstream_auth_failed" if resp.status_code in (401, 403) else f"upstream_{resp.status_code}"
        return UpstreamError(status, code, f"upstream {name!r} answered {resp.status_code}: {message[:500]}", name)

    async def complete(self, route: _Route, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """A whole (non-streamed) completion and the seconds it took."""
        t0 = time.perf_counter()
        try:
            resp = await self.client().send(self._request(route, "POST", "/chat/completions", body))
        except httpx.HTTPError as exc:
            raise self._failure(route, exc) from None
        if resp.status_code >= 400:
            raise await self._refusal(route, resp)
        try:
            data = resp.json()
        except ValueError:
            raise UpstreamError(502, "upstream_bad_response", f"upstream {route.upstream.name!r} answered with no JSON",
                                route.upstream.name) from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or \
                not all(isinstance(c, dict) for c in data["choices"]):
            raise UpstreamError(502, "upstream_bad_response", f"upstream {route.upstream.name!r} answered without choices",
                                route.upstream.name)
        return data, time.perf_counter() - t0

    async def stream(self, route: _Route, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The upstream's stream as parsed ``chat.completion.chunk`` objects (``[DONE]`` ends it).

        The request is sent, and refusals raised, before the first chunk is yielded, so a
        caller can still answer with an HTTP error status.
        """
        client = self.client()
        try:
            resp = await client.send(self._request(route, "POST", "/chat/completions", body), stream=True)
        except httpx.HTTPError as exc:
            raise self._failure(route, exc) from None
        if resp.status_code >= 400:
            err = await self._refusal(route, resp)
            await resp.aclose()
            raise err
        return self._events(route, resp)

    async def _events(self, route: _Route, resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        name = route.upstream.name
        try:
            data: list[str] = []
            async for line in resp.aiter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                    continue
                if line or not data:
                    continue  # comments, event names, keep-alives
                payload, data = "\n".join(data), []
                if payload == "[DONE]":
                    return
                try:
                    event = json.loads(payload)
                except ValueError:
                    raise UpstreamError(502, "upstream_bad_response", f"upstream {name!r} sent an event that is not JSON",
                                        name) from None
                if isinstance(event, dict) and "error" in event:
                    err = event["error"]
                    raise UpstreamError(502, "upstream_stream_error", f"upstream {name!r} failed mid-stream: "
                                        f"{err.get('message') if isinstance(err, dict) else err}", name)
                yield event
            raise UpstreamError(502, "upstream_stream_cut", f"upstream {name!r} ended the stream without [DONE]", name)
        except httpx.HTTPError as exc:
            raise self._failure(route, exc) from None
        finally:
            await resp.aclose()

    async def models(self) -> list[dict[str, Any]]:
        """Every model the upstreams serve: their configured lists, or what their ``/models`` says."""
        out: dict[str, dict[str, Any]] = {}
        for r in self._routes:
            if r.upstream.models is not None:
                ids = list(r.upstream.models)
            else:
                try:
                    resp = await self.client().send(self._request(r, "GET", "/models"))
                    listed = resp.json().get("data", []) if resp.status_code == 200 else []
                    ids = [str(m["id"]) for m in listed if isinstance(m, dict) and "id" in m]
                except (httpx.HTTPError, ValueError, AttributeError):
                    ids = []  # an upstream that cannot list its models still serves them
            for i in ids:
                out.setdefault(i, {"id": i, "object": "model", "created": 0, "owned_by": r.upstream.name})
        return list(out.values())
