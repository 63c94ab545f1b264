"""Stage 4: backups and restores (spec: stages/cloud_storage/stage4.md)."""

from __future__ import annotations

import math

import pytest

from dojo.testing import example_tables, replay

pytestmark = pytest.mark.stage(4)

SUCCEEDING = {"backup_user": ("u",), "restore_user": ("u",)}
FAILING = {"backup_user": ("nobody",), "restore_user": ("nobody",)}
USERS = ("admin", "u", "v", "nobody")


def user_with(storage, user_id: str, capacity: int, **sizes: int):
    """Add a user and its files (checked), in the order given."""
    storage.expect("add_user", user_id, capacity, returns=True, rule="setup: a new user")
    room = capacity
    for name, size in sizes.items():
        room -= size
        storage.expect("add_file_by", user_id, name, size, returns=room, rule="setup")
    return storage


def backed_up(new_storage, capacity: int = 10, **sizes: int):
    """A user "u" holding ``sizes`` (by default a=4, b=4, c=2), backed up."""
    sizes = sizes or {"a": 4, "b": 4, "c": 2}
    storage = user_with(new_storage(), "u", capacity, **sizes)
    storage.expect("backup_user", "u", returns=len(sizes), rule="setup: the backup")
    return storage


def state(storage) -> tuple[object, dict[str, object]]:
    """What can be seen without a restore: every file, each user's remaining capacity."""
    return storage.call("find_files", "", ""), {u: storage.room(u) for u in USERS}


# One test per table; all_example_tables would add a second stage mark to this file's.
@pytest.mark.parametrize("table", example_tables("cloud_storage", 4), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"storage": impl.CloudStorage(), "math": math})


# --- backups ---------------------------------------------------------------------------


def test_backup_user_returns_how_many_files_it_recorded(new_storage):
    storage = user_with(new_storage(), "u", 10, a=1, b=2)
    storage.expect("backup_user", "u", returns=2, rule="u has 2 files")
    storage.expect("add_user", "v", 5, returns=True, rule="setup")
    storage.expect("backup_user", "v", returns=0, rule="a user with no files: 0")


def test_backup_user_of_a_missing_user_is_none(new_storage):
    storage = new_storage()
    storage.expect("backup_user", "nobody", returns=None, rule="no such user")
    storage.expect("restore_user", "nobody", returns=None, rule="no such user")
    storage.expect("add_user", "nobody", 1, returns=True, rule="no user was made")


def test_a_backup_changes_no_files_and_takes_no_room(new_storage):
    storage = backed_up(new_storage, capacity=12)
    storage.expect(
        "find_files", "", "", returns=[("a", 4), ("b", 4), ("c", 2)], rule="the files are as before"
    )
    storage.expect("add_file_by", "u", "d", 2, returns=0, rule="the backup takes no room")


# --- restores ------------------------------------------------------------------------------


def test_restore_puts_the_backed_up_files_back(new_storage):
    storage = backed_up(new_storage)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("delete_file", "c", returns=2, rule="setup")
    storage.expect("restore_user", "u", returns=3, rule="all three go back")
    storage.expect(
        "find_files", "", "", returns=[("a", 4), ("b", 4), ("c", 2)], rule="with their sizes"
    )
    storage.expect("add_file_by", "u", "d", 1, returns=None, rule="u is full again")


def test_restore_removes_the_files_made_since_the_backup(new_storage):
    storage = backed_up(new_storage, capacity=20)
    storage.expect("add_file_by", "u", "new", 3, returns=7, rule="setup")
    storage.expect("copy_file", "c", "c copy", returns=True, rule="setup")
    storage.expect("restore_user", "u", returns=3, rule="the backup holds 3 files")
    storage.expect("get_file_size", "new", returns=None, rule="a file made since is removed")
    storage.expect("get_file_size", "c copy", returns=None, rule="a copy made since too")
    storage.expect("add_file_by", "u", "new", 10, returns=0, rule="its name and room are free")


def test_restore_gives_back_the_backed_up_sizes(new_storage):
    storage = backed_up(new_storage, capacity=20)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("add_file_by", "u", "a", 9, returns=5, rule="the name again, another size")
    storage.expect("restore_user", "u", returns=3, rule="u's own file does not block the name")
    storage.expect("get_file_size", "a", returns=4, rule="the backed-up size, not 9")


def test_restore_skips_a_name_now_held_by_another_user(new_storage):
    storage = backed_up(new_storage)
    user_with(storage, "v", 10)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("delete_file", "c", returns=2, rule="setup")
    storage.expect("add_file_by", "v", "a", 1, returns=9, rule="v takes the name 'a'")
    storage.expect("add_file", "c", 7, returns=True, rule="admin takes the name 'c'")
    storage.expect("restore_user", "u", returns=1, rule="'a' (v's) and 'c' (admin's) are skipped")
    storage.expect("get_file_size", "a", returns=1, rule="v's file is untouched")
    storage.expect("get_file_size", "c", returns=7, rule="admin's file is untouched")
    storage.expect("get_file_size", "b", returns=4, rule="'b' went back")


