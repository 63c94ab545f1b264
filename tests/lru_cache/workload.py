"""The lru_cache performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` does n operations on a cache of capacity n/4
over n/2 distinct keys (so about half the gets miss and puts evict), a mix of
the operations of stages 1..stages, and returns how many it did. Stage 4's
persistence is left out: it measures the disk, not the design.
"""

from __future__ import annotations

import functools
import random
from collections import OrderedDict
from collections.abc import Callable, Hashable

STAGE_OPERATIONS = {
    1: "put, get, in, len (evicting at capacity)",
    2: "delete, resize",
    3: "call (memoized), generate_key",
    4: "none (persistence measures the disk, not the design)",
}


def workload(impl: object, n: int, stages: int) -> int:
    """n operations of stages 1..min(stages, 3) on ``impl.LRUCache``; returns the count."""
    capacity = max(1, n // 4)
    cache = impl.LRUCache(capacity)
    rng = random.Random(n)
    for i in range(n):
        key = rng.randrange(n // 2 + 1)
        step = i % 20
        if stages >= 3 and step in (0, 1):
            cache.call(_square, key)
        elif stages >= 2 and step == 2:
            cache.delete(key)
        elif stages >= 2 and step == 3 and i % 1000 == 3:
            cache.resize(max(1, capacity - 1) if cache.capacity == capacity else capacity)
        elif step < 12:
            cache.get(key)
        elif step == 12:
            _ = key in cache
        else:
            cache.put(key, i)
    return n


def _square(x: int) -> int:
    return x * x


def get_put_mix(
    get: Callable[[Hashable], object], put: Callable[[Hashable, object], None], n: int
) -> int:
    """n gets and puts (12 in 20 gets) over n/2 keys, on any cache of capacity n/4."""
    rng = random.Random(n)
    for i in range(n):
        key = rng.randrange(n // 2 + 1)
        if i % 20 < 12:
            get(key)
        else:
            put(key, i)
    return n


class OrderedDictLRU:
    """The textbook LRU on ``collections.OrderedDict`` (allowed in stage 1 only)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable) -> object:
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key]

    def put(self, key: Hashable, value: object) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.capacity:
            self._data.popitem(last=False)


def _reference_mix(impl: object, n: int) -> int:
    cache = impl.LRUCache(max(1, n // 4))
    return get_put_mix(cache.get, cache.put, n)


def _ordered_dict_mix(impl: object, n: int) -> int:
    cache = OrderedDictLRU(max(1, n // 4))
    return get_put_mix(cache.get, cache.put, n)


def _functools_mix(impl: object, n: int) -> int:
    # functools.lru_cache memoizes a function: a get is a call, a put is a
    # call with a new value folded into the key, so both cost one lookup.
    @functools.lru_cache(maxsize=max(1, n // 4))
    def lookup(key: Hashable) -> Hashable:
        return key

    return get_put_mix(lookup, lambda key, value: lookup((key, value)), n)


BASELINES: dict[str, Callable[[object, int], int]] = {
    "get/put mix, reference": _reference_mix,
    "get/put mix, OrderedDict LRU": _ordered_dict_mix,
    "get/put mix, functools.lru_cache": _functools_mix,
}
