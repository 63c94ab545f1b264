"""Fixtures of the inmem_db tests: a fake clock the test moves by hand, and dbs reading it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dojo.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """Starts at 1000.0; the tests move it by multiples of 1/4 or 1/1024 s, so
    every time and every ``time + ttl`` they compute is exact in floating point."""
    return FakeClock()


@pytest.fixture
def new_db(impl, clock: FakeClock) -> Callable[[], object]:
    """Makes an empty ``InMemoryDB`` of the code under test that reads the fake clock.

    Tests call it in their body, so that a constructor that raises fails the
    test itself rather than its setup.
    """
    return lambda: impl.InMemoryDB(clock=clock)
