"""Stage 2: queries by prefix and suffix (spec: stages/cloud_storage/stage2.md)."""

from __future__ import annotations

import pytest

from dojo.testing import example_tables, replay

pytestmark = pytest.mark.stage(2)

ORDER = "size descending, then name ascending"
# Calls each query would accept; the argument checks come first whatever it finds.
SUCCEEDING = {"find_files": ("a", ".txt"), "largest_files": ("a", 2)}
FAILING = {"find_files": ("zz", "none"), "largest_files": ("zz", 2)}
# The largest str a character can make: a prefix of it must not run past the index's end.
MAX = chr(0x10FFFF)


def everything(storage) -> object:
    return storage.call("find_files", "", "")


def ranked(files: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(files.items(), key=lambda pair: (-pair[1], pair[0]))


# One test per table; all_example_tables would add a second stage mark to this file's.
@pytest.mark.parametrize("table", example_tables("cloud_storage", 2), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"storage": impl.CloudStorage()})


def test_find_files_returns_the_names_with_the_prefix_and_the_suffix(new_storage):
    files = {"a.txt": 3, "a.md": 4, "ab.txt": 5, "b.txt": 6, "xa.txt": 7}
    storage = new_storage().given(**files)
    storage.expect(
        "find_files", "a", ".txt", returns=[("ab.txt", 5), ("a.txt", 3)], rule="both must match"
    )
    storage.expect("find_files", "b", ".md", returns=[], rule="no name matches both: []")


def test_find_files_orders_by_size_descending_then_name_ascending(new_storage):
    files = {"b": 5, "a": 5, "c": 9, "B": 5, "aa": 5, "a/": 5, "a0": 5, "d": 1}
    storage = new_storage().given(**files)
    storage.expect(
        "find_files", "", "", returns=ranked(files), rule=f"{ORDER}, by Python's str order"
    )


def test_empty_prefix_and_suffix_match_every_name(new_storage):
    files = {"x/1": 1, "y": 2, "/": 3}
    storage = new_storage().given(**files)
    storage.expect("find_files", "", "", returns=ranked(files), rule="'' matches every name")
    storage.expect("find_files", "x", "", returns=[("x/1", 1)], rule="'' suffix, any end")
    storage.expect("find_files", "", "1", returns=[("x/1", 1)], rule="'' prefix, any start")


def test_the_prefix_and_the_suffix_may_overlap_in_a_short_name(new_storage):
    storage = new_storage().given(aba=1, a=2, ab=3, ba=4)
    storage.expect(
        "find_files",
        "ab",
        "ba",
        returns=[("aba", 1)],
        rule="'aba' starts with 'ab', ends with 'ba'",
    )
    storage.expect(
        "find_files", "a", "a", returns=[("a", 2), ("aba", 1)], rule="'a' starts and ends with 'a'"
    )
    storage.expect(
        "find_files", "ab", "ab", returns=[("ab", 3)], rule="the whole name as prefix and suffix"
    )


def test_a_prefix_matches_names_across_slashes(new_storage):
    storage = new_storage().given(**{"a/b.txt": 1, "ab.txt": 2, "a": 3, "b/a.txt": 4})
    storage.expect(
        "find_files",
        "a",
        "",
        returns=[("a", 3), ("ab.txt", 2), ("a/b.txt", 1)],
        rule="no folders: a prefix is compared as a string",
    )


def test_a_prefix_matches_exactly_the_names_that_start_with_it(new_storage):
    names = ["a", "aa", "ab", "ab\x00", "abz", "ab" + MAX, "ab" + MAX + "x", "ac", "b", MAX, "A"]
    storage = new_storage().given(**{name: 1 for name in names})
    for prefix in ["ab", "ab" + MAX, "a", MAX, "abz", "abc", "B", "A", "ac"]:
        expected = sorted((name, 1) for name in names if name.startswith(prefix))
        storage.expect(
            "find_files", prefix, "", returns=expected, rule="exactly the names starting with it"
        )
        storage.expect(
            "largest_files", prefix, 20, returns=expected, rule="exactly the names starting with it"
        )


