from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "haltguard"


def run(*args):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


def test_help_lists_subcommands_with_descriptions():
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("demo", "golden", "bench"):
        line = next(l for l in out.stdout.splitlines() if l.strip().startswith(cmd + " "))
        assert len(line.split(None, 1)[1]) > 10


def test_demo_prints_released_text_warning_and_halt():
    out = run("demo")
    assert out.returncode == 0, out.stderr
    assert "released  The Eiffel Tower stands" in out.stdout
    assert "WARNING   soft_limit" in out.stdout
    assert "HALT      hard_limit" in out.stdout
    assert "until 1950" in out.stdout.split("withheld:")[1]


def test_demo_json():
    out = run("demo", "--json")
    data = json.loads(out.stdout)
    assert data["record"]["halted"] and data["events"][-1]["type"] == "halt"
    assert "1950" not in data["record"]["released_text"]


def test_golden_command():
    out = run("golden")
    assert out.returncode == 0 and json.loads(out.stdout)["failures"] == []


def test_unknown_command_is_a_usage_error():
    out = run("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr
