"""Stage 3: users with capacity, copies, capacity updates, merges
(spec: stages/cloud_storage/stage3.md)."""

from __future__ import annotations

import math

import pytest

from dojo.testing import example_tables, replay

pytestmark = pytest.mark.stage(3)

INF = math.inf
# On a storage from `users_u_and_v`: calls each method would accept, one that
# succeeds and one that fails a business rule; the argument checks come first.
SUCCEEDING = {
    "add_user": ("new", 5),
    "add_file_by": ("u", "new", 1),
    "update_capacity": ("u", 3),
    "merge_user": ("u", "v"),
}
FAILING = {
    "add_user": ("u", 5),
    "add_file_by": ("nobody", "new", 1),
    "update_capacity": ("nobody", 3),
    "merge_user": ("u", "nobody"),
}
USERS = ("admin", "u", "v", "new", "nobody")


def users_u_and_v(new_storage):
    """admin holds a (1); u (capacity 10) holds u/a (4); v (capacity 5) holds v/a (2)."""
    storage = new_storage().given(a=1)
    storage.expect("add_user", "u", 10, returns=True, rule="setup: a new user")
    storage.expect("add_user", "v", 5, returns=True, rule="setup: a new user")
    storage.expect("add_file_by", "u", "u/a", 4, returns=6, rule="setup: 10 - 4")
    storage.expect("add_file_by", "v", "v/a", 2, returns=3, rule="setup: 5 - 2")
    return storage


def user_with(storage, user_id: str, capacity: int, **sizes: int):
    """Add a user and its files (checked), in the order given."""
    storage.expect("add_user", user_id, capacity, returns=True, rule="setup: a new user")
    room = capacity
    for name, size in sizes.items():
        room -= size
        storage.expect("add_file_by", user_id, name, size, returns=room, rule="setup")
    return storage


def state(storage) -> tuple[object, dict[str, object]]:
    """What stage 3 can see: every file, and each user's remaining capacity."""
    return storage.call("find_files", "", ""), {u: storage.room(u) for u in USERS}


# One test per table; all_example_tables would add a second stage mark to this file's.
@pytest.mark.parametrize("table", example_tables("cloud_storage", 3), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"storage": impl.CloudStorage(), "math": math})


# --- users -------------------------------------------------------------------------


def test_admin_exists_from_the_start_with_no_limit(new_storage):
    storage = new_storage()
    storage.expect("add_user", "admin", 5, returns=False, rule="'admin' exists from the start")
    storage.expect(
        "add_file_by", "admin", "a", 10**12, returns=INF, rule="'admin' has math.inf left"
    )
    storage.expect("add_file_by", "admin", "b", 0, returns=INF, rule="always math.inf")


def test_add_user_returns_true_then_false_for_an_id_that_exists(new_storage):
    storage = new_storage()
    storage.expect("add_user", "u", 10, returns=True, rule="a new user")
    storage.expect("add_user", "u", 99, returns=False, rule="the id exists")
    storage.expect("add_user", "U", 1, returns=True, rule="ids are compared exactly")
    storage.expect(
        "add_file_by", "u", "f", 10, returns=0, rule="the refused add_user kept capacity 10"
    )


def test_add_file_by_returns_the_remaining_capacity(new_storage):
    storage = user_with(new_storage(), "u", 10)
    storage.expect("add_file_by", "u", "a", 3, returns=7, rule="10 - 3, an int")
    storage.expect("add_file_by", "u", "b", 5, returns=2, rule="7 - 5")
    storage.expect("get_file_size", "b", returns=5, rule="the file is stored")


def test_an_exact_fit_is_allowed_and_leaves_zero(new_storage):
    storage = user_with(new_storage(), "u", 10, a=4)
    storage.expect("add_file_by", "u", "b", 6, returns=0, rule="an exact fit is allowed")
    storage.expect("add_file_by", "u", "c", 0, returns=0, rule="size 0 fits a full user")


def test_a_file_that_does_not_fit_returns_none_and_changes_nothing(new_storage):
    storage = user_with(new_storage(), "u", 10, a=4)
    storage.expect("add_file_by", "u", "b", 7, returns=None, rule="7 does not fit in 6")
    storage.expect("get_file_size", "b", returns=None, rule="the refused file is not stored")
    storage.expect("add_file_by", "u", "b", 6, returns=0, rule="the refusal took no room")


def test_a_capacity_of_zero_takes_only_empty_files(new_storage):
    storage = user_with(new_storage(), "u", 0)
    storage.expect("add_file_by", "u", "a", 1, returns=None, rule="nothing of size 1 fits in 0")
    storage.expect("add_file_by", "u", "b", 0, returns=0, rule="size 0 fits in 0")


