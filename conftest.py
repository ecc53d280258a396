"""Fixtures shared by tests/ and web_smoke/: the kernel wheel is built once per session (offline, no isolation)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def kernel_wheel(tmp_path_factory):
    from haltguard.wheel import build_kernel_wheel

    return build_kernel_wheel(tmp_path_factory.mktemp("kernel-wheel"))
