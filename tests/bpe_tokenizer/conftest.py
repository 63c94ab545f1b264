"""Fixtures of the bpe_tokenizer tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def train(impl) -> Callable[..., object]:
    """``Tokenizer.train`` of the code under test.

    Tests call it in their body, so that a stub that raises fails the test
    itself rather than its setup.
    """
    return lambda *args, **kwargs: impl.Tokenizer.train(*args, **kwargs)