def test_a_suffix_matches_exactly_the_names_that_end_with_it(new_storage):
    names = ["a", "ba", "ab", "\x00ba", "zba", MAX + "ba", "x" + MAX + "ba", "ca", "b", MAX]
    storage = new_storage().given(**{name: 1 for name in names})
    for suffix in ["ba", MAX + "ba", "a", MAX, "zba", "cba", "A", "ca"]:
        expected = sorted((name, 1) for name in names if name.endswith(suffix))
        storage.expect(
            "find_files", "", suffix, returns=expected, rule="exactly the names ending with it"
        )


def test_largest_files_returns_the_n_largest_with_the_prefix(new_storage):
    storage = new_storage().given(a1=5, a2=9, a3=7, b=99)
    storage.expect(
        "largest_files", "a", 2, returns=[("a2", 9), ("a3", 7)], rule="the n largest, largest first"
    )
    storage.expect("largest_files", "a", 1, returns=[("a2", 9)], rule="n = 1 is the largest")
    storage.expect("largest_files", "", 1, returns=[("b", 99)], rule="'' matches every name")


def test_largest_files_breaks_ties_by_name_when_it_cuts(new_storage):
    storage = new_storage().given(c=5, b=5, d=5, a=1, e=6)
    storage.expect(
        "largest_files",
        "",
        3,
        returns=[("e", 6), ("b", 5), ("c", 5)],
        rule="among equal sizes the smaller names are kept",
    )


def test_largest_files_returns_fewer_when_fewer_match(new_storage):
    storage = new_storage().given(a1=5, a2=9, b=1)
    storage.expect(
        "largest_files", "a", 5, returns=[("a2", 9), ("a1", 5)], rule="fewer than n match"
    )
    storage.expect("largest_files", "c", 5, returns=[], rule="none match: []")
    empty = new_storage()
    empty.expect("largest_files", "", 3, returns=[], rule="an empty storage: []")
    empty.expect("find_files", "", "", returns=[], rule="an empty storage: []")


def test_queries_return_new_lists_of_tuples(new_storage):
    storage = new_storage().given(a=1, b=2)
    for method, args in (("find_files", ("", "")), ("largest_files", ("", 5))):
        first = storage.call(method, *args)
        first.append(("zz", 1))
        storage.expect(
            method, *args, returns=[("b", 2), ("a", 1)], rule="a returned list is the caller's"
        )


def test_queries_see_adds_copies_and_deletes(new_storage):
    storage = new_storage().given(a=1, b=2)
    storage.expect("copy_file", "b", "c", returns=True, rule="setup")
    storage.expect("delete_file", "a", returns=1, rule="setup")
    storage.expect("add_file", "a", 3, returns=True, rule="setup")
    storage.expect(
        "find_files", "", "", returns=[("a", 3), ("b", 2), ("c", 2)], rule="the files as they are"
    )
    storage.expect("largest_files", "c", 1, returns=[("c", 2)], rule="a copy is a file")


def test_queries_change_nothing(new_storage):
    storage = new_storage().given(a=1, ab=2)
    storage.expect("largest_files", "a", 1, returns=[("ab", 2)], rule="setup")
    storage.expect("find_files", "a", "b", returns=[("ab", 2)], rule="setup")
    storage.expect(
        "find_files", "", "", returns=[("ab", 2), ("a", 1)], rule="queries change nothing"
    )


def test_str_and_int_subclasses_are_accepted(new_storage):
    class Text(str):
        pass

    class Count(int):
        pass

    storage = new_storage().given(ab=1)
    storage.expect("find_files", Text("a"), Text("b"), returns=[("ab", 1)], rule="str subclasses")
    storage.expect("find_files", Text(""), Text(""), returns=[("ab", 1)], rule="empty subclasses")
    storage.expect(
        "largest_files", Text("a"), Count(1), returns=[("ab", 1)], rule="an int subclass"
    )


