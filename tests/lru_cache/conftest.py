"""Fixtures of the lru_cache tests: caches of the code under test, and its package folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def new_cache(impl) -> Callable[..., object]:
    """Makes an ``LRUCache`` of the code under test with the arguments given.

    Tests call it in their body, so that a constructor that raises fails the
    test itself rather than its setup.
    """
    return lambda *args, **kwargs: impl.LRUCache(*args, **kwargs)


@pytest.fixture
def package_folder(impl) -> Callable[[], Path]:
    """The folder of the package under test (learner's or reference), found from its class."""
    return lambda: Path(sys.modules[impl.LRUCache.__module__].__file__).parent
