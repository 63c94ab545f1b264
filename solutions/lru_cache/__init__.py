"""A bounded least-recently-used cache: memoizer, thread-safe, durable.

Reference solution of the ``lru_cache`` kata, final round: every call of the
earlier rounds still works. The specs are ``stages/lru_cache/stage1.md`` to
``stage4.md``.

Data layout (as in CPython's ``functools._lru_cache_wrapper``)::

    _map   dict   key -> link                       one link per entry
    _root  link   [PREV, NEXT, KEY, VALUE]          sentinel of a circular doubly linked list

    root <-> least recent <-> ... <-> most recent <-> root

The sentinel means no end of the list is ever ``None``: linking and unlinking
are four assignments each, so every operation is O(1). A link keeps the key
object first inserted, as a dict does, so ``keys()`` and ``_map`` agree.

One ``Lock`` guards all state. It is never held while foreign code runs:
``call`` releases it around ``func`` and ``on_evict`` runs after it is released,
so a memoized function or a callback may use the cache without deadlock.

Durability (``persistence_path``): the folder holds ``snapshot.json`` (the
``save`` format plus the number ``generation``) and ``journal-<generation>.jsonl``,
one JSON record per line: ``["put", key, value]`` or ``["delete", key]``. Each
record is written and flushed to the OS before the method returns. Compaction
writes a new snapshot naming the next generation and only then drops the old
journal, so a crash between the two leaves a snapshot whose journal is the
new, empty one: no record is ever replayed twice.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

__all__ = ["CacheFileError", "LRUCache"]

PREV, NEXT, KEY, VALUE = 0, 1, 2, 3  # names of the fields of a link
FORMAT, VERSION = "lru-cache", 1
SNAPSHOT = "snapshot.json"
COMPACT_FACTOR = 4  # the journal is compacted past this many records per unit of capacity


class CacheFileError(ValueError):
    """A cache file that is not valid JSON, not this format, or of another version."""


def _check_capacity(capacity: object) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"capacity must be an int, not {type(capacity).__name__}")
    if capacity < 1:
        raise ValueError(f"capacity must be at least 1, got {capacity}")
    return capacity


# --- the file format -------------------------------------------------------
# Scalars, lists and dicts are stored as themselves, so a file of plain data
# reads as plain JSON. A tuple is the object {"__tuple__": [...]}; a dict whose
# only key is "__tuple__" or "__dict__" is wrapped as {"__dict__": {...}}, so
# that no stored dict ever passes for a tuple. Encoding and decoding share one
# depth bound, so whatever save writes load reads back, and whatever load
# accepts save can write: no file can drive either into a RecursionError.

TUPLE, DICT = "__tuple__", "__dict__"
MAX_DEPTH = 100  # containers a key or value may nest (the spec's bound)


def _encode_key(key: object, depth: int = 0) -> object:
    if isinstance(key, float) and not math.isfinite(key):
        raise TypeError(f"a key must be a finite float, not {key!r}")
    if key is None or isinstance(key, (str, int, float)):
        return key
    if isinstance(key, tuple):
        _check_depth(depth)
        return {TUPLE: [_encode_key(item, depth + 1) for item in key]}
    raise TypeError(f"cannot store a key of type {type(key).__name__}")


def _encode_value(value: object, depth: int = 0) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"a value must be a finite float, not {value!r}")
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (tuple, list, dict)):
        _check_depth(depth)
    if isinstance(value, tuple):
        return {TUPLE: [_encode_value(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return [_encode_value(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a dict value must have str keys only")
        encoded = {k: _encode_value(v, depth + 1) for k, v in value.items()}
        return {DICT: encoded} if len(value) == 1 and set(value) & {TUPLE, DICT} else encoded
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def _check_depth(depth: int) -> None:
    """``depth`` containers enclose the one about to be encoded."""
    if depth >= MAX_DEPTH:
        raise TypeError(f"cannot store containers nested more than {MAX_DEPTH} deep")


def _decode(data: object, *, key: bool = False, depth: int = 0) -> object:
    if isinstance(data, float) and not math.isfinite(data):
        raise ValueError(f"{data!r} is not a finite float (a number too large?)")
    if data is None or isinstance(data, (str, int, float)):
        return data
    if depth >= MAX_DEPTH:
        raise ValueError(f"a key or value nested more than {MAX_DEPTH} deep")
    if isinstance(data, dict) and len(data) == 1 and isinstance(data.get(TUPLE), list):
        return tuple(_decode(item, key=key, depth=depth + 1) for item in data[TUPLE])
    if key:
        raise ValueError(f"a key must be a scalar or a tuple, got {data!r}")
    if isinstance(data, list):
        return [_decode(item, depth=depth + 1) for item in data]
    if isinstance(data, dict) and len(data) == 1 and isinstance(data.get(DICT), dict):
        data = data[DICT]
    if isinstance(data, dict):
        return {k: _decode(v, depth=depth + 1) for k, v in data.items()}
    raise ValueError(f"not an encoded value: {data!r}")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _read_json(text: str) -> object:
    """Plain JSON only: ``NaN`` and ``Infinity`` are refused, and so is JSON
    nested too deep for the parser (a ValueError either way)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _dumps(data: object) -> str:
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


