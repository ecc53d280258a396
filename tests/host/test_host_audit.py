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


def test_an_unfinished_last_record_is_set_aside_and_the_chain_goes_on(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(3):
        log.write("detect", n=i)
    with path.open("ab") as fh:  # a crash half-way through a write
        fh.write(b'{"seq":4,"ts":1.0,"event":"det')
    fresh = AuditLog(path)  # another process, or this one after a restart
    rec = fresh.write("detect", n=4)
    assert rec["seq"] == 4
    report = verify(path)
    assert report["ok"] and report["records"] == 4
    assert (tmp_path / "audit.jsonl.torn").read_bytes() == b'{"seq":4,"ts":1.0,"event":"det\n'
    with path.open("ab") as fh:  # a torn first record
        fh.truncate(0)
        fh.write(b'{"seq":1')
    assert AuditLog(path).write("x")["seq"] == 1 and verify(path)["ok"]


def test_a_keyed_chain_rewritten_without_the_key_fails_verify(tmp_path, monkeypatch):
    from haltguard.host.audit import record_hash

    key = b"k" * 40
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, key)
    for i in range(3):
        log.write("review", approved=True, i=i)
    assert verify(path, key)["ok"]
    assert not verify(path)["ok"]  # keyed records need the key
    # a forger edits a record and re-chains the whole file with plain SHA-256 (or a wrong key)
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    recs[1]["approved"] = False
    prev = "0" * 64
    for r in recs:
        r["prev"] = prev
        r["hash"] = prev = record_hash(r, b"not the key but long enough....")
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in recs))
    report = verify(path, key)
    assert not report["ok"] and {p["line"] for p in report["problems"]} == {1, 2, 3}
    monkeypatch.setenv("AUDIT_KEY", key.decode())
    out = subprocess.run([sys.executable, "-m", "haltguard.cli", "audit", "verify", str(path), "--key-env", "AUDIT_KEY"],
                         capture_output=True, text=True)
    assert out.returncode == 1
