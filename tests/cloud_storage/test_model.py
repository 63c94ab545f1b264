"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. A few short names
that are prefixes and suffixes of each other make queries overlap; a few
users with small capacities make fits, exact fits and removals common; calls
rejected for their types or values are part of the mix and must change
nothing. After every step the code's own ``_check()`` runs, when it has one.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dojo.testing import run_machine, shrinks

NAMES = st.sampled_from(["a", "b", "ab", "ba", "aba", "a/b"])
SIZES = st.sampled_from([0, 1, 2, 3, 5, 8])
TEXTS = st.sampled_from(["", "a", "b", "ab", "ba", "a/"])
USERS = st.sampled_from(["admin", "u", "v", "w"])
CAPACITIES = st.sampled_from([0, 3, 5, 8, 13])


class Model:
    """The spec, written as plainly as possible: dicts, and a sort when order matters."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, str]] = {}  # name -> (size, owner)
        self.capacity: dict[str, int | float] = {"admin": math.inf}
        self.backups: dict[str, dict[str, int]] = {}

    def room(self, user: str) -> int | float:
        used = sum(size for size, owner in self.files.values() if owner == user)
        return self.capacity[user] - used

    def ranked(self, pairs) -> list[tuple[str, int]]:
        return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))

    # stage 1 (add_file is admin's from stage 3 on; admin has no limit, so it is the same)
    def add_file(self, name: str, size: int) -> bool:
        return self.add_file_by("admin", name, size) is not None

    def get_file_size(self, name: str) -> int | None:
        return self.files[name][0] if name in self.files else None

    def delete_file(self, name: str) -> int | None:
        return self.files.pop(name)[0] if name in self.files else None

    def copy_file(self, source: str, target: str) -> bool:
        if source not in self.files:
            return False
        size, owner = self.files[source]
        return self.add_file_by(owner, target, size) is not None

    # stage 2
    def find_files(self, prefix: str, suffix: str) -> list[tuple[str, int]]:
        return self.ranked(
            (name, size)
            for name, (size, _) in self.files.items()
            if name.startswith(prefix) and name.endswith(suffix)
        )

    def largest_files(self, prefix: str, n: int) -> list[tuple[str, int]]:
        return self.find_files(prefix, "")[:n]

    # stage 3
    def add_user(self, user: str, capacity: int) -> bool:
        if user in self.capacity:
            return False
        self.capacity[user] = capacity
        return True

    def add_file_by(self, user: str, name: str, size: int) -> int | float | None:
        if user not in self.capacity or name in self.files or size > self.room(user):
            return None
        self.files[name] = (size, user)
        return self.room(user)

    def update_capacity(self, user: str, capacity: int) -> int | None:
        if user not in self.capacity or user == "admin":
            return None
        self.capacity[user] = capacity
        mine = self.ranked((n, s) for n, (s, o) in self.files.items() if o == user)
        removed = 0
        while self.room(user) < 0:
            del self.files[mine[removed][0]]
            removed += 1
        return removed

    def merge_user(self, target: str, source: str) -> int | None:
        ids = (target, source)
        if target == source or "admin" in ids or not all(i in self.capacity for i in ids):
            return None
        for name, (size, owner) in list(self.files.items()):
            if owner == source:
                self.files[name] = (size, target)
        self.capacity[target] += self.capacity.pop(source)
        self.backups.pop(source, None)
        return self.room(target)

    # stage 4
    def backup_user(self, user: str) -> int | None:
        if user not in self.capacity:
            return None
        self.backups[user] = {n: s for n, (s, o) in self.files.items() if o == user}
        return len(self.backups[user])

    def restore_user(self, user: str) -> int | None:
        if user not in self.capacity:
            return None
        for name in [n for n, (_, o) in self.files.items() if o == user]:
            del self.files[name]
        restored = 0
        for name, size in self.ranked(self.backups.get(user, {}).items()):
            if name not in self.files and size <= self.room(user):
                self.files[name] = (size, user)
                restored += 1
        return restored


# What each operation's result shows, quoted when the code and the model disagree.
RULES = {
    "add_file": "add_file stores a new name and refuses one that exists",
    "get_file_size": "the size a file was stored with; None if there is none",
    "delete_file": "delete_file returns the deleted size; None if there is none",
    "copy_file": "a copy needs a source and a free target, and must fit its owner's room",
    "find_files": "names with the prefix and the suffix, size descending then name ascending",
    "largest_files": "the n largest with the prefix, size descending then name ascending",
    "add_user": "a new id is added; an id that exists (admin too) is refused",
    "add_file_by": "the user's remaining capacity; None if no user, a taken name or no room",
    "update_capacity": "how many files went, largest first, ties by name; None for admin",
    "merge_user": "the target's remaining capacity; None if missing, the same or admin",
    "backup_user": "how many files the backup holds; None if no such user",
    "restore_user": "how many backed-up files went back, largest first, skipping taken "
    "names and files that do not fit; None if no such user",
}


AFTER_EACH_STEP = (
    "checked after every step: the last operation listed left the files unlike the model's"
)


class FilesMachine(RuleBasedStateMachine):
    """Stage 1: add_file, get_file_size, delete_file, copy_file, rejected calls."""

    bad_calls = (
        ("add_file", ("", 1), ValueError, "names are not empty"),
        ("add_file", ("a", -1), ValueError, "sizes are not negative"),
        ("add_file", ("a", True), TypeError, "bool is not a size"),
        ("add_file", ("", 1.0), TypeError, "types are checked before values"),
        ("get_file_size", (b"a",), TypeError, "names are str"),
        ("delete_file", ("",), ValueError, "names are not empty"),
        (
            "copy_file",
            ("a", ""),
            ValueError,
            "names are not empty, checked before the source is looked up",
        ),
        ("copy_file", (None, "b"), TypeError, "names are str"),
    )

    def __init__(self, new_storage) -> None:
        super().__init__()
        self.storage = new_storage()
        self.model = Model()

    def check(self, method: str, *args, rule: str | None = None) -> None:
        """The same call on the code and on the model: the same result."""
        expected = getattr(self.model, method)(*args)
        self.storage.expect(method, *args, returns=expected, rule=rule or RULES[method])

    @rule(name=NAMES, size=SIZES)
    def add_file(self, name, size):
        self.check("add_file", name, size)

    @rule(name=NAMES)
    def get_file_size(self, name):
        self.check("get_file_size", name)

    @rule(name=NAMES)
    def delete_file(self, name):
        self.check("delete_file", name)

    @rule(source=NAMES, destination=NAMES)  # rule() reserves the name "target"
    def copy_file(self, source, destination):
        self.check("copy_file", source, destination)

    @rule(data=st.data())
    def reject_a_bad_call(self, data):
        method, args, error, why = data.draw(st.sampled_from(self.bad_calls))
        self.storage.refuses(error, method, *args, rule=why)

    @invariant()
    def internal_invariants_hold(self):
        check = getattr(self.storage.storage, "_check", None)
        if check is not None:
            check()


class FilesSizesMachine(FilesMachine):
    """Stage 1's invariant: every name has the model's size (rejected calls changed nothing)."""

    @invariant()
    def every_size_agrees_with_the_model(self):
        for name in ("a", "b", "ab", "ba", "aba", "a/b"):
            self.check("get_file_size", name, rule=AFTER_EACH_STEP)


class QueriesMachine(FilesMachine):
    """Stage 2: adds find_files and largest_files; every file is compared after every step."""

    bad_calls = (
        *FilesMachine.bad_calls,
        ("find_files", ("a", None), TypeError, "suffixes are str"),
        ("largest_files", ("a", 0), ValueError, "n is at least 1"),
        ("largest_files", ("a", True), TypeError, "bool is not an int"),
    )

    @rule(prefix=TEXTS, suffix=TEXTS)
    def find_files(self, prefix, suffix):
        self.check("find_files", prefix, suffix)

    @rule(prefix=TEXTS, n=st.integers(1, 4))
    def largest_files(self, prefix, n):
        self.check("largest_files", prefix, n)

    @invariant()
    def every_file_agrees_with_the_model(self):
        self.check("find_files", "", "", rule=AFTER_EACH_STEP)


class UsersMachine(QueriesMachine):
    """Stage 3: adds users, their files, capacity updates and merges."""

    bad_calls = (
        *QueriesMachine.bad_calls,
        ("add_user", ("u", -1), ValueError, "capacities are not negative"),
        ("add_user", ("", True), TypeError, "bool is not a capacity; types before values"),
        ("add_file_by", ("u", "a", -1), ValueError, "sizes are not negative"),
        ("add_file_by", ("u", 1, 1), TypeError, "names are str"),
        ("update_capacity", ("u", -1), ValueError, "capacities are not negative"),
        ("update_capacity", ("u", 1.0), TypeError, "capacities are int"),
        ("merge_user", ("u", ""), ValueError, "user ids are not empty"),
        ("merge_user", ("u", None), TypeError, "user ids are str"),
    )

    @rule(user=USERS, capacity=CAPACITIES)
    def add_user(self, user, capacity):
        self.check("add_user", user, capacity)

    @rule(user=USERS, name=NAMES, size=SIZES)
    def add_file_by(self, user, name, size):
        self.check("add_file_by", user, name, size)

    @rule(user=USERS, capacity=CAPACITIES)
    def update_capacity(self, user, capacity):
        self.check("update_capacity", user, capacity)

    @rule(destination=USERS, source=USERS)
    def merge_user(self, destination, source):
        self.check("merge_user", destination, source)


class BackupsMachine(UsersMachine):
    """Stage 4: adds backups and restores."""

    bad_calls = (
        *UsersMachine.bad_calls,
        ("backup_user", ("",), ValueError, "user ids are not empty"),
        ("restore_user", (None,), TypeError, "user ids are str"),
    )

    @rule(user=USERS)
    def backup_user(self, user):
        self.check("backup_user", user)

    @rule(user=USERS)
    def restore_user(self, user):
        self.check("restore_user", user)


@shrinks
@pytest.mark.stage(1)
def test_random_adds_deletes_and_copies_agree_with_the_model(new_storage):
    run_machine(lambda: FilesSizesMachine(new_storage), examples=30, steps=30)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_queries_agree_with_the_model(new_storage):
    run_machine(lambda: QueriesMachine(new_storage), examples=40, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_users_and_capacities_agree_with_the_model(new_storage):
    run_machine(lambda: UsersMachine(new_storage), examples=50, steps=35)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_backups_and_restores_agree_with_the_model(new_storage):
    run_machine(lambda: BackupsMachine(new_storage), examples=50, steps=40)