# --- argument checks: types, then values, before any lookup; nothing changes ---


@pytest.mark.parametrize("method", SUCCEEDING)
def test_an_argument_of_a_wrong_type_raises_type_error(new_storage, rejected_calls, method):
    storage = new_storage().given(**{"a.txt": 1, "ab.txt": 2})
    for args in (SUCCEEDING[method], FAILING[method]):
        for bad, error, rule, parameter in rejected_calls(method, args):
            if error is TypeError:
                storage.refuses(TypeError, method, *bad, rule=rule, names=parameter)


def test_n_below_one_raises_value_error_before_anything_is_looked_up(new_storage, rejected_calls):
    storage = new_storage().given(**{"a.txt": 1, "ab.txt": 2})
    for args in (SUCCEEDING["largest_files"], FAILING["largest_files"]):
        for bad, error, rule, parameter in rejected_calls("largest_files", args):
            if error is ValueError:
                storage.refuses(ValueError, "largest_files", *bad, rule=rule, names=parameter)


def test_types_are_checked_before_values(new_storage, type_first_calls):
    storage = new_storage().given(**{"a.txt": 1})
    for args in (SUCCEEDING["largest_files"], FAILING["largest_files"]):
        for bad, rule, parameter in type_first_calls("largest_files", args):
            storage.refuses(
                TypeError, "largest_files", *bad, rule=f"{rule}; types first", names=parameter
            )


@pytest.mark.parametrize("method", SUCCEEDING)
def test_a_rejected_call_changes_nothing(new_storage, rejected_calls, method):
    storage = new_storage().given(**{"a.txt": 1, "ab.txt": 2})
    for bad, error, _, _ in rejected_calls(method, SUCCEEDING[method]):
        storage.changes_nothing(method, bad, error, observe=everything)


# --- performance ----------------------------------------------------------------

FILES = 100_000
QUERIES = 20_000
GROUPS = FILES // 20  # each directory and each tag holds 20 files


def perf_name(i: int) -> str:
    """``d0042/000843-0843.log``: the directory picks 20 files, so does the tag."""
    return f"d{i // 20:04d}/{i:06d}-{i % GROUPS:04d}.log"


def perf_size(i: int) -> int:
    return (i * 7919) % 1000


@pytest.mark.perf(
    workload="100,000 files, then 20,000 find_files and largest_files queries, each selective "
    "by its prefix or by its suffix alone (20 matches)",
    reference="1 s (CPU time, shared 2-core machine; half of it storing the files)",
    naive="filtering every name on each query takes about 210 s (10 ms a query)",
)
def test_queries_read_only_the_narrower_of_the_prefix_and_suffix_matches(new_storage):
    storage = new_storage()
    add_file = storage.storage.add_file
    for i in range(FILES):
        add_file(perf_name(i), perf_size(i))
    results = []
    for q in range(QUERIES):
        group = (q * 7919) % GROUPS
        directory, tag = f"d{group:04d}/", f"-{group:04d}.log"
        if q % 4 == 0:
            results.append(storage.storage.find_files(directory, ".log"))  # narrow prefix
        elif q % 4 == 1:
            results.append(storage.storage.find_files("d", tag))  # narrow suffix
        elif q % 4 == 2:
            results.append(storage.storage.find_files("", tag))  # narrow suffix, empty prefix
        else:
            results.append(storage.storage.largest_files(directory, 5))
    for q in (0, 1, 2, 3, QUERIES - 1):
        group = (q * 7919) % GROUPS
        members = (
            range(group * 20, group * 20 + 20) if q % 4 in (0, 3) else range(group, FILES, GROUPS)
        )
        expected = ranked({perf_name(i): perf_size(i) for i in members})[: 5 if q % 4 == 3 else 20]
        assert results[q] == expected, f"query {q} of the size test returned {results[q]!r}"
    assert all(len(result) in (5, 20) for result in results), "each query matches 20 files"
