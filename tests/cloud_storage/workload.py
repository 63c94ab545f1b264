"""The cloud_storage performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` does n operations on about n/2 files, a mix of
the operations of stages 1..stages, and returns how many it did. The
baselines run one round's costly operation in a mix, on the reference and on
the naive design the spec names (``NaiveStorage``): filtering every name per
query, sorting a user's files per capacity update, scanning every file per
backup and restore.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

STAGE_OPERATIONS = {
    1: "add_file, get_file_size, delete_file, copy_file",
    2: "find_files and largest_files, selective by prefix or by suffix",
    3: "add_user, add_file_by, update_capacity, merge_user",
    4: "backup_user, restore_user of small users",
}
USERS = 20


def name(i: int) -> str:
    """``d0042/000843-3.log``: 100 files a directory, one in 10 a tag."""
    return f"d{i // 100:04d}/{i:06d}-{i % 10}.log"


def workload(impl: object, n: int, stages: int) -> int:
    """n operations of stages 1..stages on ``impl.CloudStorage``; returns the count."""
    rng = random.Random(n)
    storage = impl.CloudStorage()
    ops = 0
    users = [f"user{u}" for u in range(USERS)]
    if stages >= 3:
        for user in users:
            storage.add_user(user, 10 * n)
            ops += 1
    top = 0
    while ops < n:
        i = rng.randrange(top + 1)
        step = ops % 20
        if stages >= 2 and step == 0:
            storage.find_files(f"d{i // 100:04d}/", ".log")
        elif stages >= 2 and step == 1:
            storage.largest_files(f"d{i // 100:04d}/", 10)
        elif stages >= 3 and step == 2:
            storage.update_capacity(rng.choice(users), rng.randrange(5 * n, 10 * n))
        elif stages >= 3 and step == 3 and ops % 400 == 3:
            target, source = rng.sample(users, 2)
            storage.merge_user(target, source)
            storage.add_user(source, 10 * n)
            ops += 1
        elif stages >= 4 and step == 4:
            storage.backup_user(rng.choice(users))
        elif stages >= 4 and step == 5 and ops % 100 == 5:
            storage.restore_user(rng.choice(users))
        elif step < 9:
            storage.get_file_size(name(i))
        elif step == 9:
            storage.delete_file(name(i))
        elif step == 10:
            storage.copy_file(name(i), name(top))
            top += 1
        elif stages >= 3 and step < 14:
            storage.add_file_by(rng.choice(users), name(top), rng.randrange(100))
            top += 1
        else:
            storage.add_file(name(top), rng.randrange(100))
            top += 1
        ops += 1
    return ops


class NaiveStorage:
    """The obvious design: one dict of files, scanned or sorted whenever order matters."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, str]] = {}  # name -> (size, owner)
        self.users: dict[str, list] = {"admin": [math.inf, 0]}  # id -> [capacity, used]
        self.backups: dict[str, list[tuple[str, int]]] = {}

    def add_file(self, name: str, size: int) -> bool:
        return self.add_file_by("admin", name, size) is not None

    def get_file_size(self, name: str) -> int | None:
        found = self.files.get(name)
        return None if found is None else found[0]

    def delete_file(self, name: str) -> int | None:
        if name not in self.files:
            return None
        size, owner = self.files.pop(name)
        self.users[owner][1] -= size
        return size

    def copy_file(self, source: str, target: str) -> bool:
        if source not in self.files:
            return False
        size, owner = self.files[source]
        return self.add_file_by(owner, target, size) is not None

    def find_files(self, prefix: str, suffix: str) -> list[tuple[str, int]]:
        found = [
            (n, s)
            for n, (s, _) in self.files.items()
            if n.startswith(prefix) and n.endswith(suffix)
        ]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))

    def largest_files(self, prefix: str, n: int) -> list[tuple[str, int]]:
        return self.find_files(prefix, "")[:n]

    def add_user(self, user_id: str, capacity: int) -> bool:
        if user_id in self.users:
            return False
        self.users[user_id] = [capacity, 0]
        return True

    def add_file_by(self, user_id: str, name: str, size: int) -> int | float | None:
        user = self.users.get(user_id)
        if user is None or name in self.files or size > user[0] - user[1]:
            return None
        self.files[name] = (size, user_id)
        user[1] += size
        return user[0] - user[1]

    def update_capacity(self, user_id: str, capacity: int) -> int | None:
        user = self.users.get(user_id)
        if user is None or user_id == "admin":
            return None
        user[0] = capacity
        mine = sorted((-s, n) for n, (s, o) in self.files.items() if o == user_id)
        removed = 0
        while user[1] > capacity:
            self.delete_file(mine[removed][1])
            removed += 1
        return removed

    def merge_user(self, target_id: str, source_id: str) -> int | None:
        ids = (target_id, source_id)
        if target_id == source_id or "admin" in ids or not all(i in self.users for i in ids):
            return None
        for n, (s, o) in list(self.files.items()):
            if o == source_id:
                self.files[n] = (s, target_id)
        capacity, used = self.users.pop(source_id)
        self.users[target_id][0] += capacity
        self.users[target_id][1] += used
        self.backups.pop(source_id, None)
        return self.users[target_id][0] - self.users[target_id][1]

    def backup_user(self, user_id: str) -> int | None:
        if user_id not in self.users:
            return None
        self.backups[user_id] = [(n, s) for n, (s, o) in self.files.items() if o == user_id]
        return len(self.backups[user_id])

    def restore_user(self, user_id: str) -> int | None:
        user = self.users.get(user_id)
        if user is None:
            return None
        for n in [n for n, (_, o) in self.files.items() if o == user_id]:
            self.delete_file(n)
        restored = 0
        for n, s in sorted(self.backups.get(user_id, []), key=lambda pair: (-pair[1], pair[0])):
            if self.add_file_by(user_id, n, s) is not None:
                restored += 1
        return restored


