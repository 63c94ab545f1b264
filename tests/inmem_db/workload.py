"""The inmem_db performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` does n operations on a store of about n/2 keys,
a mix of the operations of stages 1..stages, and returns how many it did.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dojo.testing import FakeClock

STAGE_OPERATIONS = {
    1: "set, get, delete",
    2: "set with a TTL, ttl, expire (the clock moves)",
    3: "nested transactions (begin, commit, rollback)",
    4: "prefix scans with a limit",
}
PREFIXES = ("user:", "order:", "item:", "cart:", "session:")


def workload(impl: object, n: int, stages: int) -> int:
    """n operations of stages 1..stages on ``impl.InMemoryDB``; returns the count."""
    return _mix(lambda clock: impl.InMemoryDB(clock=clock), n, stages)


def _mix(new_db: Callable[[FakeClock], object], n: int, stages: int) -> int:
    rng = random.Random(n)
    clock = FakeClock()
    db = new_db(clock)
    ops = 0
    while ops < n:
        i = ops
        key = f"{PREFIXES[i % 5]}{rng.randrange(n):08d}"
        if stages >= 2:
            clock.advance(0.25)
        step = i % 20
        if stages >= 4 and step == 0:
            db.scan(PREFIXES[rng.randrange(5)] + str(rng.randrange(10)), limit=10)
        elif stages >= 3 and step == 1:
            db.begin()
            db.set(key, "tx")
            db.begin()
            db.delete(key)
            db.rollback()
            db.commit()
            ops += 4
        elif stages >= 2 and step in (2, 3, 4):
            db.set(key, str(i), ttl=rng.choice((5, 60, 3600)))
        elif stages >= 2 and step == 5:
            db.ttl(key)
        elif stages >= 2 and step == 6:
            db.expire(key, 30)
        elif step in (7, 8, 9, 10, 11):
            db.get(key)
        elif step == 12:
            db.delete(key)
        else:
            db.set(key, str(i))
        ops += 1
    return ops


class NaiveScanDB:
    """The obvious design: a plain dict, and a scan that filters and sorts every key."""

    def __init__(self, clock: FakeClock) -> None:
        self._data: dict[str, str] = {}

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = value

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    def scan(self, prefix: str = "", limit: int | None = None) -> list[tuple[str, str]]:
        pairs = sorted((k, v) for k, v in self._data.items() if k.startswith(prefix))
        return pairs[:limit]


def scan_mix(new_db: Callable[[FakeClock], object], n: int) -> int:
    """n operations on n/2 keys: 19 in 20 sets, gets and deletes, 1 in 20 a prefix scan."""
    rng = random.Random(n)
    db = new_db(FakeClock())
    for i in range(n):
        key = f"{PREFIXES[i % 5]}{rng.randrange(n):08d}"
        step = i % 20
        if step == 0:
            db.scan(PREFIXES[rng.randrange(5)] + str(rng.randrange(10)), limit=10)
        elif step < 8:
            db.get(key)
        elif step == 8:
            db.delete(key)
        else:
            db.set(key, str(i))
    return n


BASELINES: dict[str, Callable[[object, int], int]] = {
    "scan mix, reference": lambda impl, n: scan_mix(lambda c: impl.InMemoryDB(clock=c), n),
    "scan mix, naive dict-scan": lambda impl, n: scan_mix(NaiveScanDB, n),
}
