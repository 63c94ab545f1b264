"""Fixtures of the inmem_db tests: a fake clock the test moves by hand, and dbs reading it."""

from __future__ import annotations

from collections.abc import Callable

import pytest


class FakeClock:
    """A clock that stands still until the test calls ``advance``.

    ``clock()`` returns the time in seconds; ``calls`` counts the reads, so a
    test can check that an operation reads the clock at most once. Time starts
    at 1000.0 (not 0, so an expiry mistaken for a duration shows), and the
    tests advance it by multiples of 1/4 or 1/1024 second: every time and
    every ``time + ttl`` they compute is exact in floating point.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "the clock never goes backwards"
        self.now += seconds


@pytest.fixture
def make_clock() -> Callable[[], FakeClock]:
    """A factory of fresh fake clocks, for state machines (which cannot take fixtures)."""
    return FakeClock


@pytest.fixture
def clock(make_clock: Callable[[], FakeClock]) -> FakeClock:
    return make_clock()


@pytest.fixture
def new_db(impl, clock: FakeClock) -> Callable[[], object]:
    """Makes an empty ``InMemoryDB`` of the code under test that reads the fake clock.

    Tests call it in their body, so that a constructor that raises fails the
    test itself rather than its setup.
    """
    return lambda: impl.InMemoryDB(clock=clock)
