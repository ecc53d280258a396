"""Every Python example in the README and docs/ runs as written (from a fresh interpreter)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from haltguard.kernel.resources import checkout_root

ROOT = checkout_root()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page, i, code) for page in PAGES
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S))]


def test_the_readme_stays_a_user_guide():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    assert max(len(p.split()) for p in "\n".join(lines).split("\n\n")) < 200  # no lab-notebook paragraphs


DOC_KEY = "some-long-secret-key"
DOC_HOST = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def doc_proxy():
    """For the examples that talk to a running host's proxy: a host and a scripted LLM behind it."""
    import re as _re

    from haltguard.testing import HostProcess, ScriptedUpstream

    def answer(body):
        ph = _re.findall(r"\{\{[^}]+\}\}", body["messages"][-1]["content"])
        return f"I will write to {ph[0] if ph else 'you'}. The Eiffel Tower was completed in 1889."

    with ScriptedUpstream(answer) as up, HostProcess({"server": {"demo": False}},
                                                     env={"HALTGUARD_API_KEYS": f"me:{DOC_KEY}",
                                                          "HALTGUARD_UPSTREAM_URL": up.url}) as h:
        yield h.url


@pytest.mark.parametrize("page, index, code", BLOCKS, ids=[f"{p.name}#{i}" for p, i, _ in BLOCKS])
def test_python_example_runs(page, index, code, tmp_path, request):
    if DOC_HOST + "/v1" in code:  # a proxy example: run it against a real host and a scripted LLM
        code = code.replace(DOC_HOST, request.getfixturevalue("doc_proxy"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, f"{page.name} example {index}:\n{code}\n{proc.stderr[-2000:]}"
    # each print(...) with a trailing comment promises that output ("..." stands for anything)
    for line in code.splitlines():
        m = re.match(r"\s*print\(.*\)\s*#\s*(.+?)\s*$", line)
        if m:
            want = ".*".join(re.escape(part) for part in m.group(1).split("..."))
            assert re.search(want, proc.stdout, re.S), (m.group(1), proc.stdout)


YAML = [(page, i, text) for page in PAGES
        for i, text in enumerate(re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S))]


@pytest.mark.parametrize("page, index, text", YAML, ids=[f"{p.name}#yaml{i}" for p, i, _ in YAML])
def test_config_examples_are_valid_host_configs(page, index, text):
    import yaml

    from haltguard.host.config import load_config

    env = {name: ("ab" * 32 if name.endswith("SHA256") else "x" * 48) for name in re.findall(r"\$\{([A-Z0-9_]+)", text)}
    load_config(data=yaml.safe_load(text), env=env)  # raises with the dotted field on any mistake


CURLS = [(page, " ".join(cmd.replace("\\\n", " ").split()))
         for page in PAGES for block in re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
         for cmd in re.findall(r"^curl .*?(?:'\s*$|\n(?!\s))", block.replace("\\\n", " "), re.M | re.S)]


def test_curl_examples_answer_as_documented(tmp_path):
    """Every curl line of the README and docs, run for real against a host (session placeholders filled in)."""
    import json
    import shutil

    from haltguard.testing import HostProcess

    assert CURLS and shutil.which("curl")
    key = "some-long-secret-key"
    with HostProcess({"server": {"demo": False}}, env={"HALTGUARD_API_KEYS": f"me:{key}"}) as h:
        session = None
        for page, cmd in CURLS:
            cmd = cmd.replace("localhost:8000", h.url.removeprefix("http://"))
            if "<session_state from transform>" in cmd:
                assert session, f"{page.name}: rehydrate before any transform"
                cmd = cmd.replace("<session_state from transform>", session)
            proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env={"KEY": key, "PATH": "/usr/bin:/bin"},
                                  timeout=60)
            body = json.loads(proc.stdout)
            assert "error" not in body, (page.name, cmd, body)
            session = body.get("session_state", session)
            if "/v1/review" in cmd:
                assert [c["verdict"] for c in body["claims"]] == ["supported", "contradicted"]
            if "/v1/rehydrate" in cmd:
                assert "jane.roe@example.com" in body["restored_text"]
