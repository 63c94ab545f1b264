"""Stage 1: add, read, delete and copy files (spec: stages/cloud_storage/stage1.md)."""

from __future__ import annotations

import pytest

from dojo.testing import example_tables, replay

pytestmark = pytest.mark.stage(1)

# Calls each method would accept on a storage holding a=5 and b=7, one that
# succeeds and one that fails a business rule: a check of the arguments must
# come before either outcome.
SUCCEEDING = {
    "add_file": ("new", 5),
    "get_file_size": ("a",),
    "delete_file": ("a",),
    "copy_file": ("a", "new"),
}
FAILING = {
    "add_file": ("a", 5),
    "get_file_size": ("missing",),
    "delete_file": ("missing",),
    "copy_file": ("missing", "new"),
}
NAMES = ("a", "b", "new", "missing")


def holding_a_and_b(new_storage):
    return new_storage().given(a=5, b=7)


def sizes(storage) -> dict[str, object]:
    """What stage 1 can see of a storage: the size of each name the tests use."""
    return {name: storage.call("get_file_size", name) for name in NAMES}


# One test per table; all_example_tables would add a second stage mark to this file's.
@pytest.mark.parametrize("table", example_tables("cloud_storage", 1), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"storage": impl.CloudStorage()})


def test_add_file_stores_a_new_file_and_returns_true(new_storage):
    storage = new_storage()
    storage.expect("add_file", "a.txt", 10, returns=True, rule="a new name is stored")
    storage.expect("get_file_size", "a.txt", returns=10, rule="the size it was added with")


def test_add_file_refuses_a_name_that_exists_and_keeps_its_size(new_storage):
    storage = new_storage().given(**{"a.txt": 10})
    storage.expect("add_file", "a.txt", 99, returns=False, rule="a name that exists is refused")
    storage.expect("get_file_size", "a.txt", returns=10, rule="the existing file keeps its size")


def test_get_file_size_of_a_missing_file_is_none(new_storage):
    storage = new_storage().given(a=1)
    storage.expect("get_file_size", "b", returns=None, rule="no such file: None")


def test_a_file_of_size_zero_is_a_file(new_storage):
    storage = new_storage()
    storage.expect("add_file", "empty", 0, returns=True, rule="sizes may be 0")
    storage.expect("get_file_size", "empty", returns=0, rule="its size is 0, not None")
    storage.expect("add_file", "empty", 1, returns=False, rule="its name is taken")
    storage.expect("delete_file", "empty", returns=0, rule="delete returns the size 0, not None")


def test_sizes_have_no_upper_bound(new_storage):
    storage = new_storage()
    storage.expect("add_file", "big", 10**30, returns=True, rule="no upper bound on sizes")
    storage.expect("get_file_size", "big", returns=10**30, rule="the size is kept exactly")


def test_delete_file_returns_the_size_and_frees_the_name(new_storage):
    storage = new_storage().given(a=5, b=7)
    storage.expect("delete_file", "a", returns=5, rule="delete returns the deleted file's size")
    storage.expect("get_file_size", "a", returns=None, rule="the file is gone")
    storage.expect("get_file_size", "b", returns=7, rule="other files stay")
    storage.expect("add_file", "a", 3, returns=True, rule="a deleted name can be added again")
    storage.expect("get_file_size", "a", returns=3, rule="with its new size")


def test_delete_file_of_a_missing_file_returns_none(new_storage):
    storage = new_storage().given(a=5)
    storage.expect("delete_file", "b", returns=None, rule="no such file: None")
    storage.expect("delete_file", "a", returns=5, rule="setup")
    storage.expect("delete_file", "a", returns=None, rule="a file is deleted once")


def test_copy_file_makes_a_file_of_its_own_with_the_source_size(new_storage):
    storage = new_storage().given(a=5)
    storage.expect("copy_file", "a", "b", returns=True, rule="a copy to a free name")
    storage.expect("get_file_size", "b", returns=5, rule="the copy has the source's size")
    storage.expect("delete_file", "a", returns=5, rule="the source can be deleted")
    storage.expect("get_file_size", "b", returns=5, rule="the copy stays: a file of its own")
    storage.expect("copy_file", "b", "a", returns=True, rule="a copy of a copy")
    storage.expect("delete_file", "b", returns=5, rule="deleting the copy")
    storage.expect("get_file_size", "a", returns=5, rule="leaves the other file")


