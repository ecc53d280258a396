"""schemathesis against /openapi.json of a real server: no generated request may produce a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from haltguard.testing import HostProcess
from hostenv import auth, base_config


@pytest.fixture(scope="module")
def fuzz_host(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with HostProcess(base_config(tmp, rate_limit={"enabled": False}), log=tmp / "host.log") as h:
        yield h


def _operations(url):
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    return [r.ok() for r in schema.get_all_operations()]


def test_no_server_errors(fuzz_host):
    ops = _operations(fuzz_host.url)
    assert len(ops) >= 11
    seen = {}
    for op in ops:
        @given(case=op.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            for headers in (auth(), {}):
                response = case.call(headers=headers, timeout=60)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
        run()
    assert any(200 <= s < 300 for s in seen) and any(400 <= s < 500 for s in seen)
