"""In-memory key-value store with expiry, nested transactions and prefix scans.

Reference solution of the ``inmem_db`` kata, final round: every call of the
earlier rounds still works. The specs are ``stages/inmem_db/stage1.md`` to
``stage4.md``.

Data layout::

    _data      dict        key -> (value, expiry)          the committed store
    _expiries  SortedList  (expiry, key)                   one item per committed key with an expiry
    _sorted    SortedList  key                             the committed keys in order, or None
                                                           until the first scan needs them
    _stack     list[dict]  key -> (value, expiry) | None   the changes of each open transaction,
                                                           innermost last; None marks a deletion

``expiry`` is an absolute ``clock()`` time, or None for a key that never
expires. A key is live at time ``now`` while ``now < expiry``.

Every operation that needs the time reads the clock once and first drops the
committed keys whose expiry has passed, from the front of ``_expiries``: an
expired key therefore costs no memory for long, ``len`` of the store is
``len(_data)``, and no operation ever scans all keys. The clock never goes
backwards, so a key found expired stays expired.

A transaction holds only its changes, never a copy of the store: ``begin`` is
O(1), a read looks through the open change maps from the innermost out and then
in the store, an inner ``commit`` merges its map into the enclosing one, and
the outermost ``commit`` writes its map into the store. Changes keep their
absolute expiries, so a key set with a TTL inside a transaction expires on
time, committed or not.

Only ``scan`` needs the keys in order, and keeping them sorted costs every new
key O(log n), about three times the cost of a dict insertion: ``_sorted`` is
built by the first scan (one sort, O(n log n)) and kept in step from then on.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import takewhile

from sortedcontainers import SortedList

__all__ = ["InMemoryDB", "TransactionError"]

_Entry = tuple[str, float | None]  # (value, expiry); expiry None: the key never expires
_Changes = dict[str, _Entry | None]  # one transaction's changes; None: the key was deleted


class TransactionError(RuntimeError):
    """Raised by commit or rollback with no open transaction, and by a misused transaction block."""


class InMemoryDB:
    """A key-value store of ``str`` keys and ``str`` values.

    ``clock`` is a zero-argument callable returning the current time in
    seconds; it is read at most once per operation and must never go
    backwards.

    >>> db = InMemoryDB()
    >>> db.set("a", "1")
    >>> db.get("a"), len(db)
    ('1', 1)
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Create an empty store that reads the time from ``clock``.

        Runtime complexity: O(1)
        """
        self._clock = clock
        self._data: dict[str, _Entry] = {}
        self._expiries: SortedList = SortedList()
        self._sorted: SortedList | None = None
        self._stack: list[_Changes] = []

    # -- stage 1: key-value store ------------------------------------------

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing any earlier value and expiry.

        With ``ttl`` (seconds: an int or float, finite and > 0) the key lives
        while ``clock() < t + ttl``, ``t`` being the time of this call; without
        it the key never expires. Inside a transaction the change belongs to
        the innermost one.

        Raises TypeError if ``key`` or ``value`` is not a str or ``ttl`` is not
        None, an int or a float (bool is refused); ValueError if ``ttl`` is
        not finite and > 0. A rejected call changes nothing.

        Runtime complexity: O(log n) amortised

        >>> db = InMemoryDB()
        >>> db.set("a", "1", ttl=30)
        >>> db.get("a")
        '1'
        """
        _require_str("key", key)
        _require_str("value", value)
        seconds = None if ttl is None else _require_ttl(ttl)
        now = self._now()
        self._write(key, (value, None if seconds is None else now + seconds))

    def get(self, key: str) -> str | None:
        """Return the value of the live key ``key``, or None if there is none.

        Raises TypeError if ``key`` is not a str.

        Runtime complexity: O(d) amortised, d the number of open transactions

        >>> InMemoryDB().get("missing") is None
        True
        """
        _require_str("key", key)
        entry = self._lookup(key, self._now())
        return None if entry is None else entry[0]

    def delete(self, key: str) -> bool:
        """Remove the live key ``key``; return True if there was one, else False.

        Raises TypeError if ``key`` is not a str.

        Runtime complexity: O(d + log n) amortised

        >>> db = InMemoryDB()
        >>> db.set("a", "1")
        >>> db.delete("a"), db.delete("a")
        (True, False)
        """
        _require_str("key", key)
        if self._lookup(key, self._now()) is None:
            return False
        self._write(key, None)
        return True

    def __len__(self) -> int:
        """Return the number of live keys, as the innermost transaction sees them.

        Runtime complexity: O(1) amortised outside transactions; O(m) inside,
        m the number of changes held by the open transactions
        """
        now = self._now()
        count = len(self._data)
        if self._stack:
            # Only keys a transaction changed can differ from the store (whose
            # keys are all live once _now() has purged it).
            for key, entry in self._merged_changes("").items():
                count += _is_live(entry, now) - (key in self._data)
        return count

    # -- stage 2: expiry ----------------------------------------------------

    def ttl(self, key: str) -> float | None:
        """Return the seconds ``key`` has left to live.

        That is ``expiry - clock()``, ``math.inf`` for a live key without an
        expiry, None if there is no live key ``key``.

        Raises TypeError if ``key`` is not a str.

        Runtime complexity: O(d) amortised

        >>> db = InMemoryDB()
        >>> db.set("a", "1")
        >>> db.ttl("a"), db.ttl("b")
        (inf, None)
        """
        _require_str("key", key)
        now = self._now()
        entry = self._lookup(key, now)
        if entry is None:
            return None
        expiry = entry[1]
        return math.inf if expiry is None else float(expiry - now)

    def expire(self, key: str, ttl: float) -> bool:
        """Give the live key ``key`` the expiry ``clock() + ttl``; return False if there is none.

        The value is kept; any earlier expiry is replaced.

        Raises TypeError if ``key`` is not a str or ``ttl`` is not an int or a
        float (None and bool are refused); ValueError if ``ttl`` is not finite
        and > 0, even for a missing key.

        Runtime complexity: O(d + log n) amortised

        >>> db = InMemoryDB()
        >>> db.set("a", "1")
        >>> db.expire("a", 10), db.expire("b", 10)
        (True, False)
        """
        _require_str("key", key)
        seconds = _require_ttl(ttl)
        now = self._now()
        entry = self._lookup(key, now)
        if entry is None:
            return False
        self._write(key, (entry[0], now + seconds))
        return True

    # -- stage 3: transactions ------------------------------------------------

    def begin(self) -> None:
        """Open a transaction inside the innermost open one (if any).

        Runtime complexity: O(1)
        """
        self._stack.append({})

    def commit(self) -> None:
        """Close the innermost transaction, keeping its changes.

        They merge into the enclosing transaction, or into the store if this
        was the outermost one. Raises TransactionError if none is open.

        Runtime complexity: O(m log n), m the number of changes committed
        """
        if not self._stack:
            raise TransactionError("commit() with no open transaction: call begin() first")
        changes = self._stack.pop()
        if self._stack:
            self._stack[-1].update(changes)
        else:
            for key, entry in changes.items():
                self._apply(key, entry)

    def rollback(self) -> None:
        """Close the innermost transaction, discarding its changes.

        Raises TransactionError if none is open.

        Runtime complexity: O(1)
        """
        if not self._stack:
            raise TransactionError("rollback() with no open transaction: call begin() first")
        self._stack.pop()

    @contextmanager
    def transaction(self) -> Iterator[InMemoryDB]:
        """Run a ``with`` block in a transaction of its own; the target is this db.

        The block begins a transaction, commits it on normal exit, and rolls
        it back and re-raises on any exception (KeyboardInterrupt included).
        If at the end of the block its transaction is not the innermost open
        one (the body committed or rolled it back, or left a transaction of
        its own open), the block closes nothing and raises TransactionError,
        chained from the body's exception if there was one.

        >>> db = InMemoryDB()
        >>> with db.transaction() as tx:
        ...     tx.set("a", "1")
        >>> db.get("a")
        '1'
        """
        self.begin()
        mine = self._stack[-1]
        try:
            yield self
        except BaseException as exc:
            self._require_innermost(mine, exc)
            self.rollback()
            raise
        self._require_innermost(mine, None)
        self.commit()

    # -- stage 4: prefix scan -------------------------------------------------

    def scan(self, prefix: str = "", limit: int | None = None) -> list[tuple[str, str]]:
        """Return the live ``(key, value)`` pairs whose key starts with ``prefix``.

        Sorted by key in code point order (Python's ``str`` order), at most
        ``limit`` of them (None: all), as the innermost transaction sees them.

        Raises TypeError if ``prefix`` is not a str or ``limit`` is not None
        or an int (bool is refused); ValueError if ``limit`` is negative.

        Runtime complexity: O(log n + k + m log m), k the number of pairs
        returned, m the number of changes held by the open transactions; the
        first scan also sorts the store's keys, once: O(n log n)

        >>> db = InMemoryDB()
        >>> for key in ("b", "ab", "aa"):
        ...     db.set(key, key.upper())
        >>> db.scan("a")
        [('aa', 'AA'), ('ab', 'AB')]
        """
        _require_str("prefix", prefix)
        _require_limit(limit)
        now = self._now()
        changed = self._merged_changes(prefix)
        # The store's keys from prefix on, while they match, minus those a
        # transaction decides; merged in order with the changed keys.
        if self._sorted is None:
            self._sorted = SortedList(self._data)
        stored = (
            key
            for key in takewhile(lambda k: k.startswith(prefix), self._sorted.irange(prefix))
            if key not in changed
        )
        pairs: list[tuple[str, str]] = []
        for key in heapq.merge(stored, sorted(changed)):
            if len(pairs) == limit:
                break
            entry = changed[key] if key in changed else self._data[key]
            if _is_live(entry, now):
                pairs.append((key, entry[0]))
        return pairs

    # -- internals ----------------------------------------------------------

    def _now(self) -> float:
        """Read the clock once and drop the committed keys expired by then."""
        now = self._clock()
        expiries = self._expiries
        while expiries:
            expiry, key = expiries[0]
            if now < expiry:
                break
            self._apply(key, None)
        return now

    def _lookup(self, key: str, now: float) -> _Entry | None:
        """The live entry of ``key`` as the innermost transaction sees it, or None."""
        for changes in reversed(self._stack):
            if key in changes:
                entry = changes[key]
                break
        else:
            entry = self._data.get(key)
        return entry if _is_live(entry, now) else None

    def _write(self, key: str, entry: _Entry | None) -> None:
        """Record a change in the innermost transaction, or apply it if none is open."""
        if self._stack:
            self._stack[-1][key] = entry
        else:
            self._apply(key, entry)

    def _apply(self, key: str, entry: _Entry | None) -> None:
        """Write ``entry`` (None: delete) into the store, keeping the indexes in step."""
        old = self._data.pop(key, None)
        if old is not None and old[1] is not None:
            self._expiries.remove((old[1], key))
        if entry is not None:
            self._data[key] = entry
            if entry[1] is not None:
                # An entry committed already expired is dropped by the next _now().
                self._expiries.add((entry[1], key))
        if self._sorted is not None and (old is None) != (entry is None):
            if entry is None:
                self._sorted.remove(key)
            else:
                self._sorted.add(key)

    def _merged_changes(self, prefix: str) -> _Changes:
        """The open transactions' changes to keys starting with ``prefix``, innermost winning."""
        merged: _Changes = {}
        for changes in self._stack:
            merged.update(changes)
        return {key: entry for key, entry in merged.items() if key.startswith(prefix)}

    def _require_innermost(self, mine: _Changes, cause: BaseException | None) -> None:
        """Raise TransactionError unless ``mine`` is the innermost open transaction."""
        if not self._stack or self._stack[-1] is not mine:
            raise TransactionError(
                "the transaction block's own transaction is not the innermost open one when "
                "the block ends: the body must neither close it nor leave one of its own open"
            ) from cause

    def _check(self) -> None:
        """Assert the internal invariants; O(n + m) (the model tests call it after each step)."""
        assert all(isinstance(k, str) and isinstance(v, str) for k, (v, _) in self._data.items())
        self._expiries._check()
        indexed = [(expiry, key) for key, (_, expiry) in self._data.items() if expiry is not None]
        assert list(self._expiries) == sorted(indexed), "_expiries must index every expiry"
        if self._sorted is not None:
            self._sorted._check()
            assert list(self._sorted) == sorted(self._data), "_sorted must hold the store's keys"
        for changes in self._stack:
            assert all(
                isinstance(key, str) and (entry is None or isinstance(entry[0], str))
                for key, entry in changes.items()
            )


def _is_live(entry: _Entry | None, now: float) -> bool:
    return entry is not None and (entry[1] is None or now < entry[1])


def _require_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")


def _require_ttl(ttl: object) -> float:
    """Validate a TTL (type, then value) and return it as a float.

    Callers check their other arguments' types first, so every call checks all
    types before any value.
    """
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError(f"ttl must be an int or a float (seconds), not {type(ttl).__name__}")
    try:
        seconds = float(ttl)
    except OverflowError:  # an int beyond float range counts as infinite
        seconds = math.inf
    if not (0 < seconds < math.inf):
        raise ValueError(f"ttl must be finite and > 0 seconds, got {ttl!r}")
    return seconds


def _require_limit(limit: object) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be None or an int, not {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