def test_copy_file_refuses_a_missing_source(new_storage):
    storage = new_storage().given(a=5)
    storage.expect("copy_file", "missing", "b", returns=False, rule="no source file: False")
    storage.expect("get_file_size", "b", returns=None, rule="the failed copy made nothing")


def test_copy_file_refuses_a_target_that_exists_and_keeps_it(new_storage):
    storage = new_storage().given(a=5, b=7)
    storage.expect("copy_file", "a", "b", returns=False, rule="the target exists: False")
    storage.expect("get_file_size", "b", returns=7, rule="the target keeps its size")
    storage.expect("get_file_size", "a", returns=5, rule="the source is unchanged")


def test_a_copy_onto_itself_is_false(new_storage):
    storage = new_storage().given(a=5)
    storage.expect(
        "copy_file", "a", "a", returns=False, rule="a copy onto itself: its target exists"
    )
    storage.expect("get_file_size", "a", returns=5, rule="the file is unchanged")


def test_names_are_compared_exactly(new_storage):
    storage = new_storage()
    names = ["a.txt", "A.txt", "a.txt ", " a.txt", "é"]
    for size, name in enumerate(names, 1):
        storage.expect("add_file", name, size, returns=True, rule="names are compared exactly")
    for size, name in enumerate(names, 1):
        storage.expect("get_file_size", name, returns=size, rule="each name is its own file")


def test_a_name_with_slashes_is_just_a_string(new_storage):
    storage = new_storage()
    storage.expect("add_file", "docs/a.txt", 1, returns=True, rule="a name may contain /")
    storage.expect("add_file", "docs", 2, returns=True, rule="no folders: 'docs' is a name too")
    storage.expect("add_file", "docs/", 3, returns=True, rule="and so is 'docs/'")
    storage.expect("delete_file", "docs", returns=2, rule="deleting 'docs' deletes one file")
    storage.expect("get_file_size", "docs/a.txt", returns=1, rule="nothing under it is touched")
    storage.expect("add_file", "/", 4, returns=True, rule="'/' alone is a name")


def test_str_and_int_subclasses_are_accepted(new_storage):
    class Name(str):
        pass

    class Size(int):
        pass

    storage = new_storage()
    storage.expect("add_file", Name("a"), Size(5), returns=True, rule="a str subclass is a str")
    storage.expect("get_file_size", "a", returns=5, rule="the size given", exact=False)
    storage.expect("add_file", "a", 1, returns=False, rule="Name('a') and 'a' are the same name")
    storage.expect("copy_file", Name("a"), Name("b"), returns=True, rule="subclasses in copy_file")
    storage.expect("delete_file", Name("b"), returns=5, rule="a str subclass", exact=False)
    storage.expect("get_file_size", Name("a"), returns=5, rule="a str subclass", exact=False)


def test_two_storages_share_nothing(new_storage):
    first, second = new_storage(), new_storage()
    first.expect("add_file", "a", 1, returns=True, rule="setup")
    second.expect("get_file_size", "a", returns=None, rule="each storage has its own files")
    second.expect("add_file", "a", 2, returns=True, rule="the name is free in another storage")
    first.expect("get_file_size", "a", returns=1, rule="each storage has its own files")


# --- argument checks: types, then values, before any lookup; nothing changes ---


@pytest.mark.parametrize("method", SUCCEEDING)
def test_an_argument_of_a_wrong_type_raises_type_error(new_storage, rejected_calls, method):
    storage = holding_a_and_b(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, error, rule, parameter in rejected_calls(method, args):
            if error is TypeError:
                storage.refuses(TypeError, method, *bad, rule=rule, names=parameter)


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_refused_value_raises_value_error_before_anything_is_looked_up(
    new_storage, rejected_calls, method
):
    storage = holding_a_and_b(new_storage)
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


@pytest.mark.parametrize("method", [m for m in SUCCEEDING if len(SUCCEEDING[m]) > 1])
def test_types_are_checked_before_values(new_storage, type_first_calls, method):
    storage = holding_a_and_b(new_storage)
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, rule, parameter in type_first_calls(method, args):
            storage.refuses(
                TypeError, method, *bad, rule=f"{rule}; types are checked first", names=parameter
            )


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_rejected_call_changes_nothing(new_storage, rejected_calls, method):
    storage = holding_a_and_b(new_storage)
    for bad, error, _, _ in rejected_calls(method, SUCCEEDING[method]):
        storage.changes_nothing(method, bad, error, observe=sizes)