def test_restore_skips_files_that_no_longer_fit_largest_first(new_storage):
    storage = backed_up(new_storage, capacity=20, big=9, mid=6, small=3, tiny=2)
    storage.expect("update_capacity", "u", 12, returns=1, rule="setup: big (9) goes")
    storage.expect(
        "restore_user",
        "u",
        returns=2,
        rule="big (9) fits in 12, mid (6) does not fit in the 3 left, small (3) does, tiny not",
    )
    storage.expect(
        "find_files", "", "", returns=[("big", 9), ("small", 3)], rule="judged as files go back"
    )


def test_restore_breaks_ties_in_size_by_name(new_storage):
    storage = backed_up(new_storage, capacity=15, b=5, a=5, c=5)
    storage.expect("update_capacity", "u", 5, returns=2, rule="setup: a and b go")
    storage.expect("restore_user", "u", returns=1, rule="one file of 5 fits in 5")
    storage.expect(
        "find_files", "", "", returns=[("a", 5)], rule="of equal sizes 'a' goes back first"
    )


def test_restore_allows_an_exact_fit(new_storage):
    storage = backed_up(new_storage, capacity=10, a=6, b=4)
    storage.expect("restore_user", "u", returns=2, rule="6 + 4 fit in 10 exactly")
    storage.expect("update_capacity", "u", 8, returns=1, rule="setup: a goes")
    storage.expect("restore_user", "u", returns=1, rule="6 fits in 8; then 4 does not fit in 2")
    storage.expect("get_file_size", "a", returns=6, rule="the largest went back first")


def test_a_restore_keeps_the_backup(new_storage):
    storage = backed_up(new_storage)
    for attempt in (1, 2, 3):
        storage.expect("delete_file", "b", returns=4, rule=f"setup, round {attempt}")
        storage.expect("restore_user", "u", returns=3, rule="restoring again gives the same files")


def test_a_later_backup_replaces_the_earlier_one(new_storage):
    storage = backed_up(new_storage)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("backup_user", "u", returns=2, rule="the new backup: b and c")
    storage.expect("restore_user", "u", returns=2, rule="only the later backup counts")
    storage.expect("get_file_size", "a", returns=None, rule="'a' is not in the later backup")


def test_a_backup_does_not_follow_later_changes(new_storage):
    storage = backed_up(new_storage, capacity=20)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("add_file_by", "u", "d", 1, returns=13, rule="setup")
    storage.expect("update_capacity", "u", 18, returns=0, rule="setup")
    storage.expect("restore_user", "u", returns=3, rule="the backup as it was taken")
    storage.expect(
        "find_files", "", "", returns=[("a", 4), ("b", 4), ("c", 2)], rule="a, b, c and not d"
    )


def test_a_user_with_no_backup_is_restored_to_no_files(new_storage):
    storage = user_with(new_storage(), "u", 10, a=3, b=2)
    storage.expect("restore_user", "u", returns=0, rule="no backup: nothing goes back")
    storage.expect("find_files", "", "", returns=[], rule="every file of u is removed")
    storage.expect("add_file_by", "u", "a", 10, returns=0, rule="the names and room are free")


def test_restoring_one_user_leaves_the_others(new_storage):
    storage = backed_up(new_storage).given(x=1)
    user_with(storage, "v", 5, y=2)
    storage.expect("delete_file", "a", returns=4, rule="setup")
    storage.expect("restore_user", "u", returns=3, rule="setup")
    storage.expect(
        "find_files",
        "",
        "",
        returns=[("a", 4), ("b", 4), ("c", 2), ("y", 2), ("x", 1)],
        rule="only u's files are touched",
    )


def test_admin_can_be_backed_up_and_restored(new_storage):
    storage = new_storage().given(x=5, y=10**12)
    user_with(storage, "u", 10, z=1)
    storage.expect("backup_user", "admin", returns=2, rule="admin's files, not u's")
    storage.expect("delete_file", "x", returns=5, rule="setup")
    storage.expect("add_file", "w", 1, returns=True, rule="setup")
    storage.expect("restore_user", "admin", returns=2, rule="admin has no limit")
    storage.expect(
        "find_files",
        "",
        "",
        returns=[("y", 10**12), ("x", 5), ("z", 1)],
        rule="w went, x came back",
    )


def test_an_admin_restore_skips_names_held_by_users(new_storage):
    storage = new_storage().given(x=5)
    storage.expect("backup_user", "admin", returns=1, rule="setup")
    storage.expect("delete_file", "x", returns=5, rule="setup")
    user_with(storage, "u", 10, x=2)
    storage.expect("restore_user", "admin", returns=0, rule="u holds 'x' now")
    storage.expect("get_file_size", "x", returns=2, rule="u's file stays")


# --- merges and backups ---------------------------------------------------------------------


