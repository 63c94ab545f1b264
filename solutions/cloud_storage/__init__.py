"""Reference solution of the cloud_storage kata, final round (every earlier round's API works).

Data layout::

    _files      name -> (size, owner id)        every file, whoever owns it
    _names      SortedList[name]                every name, in str order     } from the first
    _reversed   SortedList[name[::-1]]          every name reversed          } query on
    _users      id -> _User                     "admin" from the start, then add_user's

    _User.names     set[name]                   the user's files
    _User.by_size   SortedList[(-size, name)]   the same, largest first, ties by name;
                                                None for "admin", whose files never go by size
    _User.used      sum of their sizes
    _User.capacity  int, or math.inf for "admin"
    _User.backup    list[(-size, name)] | None  the files at the last backup_user

The names matching a prefix are one contiguous run of ``_names``, found by two
bisections, and the names matching a suffix one run of ``_reversed``: a query
counts both runs in O(log N), then reads and sorts only the shorter one.
The two indexes are made by one sort at the first query and kept up to date
from then on, so a storage that is only filled and read never pays for them.
``by_size`` is in the order update_capacity removes files, so it reads it
from the front and never sorts. "admin" has no capacity to update, so it has
no ``by_size``: keeping one would double the cost of add_file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter

from sortedcontainers import SortedList

__all__ = ["CloudStorage"]

ADMIN = "admin"  # the built-in user: no capacity limit, owns what add_file makes
_MAX_CHAR = chr(0x10FFFF)  # the largest character a str can hold


class _User:
    __slots__ = ("backup", "by_size", "capacity", "names", "used")

    def __init__(self, capacity: int | float) -> None:
        self.capacity = capacity
        self.used = 0
        self.names: set[str] = set()
        self.by_size: SortedList | None = None if capacity == math.inf else SortedList()
        self.backup: list[tuple[int, str]] | None = None

    @property
    def room(self) -> int | float:
        return self.capacity - self.used


class CloudStorage:
    """An in-memory cloud storage: file names mapped to sizes.

    Names and user ids are non-empty ``str``; sizes and capacities ``int``
    (``bool`` refused) >= 0. Every call checks its arguments' types
    (TypeError), then their values (ValueError), before it looks anything up;
    a rejected call changes nothing. A business failure (missing file, name
    taken, no room) returns False or None instead of raising.

    >>> storage = CloudStorage()
    >>> storage.add_file("a.txt", 10), storage.copy_file("a.txt", "b.txt")
    (True, True)
    >>> storage.find_files("", ".txt")
    [('a.txt', 10), ('b.txt', 10)]
    """

    def __init__(self) -> None:
        """An empty storage whose only user is "admin".

        Runtime complexity: O(1)
        """
        self._files: dict[str, tuple[int, str]] = {}
        self._names: SortedList | None = None  # see _indexes()
        self._reversed: SortedList | None = None
        self._users: dict[str, _User] = {ADMIN: _User(math.inf)}

    # -- stage 1: files ---------------------------------------------------------

    def add_file(self, name: str, size: int) -> bool:
        """Store a file of ``size`` (>= 0) owned by "admin"; False if ``name`` exists.

        Runtime complexity: O(log N), N the number of files

        >>> storage = CloudStorage()
        >>> storage.add_file("a", 1), storage.add_file("a", 2)
        (True, False)
        """
        _require_str("name", name)
        _require_int("size", size)
        _require_name("name", name)
        _require_at_least("size", size, 0)
        return self._add(ADMIN, name, size) is not None

    def get_file_size(self, name: str) -> int | None:
        """The size of the file ``name``; None if there is none.

        Runtime complexity: O(1)

        >>> storage = CloudStorage()
        >>> storage.add_file("a", 7), storage.get_file_size("a"), storage.get_file_size("b")
        (True, 7, None)
        """
        _require_str("name", name)
        _require_name("name", name)
        found = self._files.get(name)
        return None if found is None else found[0]

    def delete_file(self, name: str) -> int | None:
        """Remove the file ``name`` and return its size; None if there is none.

        Deleting frees its owner's room.

        Runtime complexity: O(log N)

        >>> storage = CloudStorage()
        >>> storage.add_file("a", 7), storage.delete_file("a"), storage.delete_file("a")
        (True, 7, None)
        """
        _require_str("name", name)
        _require_name("name", name)
        if name not in self._files:
            return None
        return self._remove(name)

    def copy_file(self, source: str, target: str) -> bool:
        """Store a new file ``target`` with the size of ``source``.

        The copy belongs to the source's owner and takes room from it. False
        if ``source`` is missing, ``target`` exists (so a copy onto itself is
        False) or the copy does not fit the owner's remaining capacity.

        Runtime complexity: O(log N)

        >>> storage = CloudStorage()
        >>> storage.add_file("a", 7), storage.copy_file("a", "b"), storage.copy_file("a", "b")
        (True, True, False)
        """
        _require_str("source", source)
        _require_str("target", target)
        _require_name("source", source)
        _require_name("target", target)
        found = self._files.get(source)
        if found is None:
            return False
        size, owner = found
        return self._add(owner, target, size) is not None

    # -- stage 2: queries ---------------------------------------------------------

    def find_files(self, prefix: str, suffix: str) -> list[tuple[str, int]]:
        """Every ``(name, size)`` whose name starts with ``prefix`` and ends with ``suffix``.

        Size descending, then name ascending. ``""`` matches every name; the
        prefix and the suffix may overlap (``"aba"`` matches ``"ab"`` and ``"ba"``).

        Runtime complexity: O(log N + m log m), m the number of names matching
        the prefix or the suffix, whichever is fewer

        >>> storage = CloudStorage()
        >>> _ = storage.add_file("a.txt", 1), storage.add_file("b.txt", 2), storage.add_file("a", 3)
        >>> storage.find_files("", ".txt"), storage.find_files("a", "")
        ([('b.txt', 2), ('a.txt', 1)], [('a', 3), ('a.txt', 1)])
        """
        _require_str("prefix", prefix)
        _require_str("suffix", suffix)
        names, reversed_names = self._indexes()
        by_prefix = _prefix_run(names, prefix)
        by_suffix = _prefix_run(reversed_names, suffix[::-1])
        # Read only the shorter run; the other condition is a string test.
        if len(by_prefix) <= len(by_suffix):
            names = [n for n in names.islice(by_prefix.start, by_prefix.stop) if n.endswith(suffix)]
        else:
            names = [
                name
                for reversed_name in reversed_names.islice(by_suffix.start, by_suffix.stop)
                if (name := reversed_name[::-1]).startswith(prefix)
            ]
        return self._ranked(names, len(names))

    def largest_files(self, prefix: str, n: int) -> list[tuple[str, int]]:
        """The ``n`` (>= 1) largest ``(name, size)`` whose name starts with ``prefix``.

        Size descending, then name ascending; fewer if fewer match.

        Runtime complexity: O(log N + m log m), m the number of names matching the prefix

        >>> storage = CloudStorage()
        >>> _ = storage.add_file("a1", 5), storage.add_file("a2", 9), storage.add_file("b", 99)
        >>> storage.largest_files("a", 1), storage.largest_files("a", 5)
        ([('a2', 9)], [('a2', 9), ('a1', 5)])
        """
        _require_str("prefix", prefix)
        _require_int("n", n)
        _require_at_least("n", n, 1)
        names, _ = self._indexes()
        run = _prefix_run(names, prefix)
        return self._ranked(names.islice(run.start, run.stop), n)

    # -- stage 3: users with capacity -----------------------------------------------

    def add_user(self, user_id: str, capacity: int) -> bool:
        """Add a user with ``capacity`` (>= 0) and no files; False if the id exists ("admin" too).

        Runtime complexity: O(1)

        >>> storage = CloudStorage()
        >>> storage.add_user("u", 10), storage.add_user("u", 5), storage.add_user("admin", 5)
        (True, False, False)
        """
        _require_str("user_id", user_id)
        _require_int("capacity", capacity)
        _require_name("user_id", user_id)
        _require_at_least("capacity", capacity, 0)
        if user_id in self._users:
            return False
        self._users[user_id] = _User(capacity)
        return True

    def add_file_by(self, user_id: str, name: str, size: int) -> int | float | None:
        """Store a file of ``size`` owned by ``user_id``; return the user's remaining capacity.

        An exact fit is allowed and leaves 0; "admin" has ``math.inf``. None
        if there is no such user, ``name`` is taken (by any user) or the file
        does not fit the remaining capacity.

        Runtime complexity: O(log N)

        >>> storage = CloudStorage()
        >>> _ = storage.add_user("u", 10)
        >>> storage.add_file_by("u", "a", 10), storage.add_file_by("u", "b", 1)
        (0, None)
        """
        _require_str("user_id", user_id)
        _require_str("name", name)
        _require_int("size", size)
        _require_name("user_id", user_id)
        _require_name("name", name)
        _require_at_least("size", size, 0)
        if user_id not in self._users:
            return None
        return self._add(user_id, name, size)

    def update_capacity(self, user_id: str, capacity: int) -> int | None:
        """Set the user's capacity (>= 0); return how many files were removed to fit it.

        Files go largest first, ties by name ascending, until the rest fit.
        None if there is no such user or it is "admin".

        Runtime complexity: O(log N + k log N), k the number of files removed

        >>> storage = CloudStorage()
        >>> _ = storage.add_user("u", 10), storage.add_file_by("u", "b", 4)
        >>> _ = storage.add_file_by("u", "a", 4), storage.add_file_by("u", "c", 1)
        >>> storage.update_capacity("u", 5), storage.get_file_size("a"), storage.get_file_size("b")
        (1, None, 4)
        """
        _require_str("user_id", user_id)
        _require_int("capacity", capacity)
        _require_name("user_id", user_id)
        _require_at_least("capacity", capacity, 0)
        user = self._users.get(user_id)
        if user is None or user_id == ADMIN:
            return None
        user.capacity = capacity
        removed = 0
        while user.used > capacity:
            self._remove(user.by_size[0][1])
            removed += 1
        return removed

    def merge_user(self, target_id: str, source_id: str) -> int | None:
        """Give the source's files and capacity to the target, remove the source.

        Returns the target's remaining capacity. The source's backup is
        discarded, the target's kept; the source id may be added again. None
        if either user is missing, both ids are the same or either is "admin".

        Runtime complexity: O(S log N), S the number of the source's files

        >>> storage = CloudStorage()
        >>> _ = storage.add_user("t", 5), storage.add_user("s", 7), storage.add_file_by("s", "a", 3)
        >>> storage.merge_user("t", "s"), storage.add_user("s", 1)
        (9, True)
        """
        _require_str("target_id", target_id)
        _require_str("source_id", source_id)
        _require_name("target_id", target_id)
        _require_name("source_id", source_id)
        target = self._users.get(target_id)
        source = self._users.get(source_id)
        if target is None or source is None or target is source or ADMIN in (target_id, source_id):
            return None
        for name in source.names:
            self._files[name] = (self._files[name][0], target_id)
        target.names |= source.names
        target.by_size.update(source.by_size)
        target.used += source.used
        target.capacity += source.capacity
        del self._users[source_id]
        return target.room

    # -- stage 4: backups -------------------------------------------------------------

    def backup_user(self, user_id: str) -> int | None:
        """Record the user's files (names and sizes) as its backup; return how many.

        Replaces any earlier backup. None if there is no such user; "admin"
        can be backed up too.

        Runtime complexity: O(F), F the number of the user's files

        >>> storage = CloudStorage()
        >>> _ = storage.add_file("a", 1)
        >>> storage.backup_user("admin"), storage.backup_user("nobody")
        (1, None)
        """
        _require_str("user_id", user_id)
        _require_name("user_id", user_id)
        user = self._users.get(user_id)
        if user is None:
            return None
        files = self._files
        user.backup = [(-files[name][0], name) for name in user.names]
        return len(user.backup)

    def restore_user(self, user_id: str) -> int | None:
        """Make the user's files those of its backup; return how many were put back.

        Every current file of the user is removed; then the backed-up files
        go back largest first (ties: name ascending), skipping a name now held
        by another user and a file that does not fit the room left. The backup
        stays; no backup restores to no files (0). None if there is no such user.

        Runtime complexity: O(B log B + F + C log N), B backed-up and F current
        files of the user, C of them changed, N files in all

        >>> storage = CloudStorage()
        >>> _ = storage.add_file("a", 1), storage.backup_user("admin"), storage.delete_file("a")
        >>> storage.restore_user("admin"), storage.get_file_size("a")
        (1, 1)
        """
        _require_str("user_id", user_id)
        _require_name("user_id", user_id)
        user = self._users.get(user_id)
        if user is None:
            return None
        # First decide what goes back, as if the user's files were gone: its
        # own names are free, and the whole capacity is room. Largest first,
        # ties by name: (-size, name) order.
        files = self._files
        room = user.capacity
        back: dict[str, int] = {}
        for negated, name in sorted(user.backup or ()):
            holder = files.get(name)
            if (holder is None or holder[1] == user_id) and -negated <= room:
                back[name] = -negated
                room += negated
        # Then touch only the differences: a file already there with its
        # backed-up size stays, which is the same as removing it and putting
        # it back, without two index updates per unchanged file.
        for name in [n for n in user.names if back.get(n) != files[n][0]]:
            self._remove(name)
        for name, size in back.items():
            if name not in files:
                self._put(user_id, user, name, size)
        return len(back)

    # -- internals --------------------------------------------------------------------

    def _indexes(self) -> tuple[SortedList, SortedList]:
        """The sorted indexes of the names and of the reversed names.

        Made by one sort at the first query, O(N log N) once, amortised over
        the adds before it; kept up to date by _put and _remove from then on.
        """
        if self._names is None or self._reversed is None:
            self._names = SortedList(self._files)
            self._reversed = SortedList(name[::-1] for name in self._files)
        return self._names, self._reversed

    def _add(self, owner: str, name: str, size: int) -> int | float | None:
        """Store a file for ``owner`` if the name is free and it fits; the room left, else None."""
        user = self._users[owner]
        if name in self._files or size > user.room:
            return None
        self._put(owner, user, name, size)
        return user.room

    def _put(self, owner: str, user: _User, name: str, size: int) -> None:
        self._files[name] = (size, owner)
        if self._names is not None:
            self._names.add(name)
            self._reversed.add(name[::-1])
        user.names.add(name)
        if user.by_size is not None:
            user.by_size.add((-size, name))
        user.used += size

    def _remove(self, name: str) -> int:
        """Remove an existing file from every index; its size."""
        size, owner = self._files.pop(name)
        if self._names is not None:
            self._names.remove(name)
            self._reversed.remove(name[::-1])
        user = self._users[owner]
        user.names.remove(name)
        if user.by_size is not None:
            user.by_size.remove((-size, name))
        user.used -= size
        return size

    def _ranked(self, names: Iterable[str], n: int) -> list[tuple[str, int]]:
        """The first ``n`` of ``names`` by size descending, then name ascending."""
        files = self._files
        ranked = sorted([(name, files[name][0]) for name in names])
        ranked.sort(key=_size, reverse=True)  # stable: equal sizes stay in name order
        del ranked[n:]
        return ranked

    def _check(self) -> None:
        """Assert the internal invariants, in O(everything): the model tests call it."""
        assert (self._names is None) == (self._reversed is None), "both indexes or none"
        if self._names is not None:
            for index in (self._names, self._reversed):
                index._check()
            assert list(self._names) == sorted(self._files), "_names holds every name"
            assert list(self._reversed) == sorted(n[::-1] for n in self._files), "and _reversed"
        admin = self._users.get(ADMIN)
        assert admin is not None and admin.capacity == math.inf, "admin is there, unlimited"
        assert admin.by_size is None, "admin's files never go by size"
        owned = 0
        for user_id, user in self._users.items():
            mine = sorted(
                (-size, name) for name, (size, owner) in self._files.items() if owner == user_id
            )
            assert user.names == {name for _, name in mine}, f"{user_id}'s names are its files"
            if user_id != ADMIN:
                user.by_size._check()
                assert list(user.by_size) == mine, f"{user_id}'s size index holds its files"
            assert user.used == sum(-negated for negated, _ in mine), f"{user_id}'s used room"
            assert 0 <= user.used <= user.capacity, f"{user_id}'s files fit its capacity"
            owned += len(mine)
        assert owned == len(self._files), "every file has a live owner"


_size = itemgetter(1)


def _prefix_run(index: SortedList, prefix: str) -> range:
    """The positions in ``index`` of the strings that start with ``prefix``, by bisection."""
    start = index.bisect_left(prefix)
    # The first string after every one starting with the prefix: drop trailing
    # largest characters, then bump the last one ("ab" -> "ac"); none for "".
    # A prefix of largest characters only ("" included) is followed by nothing.
    stem = prefix.rstrip(_MAX_CHAR)
    if not stem:
        return range(start, len(index))
    stop = index.bisect_left(stem[:-1] + chr(ord(stem[-1]) + 1))
    return range(start, stop)


def _require_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")


def _require_name(name: str, value: str) -> None:
    if not value:
        raise ValueError(f"{name} must not be empty")


def _require_at_least(name: str, value: int, least: int) -> None:
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
