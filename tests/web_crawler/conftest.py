"""Fixtures of the web_crawler tests.

The in-memory web, the recorders and the call checks live in
``tests/web_crawler/web.py`` (test modules import them from there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web_crawler.web import switching_often


@pytest.fixture
def shaken() -> Iterator[None]:
    """Threads switch every 10 µs during the test, so that races show."""
    with switching_often():
        yield