def test_add_file_by_a_missing_user_returns_none_and_stores_nothing(new_storage):
    storage = new_storage()
    storage.expect("add_file_by", "nobody", "a", 1, returns=None, rule="no such user")
    storage.expect("get_file_size", "a", returns=None, rule="nothing was stored")
    storage.expect("add_user", "nobody", 1, returns=True, rule="no user was made either")


def test_a_name_taken_by_any_user_is_refused(new_storage):
    storage = users_u_and_v(new_storage)
    for user_id in ("u", "v", "admin"):
        for name in ("a", "u/a", "v/a"):
            storage.expect(
                "add_file_by", user_id, name, 0, returns=None, rule="names are shared by all users"
            )
    storage.expect("add_file", "v/a", 0, returns=False, rule="add_file refuses it too")
    storage.expect("get_file_size", "v/a", returns=2, rule="the file keeps its size")


def test_add_file_is_admins_and_takes_no_users_room(new_storage):
    storage = user_with(new_storage(), "u", 10)
    storage.expect("add_file", "a", 10**9, returns=True, rule="admin has no limit")
    storage.expect("add_file_by", "u", "b", 10, returns=0, rule="u's room is untouched")


# --- copies and deletes ----------------------------------------------------------------


def test_a_copy_belongs_to_the_source_owner_and_takes_its_room(new_storage):
    storage = user_with(new_storage(), "u", 10, a=3)
    storage.expect("copy_file", "a", "b", returns=True, rule="3 fits in 7")
    storage.expect("add_file_by", "u", "c", 5, returns=None, rule="the copy took 3 of u's room")
    storage.expect("add_file_by", "u", "c", 4, returns=0, rule="u had 4 left")
    storage.expect("update_capacity", "u", 4, returns=2, rule="the copy is u's: it can be removed")


def test_a_copy_that_does_not_fit_returns_false_and_changes_nothing(new_storage):
    storage = user_with(new_storage(), "u", 10, a=6)
    storage.expect("copy_file", "a", "b", returns=False, rule="6 does not fit in 4")
    storage.expect("get_file_size", "b", returns=None, rule="nothing was stored")
    storage.expect("add_file_by", "u", "c", 4, returns=0, rule="u's room is untouched")


def test_a_copy_that_fits_exactly_is_made(new_storage):
    storage = user_with(new_storage(), "u", 10, a=5)
    storage.expect("copy_file", "a", "b", returns=True, rule="5 fits in 5 exactly")
    storage.expect("add_file_by", "u", "c", 1, returns=None, rule="u is full")


def test_copies_across_users_at_full_capacity(new_storage):
    storage = user_with(new_storage(), "full", 5, f=5)
    user_with(storage, "roomy", 100, r=5)
    storage.expect("copy_file", "f", "copy", returns=False, rule="the copy is full's, who is full")
    storage.expect("copy_file", "r", "copy", returns=True, rule="the copy is roomy's")
    storage.expect("add_file_by", "roomy", "x", 90, returns=0, rule="it took roomy's room")
    storage.expect(
        "copy_file", "f", "copy2", returns=False, rule="still full's, whatever room others have"
    )
    storage.expect("delete_file", "copy", returns=5, rule="frees roomy's room")
    storage.expect("copy_file", "r", "copy", returns=True, rule="room again")
    storage.expect("copy_file", "f", "a", returns=False, rule="a copy never moves to another user")


def test_a_copy_of_an_admin_file_always_fits(new_storage):
    storage = user_with(new_storage(), "u", 0).given(big=10**15)
    storage.expect("copy_file", "big", "big2", returns=True, rule="admin has no limit")
    storage.expect("add_file_by", "admin", "z", 1, returns=INF, rule="still math.inf")


def test_deleting_frees_the_owners_room(new_storage):
    storage = user_with(new_storage(), "u", 10, a=4, b=6)
    storage.expect("delete_file", "a", returns=4, rule="delete returns the size")
    storage.expect("add_file_by", "u", "c", 4, returns=0, rule="u got its 4 back")


def test_queries_see_every_users_files(new_storage):
    storage = users_u_and_v(new_storage)
    storage.expect(
        "find_files", "", "/a", returns=[("u/a", 4), ("v/a", 2)], rule="every user's files"
    )
    storage.expect(
        "largest_files", "", 3, returns=[("u/a", 4), ("v/a", 2), ("a", 1)], rule="admin's too"
    )


# --- capacity updates ---------------------------------------------------------------------


def test_update_capacity_removes_the_largest_files_first(new_storage):
    storage = user_with(new_storage(), "u", 100, s=1, l=50, m=20, t=2)
    storage.expect("update_capacity", "u", 30, returns=1, rule="only the largest (50) must go")
    storage.expect("get_file_size", "l", returns=None, rule="the largest is gone")
    storage.expect("get_file_size", "m", returns=20, rule="the rest stay")
    storage.expect("update_capacity", "u", 2, returns=2, rule="23 > 2: m (20), then t (2) go")
    storage.expect("get_file_size", "s", returns=1, rule="the smallest stays: 1 fits in 2")


