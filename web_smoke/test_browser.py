"""The bundle in real Chromium: page + module Worker, offline, loopback only; desktop and mobile profiles."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from haltguard.kernel.parity import run_cases
from haltguard.kernel.resources import model_dir
from webenv import DEMO_KEY

PAIRS = [
    ["The Eiffel Tower is in Paris.", "The tower is in Paris."],
    ["Paris is in France.", "Paris is in Spain."],
    ["Gustave Eiffel's company designed and built the tower for the 1889 World's Fair. It is 330 metres tall.",
     "The tower was built for a fair."],
    ["Der Vertrag läuft bis 2027. Kündigung: drei Monate zum Quartalsende.", "Ünïcödé naïve café — 東京 🚀 works?"],
    [" ".join(["word"] * 400), "A very long premise is truncated to the model window."],
]


def _open(browser, url, *, mobile=None, playwright=None):
    """A context that refuses (and records) anything not on 127.0.0.1; optional mobile profile."""
    kw = dict(playwright.devices["Pixel 7"]) if mobile else {}
    ctx = browser.new_context(**kw)
    requests, refused = [], []

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith("data:") or host == "127.0.0.1":
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()
    ctx.route("**/*", route)
    ctx.on("request", lambda req: requests.append(req.url))
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if mobile:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(url)
    info = page.evaluate("window.hg.ready")
    return ctx, page, info, requests, refused, errors


@pytest.fixture(scope="module", params=["desktop", "mobile"])
def booted(request, browser, playwright, demo_host):
    mobile = request.param == "mobile"
    ctx, page, info, requests, refused, errors = _open(browser, f"{demo_host.url}/?key={DEMO_KEY}", mobile=mobile,
                                                       playwright=playwright)
    yield {"profile": request.param, "page": page, "info": info, "requests": requests, "refused": refused, "errors": errors}
    ctx.close()


def _py(page, code):
    return page.evaluate("(code) => window.hg.guard.call('python', {code})", code)


def test_boots_offline_in_a_module_worker_on_loopback_only(booted):
    page, info = booted["page"], booted["info"]
    shipped = json.loads((model_dir() / "manifest.json").read_text())
    assert info["backend"] == "onnx" and info["threshold"] == pytest.approx(shipped["threshold"])
    assert info["maxLength"] == shipped["max_length"]
    assert booted["refused"] == [] and booted["errors"] == []
    hosts = {urlsplit(u).hostname for u in booted["requests"] if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}
    urls = " ".join(booted["requests"])
    for part in ("pyodide.asm.wasm", "ort-wasm-simd-threaded.wasm", "model_int8.onnx", "haltguard_kernel-", "worker.mjs"):
        assert part in urls, part
    assert len(page.workers) >= 1  # the module worker does the work
    assert page.evaluate("crossOriginIsolated") is True  # COOP/COEP from the host: ORT may use threads
    assert _py(page, "import sys\nsys.version.split()[0]").startswith("3.14")


def test_golden_vectors_pass_in_the_browser(booted):
    out = json.loads(_py(booted["page"], "import json\nfrom haltguard.kernel import golden\n"
                                         "json.dumps({'n': len(golden.load_vectors()), 'failures': golden.check_vectors()})"))
    assert out["n"] >= 50 and out["failures"] == []


def test_detect_transform_rehydrate_equal_cpython(booted):
    got = json.loads(_py(booted["page"], "import json\nfrom haltguard.kernel import parity\n"
                                         "json.dumps(parity.run_cases(), sort_keys=True, ensure_ascii=False)"))
    assert got == json.loads(json.dumps(run_cases(), sort_keys=True, ensure_ascii=False))
    page = booted["page"]
    t = page.evaluate("window.hg.doTransform()")
    assert "{{email:1}}" in t["safe_text"] and "jane.roe" not in t["safe_text"]
    r = page.evaluate("window.hg.doRehydrate()")
    assert r["restored_text"] == "Thanks! I will write to jane.roe@example.com and call +44 20 7946 0958 tomorrow."


def model_parity(ours, pairs):
    """Browser/Node scores equal Python onnxruntime's (<= 1e-5): each pair alone, then all in one padded batch.

    This holds because the default int8 model quantizes weights only (see
    haltguard.models.export.quantize_int8); with dynamic int8 activations the two runtimes
    differed by up to 1.2e-2, which this test caught.
    """
    from haltguard.models.scorer import OnnxNliScorer

    sc = OnnxNliScorer(model_dir())
    for p in pairs:
        got, ref = ours([p]), sc.score_pairs([tuple(p)])
        assert abs(got[0] - ref[0]) <= 1e-5, (p, got, ref)
    got, ref = ours(pairs), sc.score_pairs([tuple(p) for p in pairs])
    assert len(got) == len(ref)
    assert max(abs(a - b) for a, b in zip(got, ref)) <= 1e-5, (got, ref)


NAME_TEXTS = ["John Smith lives at 12 Baker Street, London. Email him at john.smith@acme.com",
              "Hi, I'm Jane.", "my name is priya ramanathan and i work at infosys in bangalore",
              "Please ship to 1600 Amphitheatre Parkway, Mountain View, CA 94043.",
              "Angela Merkel met Emmanuel Macron in Paris. " * 30,  # several chunks
              "Great question! Here is a summary.", ""]


def test_names_in_the_browser_equal_the_host_s(booted, demo_host):
    """The name model in the worker (onnxruntime-web; the kernel cuts and decodes) finds what the host finds."""
    import httpx

    page = booted["page"]
    assert page.evaluate("window.hg.guard.info.names") is True
    with httpx.Client(base_url=demo_host.url, headers={"authorization": f"Bearer {DEMO_KEY}"}, timeout=60) as c:
        for text in NAME_TEXTS:
            ours = page.evaluate("(t) => window.hg.guard.detect(t)", text)["findings"]
            host = c.post("/v1/detect", json={"text": text}).json()["findings"]
            key = lambda fs: [(f["type"], f["start"], f["end"], f["value"], f["validator"]) for f in fs]  # noqa: E731
            assert key(ours) == key(host), text
            assert all(abs(a["score"] - b["score"]) <= 1e-3 for a, b in zip(ours, host)), text  # logits agree to ~1e-6
            safe = page.evaluate("(t) => window.hg.guard.transform(t)", text)["safe_text"]
            assert safe == c.post("/v1/transform", json={"input": text}).json()["safe_text"], text
    first = page.evaluate("(t) => window.hg.guard.transform(t)", NAME_TEXTS[0])["safe_text"]
    assert first.startswith("{{person:1}} lives at ") and "{{email:1}}" in first


def test_onnxruntime_web_equals_python_onnxruntime(booted):
    page = booted["page"]
    model_parity(lambda pairs: page.evaluate("(pairs) => window.hg.guard.call('modelScores', {pairs})", pairs), PAIRS)


def test_guard_score_pairs_like_the_host(booted):
    """guard.score windows a long premise (and splits hypothesis sentences and penalises
    unsupported numbers when the model asks) exactly like the host's /v1/score and `haltguard eval nli`."""
    from haltguard.models.scorer import OnnxNliScorer

    premise = " ".join(f"In {1900 + i} the town of Arlen built bridge number {i} over the river." for i in range(40))
    pairs = [[premise, "In 1903 the town built bridge number 3. In 1937 it built bridge number 37."],
             [premise, "In 1903 the town built bridge number 3. In 1937 it built a tunnel instead."],
             [premise, "In 1903 the town built bridge number 93."],  # lowered by the manifest's number penalty
             ["Paris is in France.", "Paris is in Spain."]]
    sc = OnnxNliScorer(model_dir())
    assert len(sc.plan(*pairs[0])[0]) > 1  # the premise really is windowed
    got = booted["page"].evaluate("(pairs) => window.hg.guard.score(pairs)", pairs)["scores"]
    ref = sc.score_many([tuple(p) for p in pairs])
    assert max(abs(a - b) for a, b in zip(got, ref)) <= 1e-5, (got, ref)


