"""A bounded least-recently-used cache: your code for the lru_cache kata.

The spec of this round is ``stages/lru_cache/stage1.md``. Run its tests with::

    pytest --stage 1 katas/lru_cache

Replace each ``raise NotImplementedError`` with your code. Keep the names and
signatures: the tests call them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

__all__ = ["LRUCache"]


class LRUCache:
    """A cache of at most ``capacity`` entries that evicts the least recently used.

    Keys follow dict rules: ``1``, ``1.0`` and ``True`` are one key.

    >>> cache = LRUCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a")
    1
    >>> cache.put("c", 3)
    >>> cache.keys()
    ['a', 'c']
    """

    def __init__(self, capacity: int) -> None:
        """Create an empty cache.

        Raises TypeError if ``capacity`` is not an int (bool is not), ValueError if below 1.
        """
        raise NotImplementedError("TODO(stage 1): LRUCache.__init__")

    @property
    def capacity(self) -> int:
        """The most entries the cache holds."""
        raise NotImplementedError("TODO(stage 1): LRUCache.capacity")

    def get(self, key: Hashable, default: object = None) -> Any:
        """Return the value of ``key`` and make it most recent, or ``default`` on a miss."""
        raise NotImplementedError("TODO(stage 1): LRUCache.get")

    def put(self, key: Hashable, value: object) -> None:
        """Insert or update ``key`` as the most recent; evict the least recent if over capacity."""
        raise NotImplementedError("TODO(stage 1): LRUCache.put")

    def __len__(self) -> int:
        """The number of entries."""
        raise NotImplementedError("TODO(stage 1): LRUCache.__len__")

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is cached; recency does not change."""
        raise NotImplementedError("TODO(stage 1): LRUCache.__contains__")

    def keys(self) -> list[Any]:
        """A new list of the keys, least recent first."""
        raise NotImplementedError("TODO(stage 1): LRUCache.keys")