def test_update_capacity_breaks_ties_in_size_by_name(new_storage):
    storage = user_with(new_storage(), "u", 40, b=10, c=10, a=10, d=5)
    storage.expect("update_capacity", "u", 25, returns=1, rule="35 > 25: one file of 10 goes")
    storage.expect(
        "get_file_size", "a", returns=None, rule="of equal sizes, the smaller name first"
    )
    storage.expect("get_file_size", "b", returns=10, rule="'b' stays")
    storage.expect("get_file_size", "c", returns=10, rule="'c' stays")
    storage.expect("update_capacity", "u", 15, returns=1, rule="25 > 15: 'b' goes, then 15 fit")
    storage.expect("get_file_size", "c", returns=10, rule="'c' stays")


def test_update_capacity_stops_at_an_exact_fit(new_storage):
    storage = user_with(new_storage(), "u", 30, a=10, b=10, c=10)
    storage.expect("update_capacity", "u", 20, returns=1, rule="20 fit in 20 exactly")
    storage.expect("update_capacity", "u", 20, returns=0, rule="nothing more to remove")


def test_update_capacity_keeps_empty_files_at_zero(new_storage):
    storage = user_with(new_storage(), "u", 10, a=3, e=0, b=7)
    storage.expect("update_capacity", "u", 0, returns=2, rule="files of size 0 fit in 0")
    storage.expect("get_file_size", "e", returns=0, rule="the empty file stays")


def test_update_capacity_that_fits_returns_zero_and_sets_the_capacity(new_storage):
    storage = user_with(new_storage(), "u", 10, a=8)
    storage.expect("update_capacity", "u", 20, returns=0, rule="everything fits: 0 removed")
    storage.expect("add_file_by", "u", "b", 12, returns=0, rule="the capacity is 20 now")
    storage.expect("update_capacity", "u", 20, returns=0, rule="an exact fit removes nothing")


def test_update_capacity_frees_the_names_it_removes(new_storage):
    storage = user_with(new_storage(), "u", 10, a=8)
    storage.expect("update_capacity", "u", 5, returns=1, rule="a goes")
    storage.expect("find_files", "", "", returns=[], rule="a removed file is gone from queries")
    storage.expect("add_file", "a", 1, returns=True, rule="its name is free")


def test_update_capacity_of_admin_or_a_missing_user_is_none(new_storage):
    storage = new_storage().given(a=5)
    storage.expect("update_capacity", "admin", 0, returns=None, rule="admin's capacity is fixed")
    storage.expect("get_file_size", "a", returns=5, rule="admin's files stay")
    storage.expect("update_capacity", "nobody", 0, returns=None, rule="no such user")
    storage.expect("add_user", "nobody", 1, returns=True, rule="no user was made")


# --- merges -------------------------------------------------------------------------------------


def test_merge_user_moves_files_and_capacity_and_returns_the_room(new_storage):
    storage = users_u_and_v(new_storage)
    storage.expect("merge_user", "u", "v", returns=9, rule="(10 + 5) - (4 + 2), an int")
    storage.expect("get_file_size", "v/a", returns=2, rule="the files keep their sizes")
    storage.expect("add_file_by", "u", "x", 9, returns=0, rule="u has 9 left")


def test_merged_files_belong_to_the_target(new_storage):
    storage = users_u_and_v(new_storage)
    storage.expect("merge_user", "u", "v", returns=9, rule="setup")
    storage.expect("copy_file", "v/a", "copy", returns=True, rule="the copy is u's")
    storage.expect("add_file_by", "u", "x", 8, returns=None, rule="it took 2 of u's 9")
    storage.expect("update_capacity", "u", 2, returns=2, rule="u/a (4) and copy (2) go ...")
    storage.expect("get_file_size", "v/a", returns=2, rule="... v/a stays: 2 fit in 2")


def test_the_source_id_is_free_after_a_merge(new_storage):
    storage = users_u_and_v(new_storage)
    storage.expect("merge_user", "u", "v", returns=9, rule="setup")
    storage.expect("add_file_by", "v", "x", 1, returns=None, rule="v no longer exists")
    storage.expect("merge_user", "u", "v", returns=None, rule="nor can it be merged again")
    storage.expect("add_user", "v", 3, returns=True, rule="the id can be added again")
    storage.expect(
        "add_file_by", "v", "x", 3, returns=0, rule="a new v: its own capacity, no files"
    )
    storage.expect("update_capacity", "v", 0, returns=1, rule="the new v owns only x")