def query_mix(new_storage: Callable[[], object], n: int) -> int:
    """n operations on n/2 files: 1 in 10 a query matching about 10 files."""
    rng = random.Random(n)
    storage = new_storage()
    for i in range(n // 2):
        storage.add_file(name(i), rng.randrange(1000))
    for q in range(n - n // 2):
        group = rng.randrange(max(1, n // 200))
        if q % 10 == 0:
            storage.find_files(f"d{group:04d}/", f"-{q % 10}.log")
        elif q % 10 == 1:
            storage.largest_files(f"d{group:04d}/", 5)
        else:
            storage.get_file_size(name(rng.randrange(n // 2)))
    return n


def capacity_mix(new_storage: Callable[[], object], n: int) -> int:
    """n/2 files of one user, then n/2 operations: 1 in 10 a capacity update removing a few."""
    rng = random.Random(n)
    storage = new_storage()
    storage.add_user("u", 1000 * n)
    used = 0
    for i in range(n // 2):
        size = rng.randrange(1, 1000)
        storage.add_file_by("u", name(i), size)
        used += size
    capacity = used
    for q in range(n - n // 2):
        if q % 10 == 0:
            capacity = max(0, capacity - 2000)
            storage.update_capacity("u", capacity)
        else:
            storage.get_file_size(name(rng.randrange(n // 2)))
    return n


def backup_mix(new_storage: Callable[[], object], n: int) -> int:
    """n/2 admin files and a user of 10, then n/2 operations: 1 in 10 a backup or a restore."""
    storage = new_storage()
    for i in range(n // 2):
        storage.add_file(name(i), i % 1000)
    storage.add_user("u", 1000)
    for k in range(10):
        storage.add_file_by("u", f"u/{k}", 10)
    for q in range(n - n // 2):
        if q % 20 == 0:
            storage.backup_user("u")
        elif q % 20 == 10:
            storage.restore_user("u")
        else:
            storage.get_file_size(name(q % (n // 2)))
    return n


BASELINES: dict[str, Callable[[object, int], int]] = {
    "query mix, reference": lambda impl, n: query_mix(impl.CloudStorage, n),
    "query mix, naive filtering": lambda impl, n: query_mix(NaiveStorage, n),
    "capacity mix, reference": lambda impl, n: capacity_mix(impl.CloudStorage, n),
    "capacity mix, naive sorting": lambda impl, n: capacity_mix(NaiveStorage, n),
    "backup mix, reference": lambda impl, n: backup_mix(impl.CloudStorage, n),
    "backup mix, naive scanning": lambda impl, n: backup_mix(NaiveStorage, n),
}
