"""Browser smoke fixtures: Debian Chromium through pytest-playwright, the bundle served by a real host.

Playwright never downloads a browser here: it is /usr/bin/chromium (scripts/setup.sh installs it from
Debian), launched with the flags ../shared/OFFLINE.md lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from haltguard.kernel.resources import checkout_root
from haltguard.testing import CHROMIUM, CHROMIUM_ARGS, HostProcess
from webenv import DEMO_KEY

ARTIFACTS = checkout_root() / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/setup.sh (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    from haltguard.bundle import build_bundle

    return build_bundle(tmp_path_factory.mktemp("bundle") / "wasm-bundle")


@pytest.fixture(scope="session")
def demo_host(bundle, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-host")
    scopes = ["score", "review", "stream", "detect", "transform", "rehydrate"]
    cfg = {"auth": {"keys": [{"name": "page", "key": DEMO_KEY, "scopes": scopes}]},
           "session": {"keys": [{"kid": "d1", "secret": "d" * 48}]},
           "server": {"bundle_dir": bundle["out"]}, "rate_limit": {"rate": 1000, "burst": 2000}}
    with HostProcess(cfg, log=tmp / "host.log") as h:
        yield h


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