@pytest.mark.parametrize(
    ("target", "source", "why"),
    [
        ("u", "u", "the same user"),
        ("u", "nobody", "no source"),
        ("nobody", "u", "no target"),
        ("u", "admin", "admin is never merged"),
        ("admin", "u", "nor merged into"),
        ("admin", "admin", "admin with itself"),
    ],
)
def test_a_merge_that_is_refused_returns_none_and_changes_nothing(new_storage, target, source, why):
    storage = users_u_and_v(new_storage)
    before = state(storage)
    storage.expect("merge_user", target, source, returns=None, rule=why)
    after = state(storage)
    assert after == before, (
        f"merge_user({target!r}, {source!r}) changed {before} to {after} ({why})"
    )


def test_str_and_int_subclasses_are_accepted(new_storage):
    class Text(str):
        pass

    class Count(int):
        pass

    storage = new_storage()
    storage.expect("add_user", Text("u"), Count(10), returns=True, rule="subclasses count")
    storage.expect("add_file_by", "u", Text("a"), Count(4), returns=6, rule="10 - 4", exact=False)
    storage.expect("update_capacity", Text("u"), Count(5), returns=0, rule="4 fit", exact=False)
    storage.expect("add_user", "v", 1, returns=True, rule="setup")
    storage.expect("merge_user", Text("u"), Text("v"), returns=2, rule="6 - 4", exact=False)


# --- argument checks: types, then values, before any lookup; nothing changes ---


@pytest.mark.parametrize("method", SUCCEEDING)
def test_an_argument_of_a_wrong_type_raises_type_error(new_storage, rejected_calls, method):
    storage = users_u_and_v(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, error, rule, parameter in rejected_calls(method, args):
            if error is TypeError:
                storage.refuses(TypeError, method, *bad, rule=rule, names=parameter)


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_refused_value_raises_value_error_before_anything_is_looked_up(
    new_storage, rejected_calls, method
):
    storage = users_u_and_v(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, error, rule, parameter in rejected_calls(method, args):
            if error is ValueError:
                storage.refuses(
                    ValueError,
                    method,
                    *bad,
                    rule=f"{rule}, checked before lookups",
                    names=parameter,
                )


@pytest.mark.parametrize("method", SUCCEEDING)
def test_types_are_checked_before_values(new_storage, type_first_calls, method):
    storage = users_u_and_v(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, rule, parameter in type_first_calls(method, args):
            storage.refuses(
                TypeError, method, *bad, rule=f"{rule}; types are checked first", names=parameter
            )


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_rejected_call_changes_nothing(new_storage, rejected_calls, method):
    storage = users_u_and_v(new_storage)
    for bad, error, _, _ in rejected_calls(method, SUCCEEDING[method]):
        storage.changes_nothing(method, bad, error, observe=state)


# --- performance ------------------------------------------------------------------------------

FILES = 100_000
UPDATES = 20_000
STEP = 2_000  # each update lowers the capacity by this much: 2 to 5 files go


def perf_size(i: int) -> int:
    return 1 + (i * 7919) % 1000


@pytest.mark.perf(
    workload="one user with 100,000 files, then 20,000 capacity updates removing 2 to 5 files each",
    reference="0.9 s (CPU time, shared 2-core machine; most of it storing the files)",
    naive="sorting the user's files on each update takes about 30 min (0.1 s an update)",
)
def test_capacity_updates_remove_the_largest_files_without_sorting(new_storage):
    storage = new_storage()
    total = sum(perf_size(i) for i in range(FILES))
    storage.expect("add_user", "big", total, returns=True, rule="setup")
    add_file_by = storage.storage.add_file_by
    for i in range(FILES):
        add_file_by("big", f"f{i:06d}", perf_size(i))
    update = storage.storage.update_capacity
    removed = [update("big", total - STEP * (k + 1)) for k in range(UPDATES)]
    # The model: the files by size descending, then name; the largest go first.
    order = sorted(range(FILES), key=lambda i: (-perf_size(i), i))
    expected, used, gone = [], total, 0
    for k in range(UPDATES):
        count = 0
        while used > total - STEP * (k + 1):
            used -= perf_size(order[gone])
            gone += 1
            count += 1
        expected.append(count)
    first_wrong = next((k for k in range(UPDATES) if removed[k] != expected[k]), None)
    assert first_wrong is None, (
        f"update number {first_wrong} removed {removed[first_wrong]} files; expected "
        f"{expected[first_wrong]} (largest first, ties by name)"
    )
    storage.expect(
        "get_file_size",
        f"f{order[gone]:06d}",
        returns=perf_size(order[gone]),
        rule="the largest file left",
    )
    storage.expect("get_file_size", f"f{order[gone - 1]:06d}", returns=None, rule="removed")
