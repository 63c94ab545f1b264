"""In-memory key-value store: your code for the inmem_db kata.

The spec of this round is ``stages/inmem_db/stage1.md``. Run its tests with::

    pytest --stage 1 katas/inmem_db

Replace each ``raise NotImplementedError`` with your code. Keep the names and
signatures: the tests call them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["InMemoryDB"]


class InMemoryDB:
    """A key-value store of ``str`` keys and ``str`` values.

    >>> db = InMemoryDB()
    >>> db.set("a", "1")
    >>> db.get("a"), len(db)
    ('1', 1)
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Create an empty store; ``clock`` is a clock you can ignore for now."""
        raise NotImplementedError("TODO(stage 1): InMemoryDB.__init__")

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any earlier value.

        Raises TypeError if ``key`` or ``value`` is not a str. A rejected call
        changes nothing.
        """
        raise NotImplementedError("TODO(stage 1): InMemoryDB.set")

    def get(self, key: str) -> str | None:
        """Return the value stored under ``key``, or None if there is none.

        Raises TypeError if ``key`` is not a str.
        """
        raise NotImplementedError("TODO(stage 1): InMemoryDB.get")

    def delete(self, key: str) -> bool:
        """Remove ``key``; return True if it was there, else False.

        Raises TypeError if ``key`` is not a str.
        """
        raise NotImplementedError("TODO(stage 1): InMemoryDB.delete")

    def __len__(self) -> int:
        """Return the number of keys stored."""
        raise NotImplementedError("TODO(stage 1): InMemoryDB.__len__")