def test_a_merge_keeps_the_target_backup_so_a_restore_drops_the_merged_files(new_storage):
    storage = backed_up(new_storage)
    user_with(storage, "v", 5, m=5)
    storage.expect("backup_user", "v", returns=1, rule="setup")
    storage.expect("merge_user", "u", "v", returns=0, rule="setup: u holds 15 of 15")
    storage.expect("restore_user", "u", returns=3, rule="u's own backup: a, b and c")
    storage.expect("get_file_size", "m", returns=None, rule="the merged file is dropped")
    storage.expect("add_file_by", "u", "n", 5, returns=0, rule="u keeps v's capacity")


def test_a_merge_discards_the_source_backup(new_storage):
    storage = backed_up(new_storage)
    user_with(storage, "v", 5, m=5)
    storage.expect("backup_user", "v", returns=1, rule="setup")
    storage.expect("merge_user", "u", "v", returns=0, rule="setup")
    storage.expect("add_user", "v", 5, returns=True, rule="the id again")
    storage.expect("delete_file", "m", returns=5, rule="the old v's file, u's now, is deleted")
    storage.expect(
        "restore_user", "v", returns=0, rule="the old v's backup was discarded by the merge"
    )
    storage.expect("get_file_size", "m", returns=None, rule="nothing of the old v's comes back")


def test_a_merge_into_a_user_without_backup_leaves_it_without(new_storage):
    storage = user_with(new_storage(), "u", 5, a=1)
    user_with(storage, "v", 5, m=5)
    storage.expect("backup_user", "v", returns=1, rule="setup")
    storage.expect("merge_user", "u", "v", returns=4, rule="setup")
    storage.expect("restore_user", "u", returns=0, rule="u had no backup; v's does not move")


def test_a_missing_user_restore_changes_nothing(new_storage):
    storage = backed_up(new_storage)
    before = state(storage)
    storage.expect("restore_user", "nobody", returns=None, rule="no such user")
    after = state(storage)
    assert after == before, f"restore_user('nobody') changed {before} to {after}"


def test_str_subclasses_are_accepted(new_storage):
    class Text(str):
        pass

    storage = backed_up(new_storage)
    storage.expect("backup_user", Text("u"), returns=3, rule="a str subclass is a str")
    storage.expect("restore_user", Text("u"), returns=3, rule="a str subclass is a str")


# --- argument checks: types, then values, before any lookup; nothing changes ---


@pytest.mark.parametrize("method", SUCCEEDING)
def test_an_argument_of_a_wrong_type_raises_type_error(new_storage, rejected_calls, method):
    storage = backed_up(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, error, rule, parameter in rejected_calls(method, args):
            if error is TypeError:
                storage.refuses(TypeError, method, *bad, rule=rule, names=parameter)


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_refused_value_raises_value_error(new_storage, rejected_calls, method):
    storage = backed_up(new_storage)
    for bad, error, rule, parameter in rejected_calls(method, SUCCEEDING[method]):
        if error is ValueError:
            storage.refuses(ValueError, method, *bad, rule=rule, names=parameter)


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_rejected_call_changes_nothing(new_storage, rejected_calls, method):
    storage = backed_up(new_storage)
    storage.expect("delete_file", "a", returns=4, rule="setup: a restore would change this")
    for bad, error, _, _ in rejected_calls(method, SUCCEEDING[method]):
        storage.changes_nothing(method, bad, error, observe=state)
    storage.expect("backup_user", "u", returns=2, rule="rejected calls left u with b and c")


# --- performance --------------------------------------------------------------------------

ADMIN_FILES = 100_000
PAIRS = 20_000


@pytest.mark.perf(
    workload="100,000 files of admin, a user with 10 files, then 20,000 backup_user and "
    "restore_user pairs of that user",
    reference="0.4 s (CPU time, shared 2-core machine; most of it storing the files)",
    naive="scanning every file to find the user's takes about 100 s (5 ms a pair)",
)
def test_backup_and_restore_cost_the_users_files_not_all_files(new_storage):
    storage = new_storage()
    add_file = storage.storage.add_file
    for i in range(ADMIN_FILES):
        add_file(f"admin/{i:06d}", i % 1000)
    user_with(storage, "u", 1_000, **{f"u/{k}": 10 + k for k in range(10)})
    backup, restore = storage.storage.backup_user, storage.storage.restore_user
    delete, add = storage.storage.delete_file, storage.storage.add_file_by
    results = []
    for k in range(PAIRS):
        results.append(backup("u"))
        delete(f"u/{k % 10}")
        add("u", "u/extra", 1)
        results.append(restore("u"))
    wrong = next((k for k, r in enumerate(results) if r != 10), None)
    assert wrong is None, (
        f"{'restore' if wrong % 2 else 'backup'}_user('u') number {wrong // 2} returned "
        f"{results[wrong]!r}; expected 10 (u has 10 files, and the backup holds them)"
    )
    storage.expect("get_file_size", "u/extra", returns=None, rule="the last restore removed it")
    storage.expect("get_file_size", "admin/099999", returns=999, rule="admin's files are untouched")
