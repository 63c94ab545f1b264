"""Fixtures of the bank tests: fresh banks, and a replayer for the specs' example tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

# One row of an example table: (method, arguments, result). A result that is
# an exception class means the call must raise it.
Row = tuple[str, tuple, object]


@pytest.fixture
def new_bank(impl) -> Callable[[], object]:
    """Makes an empty ``Bank`` of the code under test.

    Tests call it in their body, so that a constructor that raises fails the
    test itself rather than its setup.
    """
    return lambda: impl.Bank()


def replay_rows(bank: object, rows: Sequence[Row]) -> None:
    """Make each call of ``rows`` in order and check its result, exactly as the spec's table says.

    A result must equal the expected one and have its type (``1`` is not
    ``True``, a list is not a tuple).
    """
    for number, (method, args, expected) in enumerate(rows, 1):
        call = f"row {number}: bank.{method}{args!r}"
        if isinstance(expected, type) and issubclass(expected, Exception):
            with pytest.raises(expected) as excinfo:
                getattr(bank, method)(*args)
            assert str(excinfo.value), f"{call}: the {expected.__name__} must say what was wrong"
            continue
        actual = getattr(bank, method)(*args)
        assert actual == expected and _same_types(actual, expected), (
            f"{call} returned {actual!r}, expected {expected!r}"
        )


def _same_types(actual: object, expected: object) -> bool:
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list | tuple):
        return all(_same_types(a, e) for a, e in zip(actual, expected, strict=True))
    return True


@pytest.fixture
def replay() -> Callable[[object, Sequence[Row]], None]:
    """The table replayer, as a fixture (test modules do not import each other)."""
    return replay_rows
