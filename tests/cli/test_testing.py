"""haltguard.testing helpers that are not servers."""

import asyncio
import threading

from haltguard.testing import run_coroutine


async def _where():
    await asyncio.sleep(0)
    return threading.get_ident()


def test_run_coroutine_without_a_running_loop_runs_here():
    assert run_coroutine(_where()) == threading.get_ident()


def test_run_coroutine_under_a_running_loop_uses_a_fresh_one():
    async def outer():
        # asyncio.run would raise here ("cannot be called from a running event loop")
        return run_coroutine(_where()), threading.get_ident()

    inner, here = asyncio.run(outer())
    assert inner != here
