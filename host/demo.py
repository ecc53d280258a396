"""Serve the browser bundle and the demo page (the host's face at ``/``).

The bundle (``haltguard bundle`` → build/wasm-bundle) is static: Pyodide, onnxruntime-web,
the kernel wheel, the model and the JS API. It is served with the MIME types browsers
insist on for wasm and module scripts, and with COOP/COEP so the page is
cross-origin isolated and onnxruntime-web may use threads.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from haltguard.host.config import HostConfig
from haltguard.host.middleware import HeadersMiddleware

__all__ = ["mount_demo", "bundle_dir", "ISOLATION_HEADERS"]

ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
                     "Cross-Origin-Resource-Policy": "same-origin"}

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")


def bundle_dir(config: HostConfig) -> Path:
    """``server.bundle_dir``, else where ``haltguard bundle`` writes by default (``kernel.resources``)."""
    from haltguard.kernel.resources import bundle_dir as default_bundle_dir

    return default_bundle_dir(config.server.bundle_dir)


_NOT_BUILT = """<!doctype html><meta charset=utf-8><title>haltguard</title>
<body style="font:16px system-ui;margin:3em"><h1>haltguard host</h1>
<p>The browser bundle is not built. Run <code>haltguard bundle</code> (or <code>bash scripts/run.sh</code>,
which builds it) and reload. The API is at <a href="/docs">/docs</a>.</p>"""


def mount_demo(app: FastAPI, config: HostConfig) -> None:
    root = bundle_dir(config)

    app.add_middleware(HeadersMiddleware, headers=ISOLATION_HEADERS, prefixes=("/bundle/",), exact=("/",))

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Any:
        page = root / "index.html"
        if not page.exists():
            return HTMLResponse(_NOT_BUILT)
        query = request.url.query
        return RedirectResponse("/bundle/index.html" + (f"?{query}" if query else ""))

    app.mount("/bundle", StaticFiles(directory=root, check_dir=False), name="bundle")
