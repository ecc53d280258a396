import json
import multiprocessing
import subprocess
import sys

from haltguard.host.audit import AuditLog, verify


def _write_many(path, n, tag):
    log = AuditLog(path)
    for i in range(n):
        log.write("test", writer=tag, i=i)


def test_chain_verifies_and_names_edited_and_deleted_lines(tmp_path):
    p = tmp_path / "a.jsonl"
    log = AuditLog(p)
    for i in range(5):
        log.write("transform", key="k", types=["email"], i=i)
    assert verify(p)["ok"] and verify(p)["records"] == 5
    lines = p.read_text().splitlines(keepends=True)

    edited = lines[:]
    rec = json.loads(edited[2])
    rec["types"] = []
    edited[2] = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
    p.write_text("".join(edited))
    r = verify(p)
    assert not r["ok"] and r["problems"][0]["line"] == 3 and "edited" in r["problems"][0]["problem"]

    p.write_text("".join(lines[:1] + lines[2:]))  # delete line 2
    r = verify(p)
    assert not r["ok"] and r["problems"][0]["line"] == 2

    p.write_text("".join(lines))
    out = subprocess.run([sys.executable, "-m", "haltguard.cli", "audit", "verify", str(p)], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["ok"]
    p.write_text("".join(lines[:3] + lines[4:]))
    out = subprocess.run([sys.executable, "-m", "haltguard.cli", "audit", "verify", str(p)], capture_output=True, text=True)
    assert out.returncode == 1 and json.loads(out.stdout)["problems"][0]["line"] == 4


def test_concurrent_writers_keep_one_chain(tmp_path):
    p = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(p, 200, t)) for t in "abc"]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
    r = verify(p)
    assert r["ok"], r["problems"][:3]
    assert r["records"] == 600