def test_stream_halts_before_the_unsupported_sentence(booted, artifacts):
    page = booted["page"]
    run = page.evaluate("window.hg.run({delay: 0})")
    frames = run["frames"]
    released = "".join(f["text"] for f in frames if f["type"] == "release")
    halt = next(f for f in frames if f["type"] == "halt")
    assert "1950" in halt["evidence"]["sentence"] and halt["reason"] == "hard_limit"
    assert "1950" not in released and "Napoleon" not in released
    assert released.startswith("The Eiffel Tower stands on the Champ de Mars in Paris.")
    assert page.locator("#halt").is_visible() and "hard_limit" in page.locator("#halt-reason").inner_text()
    assert "1950" not in page.locator("#answer").inner_text()
    shot = artifacts / f"demo-halt-{booted['profile']}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_server_fallback_when_model_is_off_or_too_slow(browser, playwright, demo_host):
    host_threshold = json.loads((model_dir() / "manifest.json").read_text())["threshold"]
    for query in ("model=none", "budget=0"):
        ctx, page, info, _, refused, errors = _open(browser, f"{demo_host.url}/?key={DEMO_KEY}&{query}", playwright=playwright)
        try:
            assert info["backend"] == "host" and refused == [] and errors == []
            assert info["threshold"] == pytest.approx(host_threshold)  # the host's model judges
            if query == "budget=0":
                assert "budget" in info["fallbackReason"]
            frames = page.evaluate("window.hg.run({delay: 0})")["frames"]
            released = "".join(f["text"] for f in frames if f["type"] == "release")
            assert any(f["type"] == "halt" for f in frames) and "1950" not in released
        finally:
            ctx.close()


# never halts, judges every sentence: the stream's score frames are the bare claim supports
NO_HALT = {"hard_limit": 0.0, "soft_limit": None, "window": None, "trend": None, "cadence": {"mode": "sentence"}}


def test_one_number_per_sentence_on_every_path(browser, playwright, demo_host):
    """/v1/score, /v1/review, the WebSocket stream and the browser give each sentence the same support."""
    import httpx
    from websockets.sync.client import connect

    from haltguard.kernel.demo import ANSWER, CONTEXT
    from haltguard.kernel.driver import word_tokens
    from haltguard.kernel.sentences import split_sentences

    sentences = split_sentences(ANSWER)
    h = {"authorization": f"Bearer {DEMO_KEY}"}
    with httpx.Client(base_url=demo_host.url, timeout=60, headers=h) as c:
        score = c.post("/v1/score", json={"pairs": [{"premise": CONTEXT, "hypothesis": s} for s in sentences]}).json()
        review = c.post("/v1/review", json={"response": ANSWER, "context": CONTEXT}).json()
    ws_frames = []
    with connect(demo_host.url.replace("http", "ws") + "/v1/stream", additional_headers=h) as ws:
        ws.send(json.dumps({"type": "start", "context": CONTEXT, "halt": NO_HALT, "text": ANSWER}))
        try:
            while True:
                ws_frames.append(json.loads(ws.recv(timeout=60)))
        except Exception:  # noqa: BLE001 - the host closes the socket after "done"
            pass
    ctx, page, info, _, refused, errors = _open(browser, f"{demo_host.url}/?key={DEMO_KEY}", playwright=playwright)
    assert info["backend"] == "onnx" and refused == [] and errors == []
    browser_scores = page.evaluate("(pairs) => window.hg.guard.score(pairs)", [[CONTEXT, s] for s in sentences])["scores"]
    browser_frames = page.evaluate("""async ({context, tokens, halt}) => {
        const out = []; for await (const f of window.hg.guard.stream(tokens, {context, halt})) out.push(f); return out;
    }""", {"context": CONTEXT, "tokens": word_tokens(ANSWER), "halt": NO_HALT})
    ctx.close()

    def stream_supports(frames):
        return [f["value"] for f in frames if f["type"] == "score"]

    paths = {"score": score["scores"], "review": [c["support"] for c in review["claims"]],
             "stream": stream_supports(ws_frames), "browser score": browser_scores,
             "browser stream": stream_supports(browser_frames)}
    assert all(len(v) == len(sentences) == 6 for v in paths.values()), paths
    for name, values in paths.items():
        assert max(abs(a - b) for a, b in zip(values, paths["score"])) <= 1e-5, (name, values, paths["score"])
    # one decision rule: a sentence /v1/score calls unsupported is what review and the stream flag
    flagged = [s < score["threshold"] for s in score["scores"]]
    assert flagged == [c["verdict"] != "supported" for c in review["claims"]] == [False] * 4 + [True] * 2