def _write_atomically(path: Path, text: str) -> None:
    """Temp file in the same folder, flush, fsync, ``os.replace``: old file or new, never torn."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _parse_file(path: Path) -> tuple[int, list[tuple[Any, Any]], dict]:
    """Capacity and entries (least recent first) of a cache file; FileNotFoundError if none."""

    def bad(problem: str) -> CacheFileError:
        return CacheFileError(f"{path}: {problem}")

    raw = path.read_bytes()
    try:
        data = _read_json(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError included
        raise bad(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f'not an lru-cache file (expected "format": "{FORMAT}")')
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        raise bad(f"version {version!r} is not supported (expected {VERSION})")
    capacity, entries = data.get("capacity"), data.get("entries")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise bad(f"capacity must be an int of at least 1, got {capacity!r}")
    if not isinstance(entries, list) or len(entries) > capacity:
        raise bad("entries must be a list of at most capacity [key, value] pairs")
    pairs, seen = [], set()
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 2:
            raise bad(f"an entry must be a [key, value] pair, got {entry!r}")
        try:
            pair = (_decode(entry[0], key=True), _decode(entry[1]))
        except ValueError as exc:
            raise bad(str(exc)) from None
        if pair[0] in seen:
            raise bad(f"the key {pair[0]!r} appears twice")
        seen.add(pair[0])
        pairs.append(pair)
    return capacity, pairs, data


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

    def __init__(
        self,
        capacity: int,
        *,
        on_evict: Callable[[Any, Any], object] | None = None,
        persistence_path: str | os.PathLike[str] | None = None,
    ) -> None:
        """Create an empty cache; with ``persistence_path``, recover what that folder holds.

        Raises TypeError if ``capacity`` is not an int (bool is not), ValueError if below 1.
        """
        self._capacity = _check_capacity(capacity)
        self._on_evict = on_evict
        self._map: dict[Hashable, list] = {}
        self._root: list = []
        self._root[:] = [self._root, self._root, None, None]
        self._lock = threading.Lock()
        self._hits = self._misses = 0
        self._folder: Path | None = None
        self._journal: Any = None
        self._records = 0
        self._generation = 0
        if persistence_path is not None:
            self._folder = Path(persistence_path)
            self._recover()

    # --- the linked list ---------------------------------------------------

    def _move_last(self, link: list) -> None:
        root = self._root
        last = root[PREV]
        if link is last:
            return
        link[PREV][NEXT], link[NEXT][PREV] = link[NEXT], link[PREV]
        link[PREV], link[NEXT] = last, root
        last[NEXT] = root[PREV] = link

    def _link_last(self, link: list) -> None:
        last = self._root[PREV]
        link[PREV], link[NEXT] = last, self._root
        last[NEXT] = self._root[PREV] = link

    @staticmethod
    def _unlink(link: list) -> None:
        link[PREV][NEXT], link[NEXT][PREV] = link[NEXT], link[PREV]

    def _store(self, key: Hashable, value: object) -> list[tuple[Any, Any]]:
        """Insert or update ``key`` as most recent; return the evicted entries."""
        link = self._map.get(key)
        if link is not None:
            link[VALUE] = value
            self._move_last(link)
            return []
        root = self._root
        if len(self._map) < self._capacity:
            last = root[PREV]
            last[NEXT] = root[PREV] = self._map[key] = [last, root, key, value]
            return []
        # Full: the least recent link is evicted and reused for the new entry,
        # as functools does; a full cache then allocates no link per put.
        oldest = root[NEXT]
        evicted = [(oldest[KEY], oldest[VALUE])]
        del self._map[oldest[KEY]]
        self._unlink(oldest)
        oldest[KEY], oldest[VALUE] = key, value
        self._link_last(oldest)
        self._map[key] = oldest
        return evicted

    def _evict_down_to(self, size: int) -> list[tuple[Any, Any]]:
        evicted = []
        while len(self._map) > size:
            oldest = self._root[NEXT]
            self._unlink(oldest)
            del self._map[oldest[KEY]]
            evicted.append((oldest[KEY], oldest[VALUE]))
        return evicted

    def _notify(self, evicted: list[tuple[Any, Any]]) -> None:
        # Called with the lock released and the cache consistent: a callback
        # may use the cache, and an exception from it leaves nothing half done.
        if self._on_evict is not None:
            for key, value in evicted:
                self._on_evict(key, value)

    def _entries(self) -> list[tuple[Any, Any]]:
        entries, link = [], self._root[NEXT]
        while link is not self._root:
            entries.append((link[KEY], link[VALUE]))
            link = link[NEXT]
        return entries

    def _check(self) -> None:
        """Verify the invariants; the model tests call this after every step."""
        links, link = [], self._root[NEXT]
        while link is not self._root:
            assert link[NEXT][PREV] is link, "broken back link"
            assert self._map.get(link[KEY]) is link, "list and map disagree"
            links.append(link)
            link = link[NEXT]
        assert len(links) == len(self._map) <= self._capacity, "size out of step"

    # --- round 1 -------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """The most entries the cache holds."""
        return self._capacity

    def get(self, key: Hashable, default: object = None) -> Any:
        """Return the value of ``key`` and make it most recent, or ``default`` on a miss.

        Runtime complexity: O(1).
        """
        with self._lock:
            link = self._map.get(key)
            if link is None:
                return default
            root = self._root
            last = root[PREV]
            if link is not last:  # _move_last, inlined: get is the hottest path
                link[PREV][NEXT], link[NEXT][PREV] = link[NEXT], link[PREV]
                link[PREV], link[NEXT] = last, root
                last[NEXT] = root[PREV] = link
            return link[VALUE]

    def put(self, key: Hashable, value: object) -> None:
        """Insert or update ``key`` as the most recent; evict the least recent if over capacity.

        Runtime complexity: O(1).
        """
        with self._lock:
            if self._folder is None:
                evicted = self._store(key, value)
            else:
                record = ["put", _encode_key(key), _encode_value(value)]
                hash(key)  # an unhashable key is refused before anything is written
                evicted = self._store(key, value)
                self._append(record)
        if evicted:
            self._notify(evicted)

    def __len__(self) -> int:
        """The number of entries."""
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is cached; recency does not change."""
        return key in self._map

    def keys(self) -> list[Any]:
        """A new list of the keys, least recent first. Runtime complexity: O(n)."""
        with self._lock:
            return [key for key, _ in self._entries()]

    # --- round 2 -------------------------------------------------------------

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``; return True if it was cached. ``on_evict`` is not called.

        Runtime complexity: O(1).
        """
        hash(key)  # dict.pop skips hashing when the dict is empty: refuse unhashable keys anyway
        with self._lock:
            link = self._map.pop(key, None)
            if link is None:
                return False
            self._unlink(link)
            self._append(["delete", _encode_key(link[KEY])] if self._folder else None)
            return True

    def resize(self, capacity: int) -> None:
        """Set a new capacity, evicting the least recent entries down to it.

        Raises TypeError or ValueError as the constructor does, changing nothing.
        Runtime complexity: O(1) per evicted entry.
        """
        _check_capacity(capacity)
        with self._lock:
            self._capacity = capacity
            evicted = self._evict_down_to(capacity)
            if self._folder is not None:
                self._compact()
        self._notify(evicted)

    # --- round 3 -------------------------------------------------------------

    def generate_key(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple:
        """The cache key of ``func(*args, **kwargs)``: equal inputs give equal keys, in any process.

        ``func`` is named by its module, qualified name and first line number;
        keyword order does not matter, but ``f(1)`` and ``f(x=1)`` differ.
        """
        code = getattr(func, "__code__", None)
        name = (
            getattr(func, "__module__", None),
            getattr(func, "__qualname__", None),
            code.co_firstlineno if code is not None else None,
        )
        return (name, args, tuple(sorted(kwargs.items())))

    def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The cached result of ``func(*args, **kwargs)``; on a miss, compute and cache it.

        ``func`` runs without the lock held; an exception is not cached, counts
        as a miss and propagates.
        """
        key = self.generate_key(func, *args, **kwargs)
        with self._lock:
            link = self._map.get(key)
            if link is not None:
                self._hits += 1
                self._move_last(link)
                return link[VALUE]
        try:
            result = func(*args, **kwargs)
        finally:
            with self._lock:
                self._misses += 1
        self.put(key, result)
        return result

    @property
    def hits(self) -> int:
        """The number of ``call`` s answered from the cache."""
        return self._hits

    @property
    def misses(self) -> int:
        """The number of ``call`` s that ran ``func``."""
        return self._misses

    # --- round 4 -------------------------------------------------------------

    def _document(self) -> dict:
        entries = self._entries()
        return {
            "format": FORMAT,
            "version": VERSION,
            "capacity": self._capacity,
            "entries": [[_encode_key(k), _encode_value(v)] for k, v in entries],
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write capacity, entries and recency order to ``path``, atomically.

        Raises TypeError for a key or value the format cannot hold; the file is then untouched.
        """
        with self._lock:
            text = _dumps(self._document())
        _write_atomically(Path(path), text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LRUCache:
        """A cache equal to the one saved at ``path``.

        Raises FileNotFoundError for a missing file, CacheFileError for anything else wrong.
        """
        path = Path(path)
        capacity, entries, _ = _parse_file(path)
        cache = cls(capacity)
        for key, value in entries:
            cache._store(key, value)
        return cache

    def _append(self, record: list | None) -> None:
        if record is None or self._journal is None:
            return
        self._journal.write(_dumps(record) + "\n")
        self._journal.flush()  # to the OS: survives a crash of this process
        self._records += 1
        if self._records > COMPACT_FACTOR * self._capacity:
            self._compact()

    def _journal_path(self, generation: int) -> Path:
        assert self._folder is not None
        return self._folder / f"journal-{generation}.jsonl"

    def _compact(self) -> None:
        """Snapshot naming the next generation, then a fresh journal; then drop the old one."""
        assert self._folder is not None
        document = self._document()
        document["generation"] = self._generation + 1
        _write_atomically(self._folder / SNAPSHOT, _dumps(document))
        if self._journal is not None:
            self._journal.close()
        self._journal_path(self._generation).unlink(missing_ok=True)
        self._generation += 1
        self._journal = open(self._journal_path(self._generation), "a", encoding="utf-8")  # noqa: SIM115
        self._records = 0

    def _recover(self) -> None:
        """Snapshot, then its journal's complete records; a torn last record is ignored."""
        assert self._folder is not None
        self._folder.mkdir(parents=True, exist_ok=True)
        snapshot = self._folder / SNAPSHOT
        wanted = saved_capacity = self._capacity
        if snapshot.exists():
            saved_capacity, entries, data = _parse_file(snapshot)
            generation = data.get("generation")
            if isinstance(generation, bool) or not isinstance(generation, int):
                raise CacheFileError(f"{snapshot}: generation must be an int")
            self._generation = generation
            for key, value in entries:
                self._map[key] = link = [None, None, key, value]
                self._link_last(link)
        self._capacity = saved_capacity  # journal records were written at this capacity
        journal = self._journal_path(self._generation)
        if journal.exists():
            self._replay(journal)
        self._capacity = wanted  # the constructor's capacity wins
        self._evict_down_to(wanted)
        for stale in self._folder.glob("journal-*.jsonl"):
            if stale != journal:
                stale.unlink()
        self._compact()

    def _replay(self, journal: Path) -> None:
        lines = journal.read_bytes().split(b"\n")
        # Every complete record ends with a newline: the last piece is torn or empty.
        for number, line in enumerate(lines[:-1], 1):
            try:
                record = _read_json(line.decode("utf-8"))
                if record[0] == "put" and len(record) == 3:
                    self._store(_decode(record[1], key=True), _decode(record[2]))
                elif record[0] == "delete" and len(record) == 2:
                    link = self._map.pop(_decode(record[1], key=True), None)
                    if link is not None:
                        self._unlink(link)
                else:
                    raise ValueError("unknown record")
            except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
                raise CacheFileError(f"{journal}: line {number} is not a record ({exc})") from None
