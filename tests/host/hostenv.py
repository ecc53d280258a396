"""Keys and config builders shared by the host tests (a module, so test files can import it)."""

from __future__ import annotations

from haltguard.host.config import ALL_SCOPES

ADMIN_KEY = "admin-key-0123456789abcdef"
READER_KEY = "detect-only-key-0123456789"
TENANT_KEY = "tenant-b-key-0123456789abc"
SECRET_A = "A" * 40


def base_config(tmp_path, **over):
    cfg = {
        "auth": {"keys": [
            {"name": "admin", "key": ADMIN_KEY, "scopes": list(ALL_SCOPES)},
            {"name": "reader", "key": READER_KEY, "scopes": ["detect"]},
            {"name": "tenant-b", "key": TENANT_KEY, "tenant": "b"},
        ]},
        "session": {"keys": [{"kid": "k1", "secret": SECRET_A}]},
        "audit": {"path": str(tmp_path / "audit.jsonl")},
        "rate_limit": {"rate": 1000, "burst": 2000},
        "server": {"demo": False},
    }
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg


def auth(key=ADMIN_KEY):
    return {"Authorization": f"Bearer {key}"}
