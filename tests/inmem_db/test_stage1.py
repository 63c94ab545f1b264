"""Stage 1: a key-value store of str keys and str values (spec: stages/inmem_db/stage1.md)."""

from __future__ import annotations

import pytest

from dojo.testing import check_raises, check_returns, render_call, replay

from .examples import spec_tables

pytestmark = pytest.mark.stage(1)

NOT_STR = [1, 1.5, None, b"k", ["k"], ("k",)]


@spec_tables(1)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"InMemoryDB": impl.InMemoryDB})


def test_get_returns_the_value_most_recently_set(new_db):
    db = new_db()
    db.set("a", "1")
    check_returns("1", "get returns the value set", db.get, "a")
    db.set("a", "2")
    check_returns("2", "get returns the value most recently set", db.get, "a")


def test_get_returns_none_for_a_key_never_set(new_db):
    db = new_db()
    db.set("a", "1")
    check_returns(None, "get of a missing key returns None", db.get, "b")


def test_keys_are_distinct_exact_strings(new_db):
    db = new_db()
    values = {"a": "lower", "A": "upper", "a ": "trailing space", "é": "accent"}
    for key, value in values.items():
        db.set(key, value)
    for key, value in values.items():
        check_returns(value, "keys that differ in any character are different keys", db.get, key)


def test_len_counts_distinct_keys(new_db):
    db = new_db()
    check_returns(0, "a new db is empty", len, db)
    db.set("a", "1")
    db.set("b", "2")
    db.set("a", "3")
    check_returns(2, "after set a, b, a: overwriting a key does not add one", len, db)


def test_set_returns_none(new_db):
    db = new_db()
    check_returns(None, "set returns None", db.set, "a", "1")


def test_delete_returns_true_and_removes_only_its_key(new_db):
    db = new_db()
    db.set("a", "1")
    db.set("b", "2")
    check_returns(True, "delete of a stored key returns True", db.delete, "a")
    check_returns(1, "after set a, b and delete a: one key is left", len, db)
    check_returns("2", "delete removes only its own key", db.get, "b")


def test_get_returns_none_after_delete(new_db):
    db = new_db()
    db.set("a", "1")
    db.delete("a")
    check_returns(None, "a deleted key is gone", db.get, "a")


def test_delete_returns_false_for_a_missing_key(new_db):
    db = new_db()
    db.set("a", "1")
    check_returns(False, "delete of a key never set returns False", db.delete, "b")
    db.delete("a")
    check_returns(False, "delete of a key already deleted returns False", db.delete, "a")
    check_returns(0, "after set a and delete a, the store is empty", len, db)


def test_a_deleted_key_can_be_set_again(new_db):
    db = new_db()
    db.set("a", "1")
    db.delete("a")
    db.set("a", "2")
    check_returns("2", "after set, delete and set again, the key holds the new value", db.get, "a")
    check_returns(1, "a key set again after its delete counts once", len, db)


def test_empty_key_and_empty_value_are_ordinary_strings(new_db):
    db = new_db()
    db.set("", "")
    check_returns("", "a stored empty value comes back as '', not None", db.get, "")
    check_returns(1, "the empty key is a key like any other", len, db)
    db.set("k", "")
    check_returns("", "a stored empty value comes back as '', not None", db.get, "k")
    check_returns(True, "the empty key can be deleted", db.delete, "")
    check_returns(None, "the deleted empty key is gone", db.get, "")
    check_returns(1, "after deleting '', only 'k' is left", len, db)


def test_str_subclasses_are_accepted_as_keys_and_values(new_db):
    db = new_db()

    class Name(str):
        pass

    db.set(Name("a"), Name("1"))
    got = db.get("a")
    assert got == "1", (
        f"after set(Name('a'), Name('1')), get('a') returned {got!r}; expected '1' "
        "(an instance of a str subclass is a str)"
    )
    check_returns(True, "a str subclass key is a key", db.delete, Name("a"))


def test_two_dbs_do_not_share_keys(impl, clock):
    first = impl.InMemoryDB(clock=clock)
    second = impl.InMemoryDB(clock=clock)
    first.set("a", "1")
    check_returns(None, "each InMemoryDB has its own keys", second.get, "a")
    check_returns(0, "each InMemoryDB has its own keys", len, second)


def test_the_clock_argument_is_optional(impl):
    db = impl.InMemoryDB()
    db.set("a", "1")
    check_returns("1", "InMemoryDB() works without a clock", db.get, "a")


@pytest.mark.parametrize("key", NOT_STR, ids=repr)
def test_a_key_that_is_not_a_str_raises_type_error(new_db, key):
    db = new_db()
    rule = "keys are str"
    check_raises(TypeError, rule, db.set, key, "v")
    check_raises(TypeError, rule, db.get, key)
    check_raises(TypeError, rule, db.delete, key)
    check_returns(0, "a rejected call changes nothing", len, db)


@pytest.mark.parametrize("value", NOT_STR, ids=repr)
def test_a_value_that_is_not_a_str_raises_type_error(new_db, value):
    db = new_db()
    check_raises(TypeError, "values are str", db.set, "k", value)
    check_returns(0, "a rejected set stores nothing", len, db)


def test_a_rejected_set_changes_nothing(new_db):
    db = new_db()
    db.set("a", "1")
    check_raises(TypeError, "values are str", db.set, "a", 2)
    check_raises(TypeError, "keys are str", db.set, None, "2")
    check_returns("1", "a rejected set keeps the old value", db.get, "a")
    check_returns(1, "a rejected set adds no key", len, db)


@pytest.mark.parametrize(
    ("method", "args", "argument"),
    [
        ("set", (1, "v"), "key"),
        ("set", ("k", 1), "value"),
        ("get", (1,), "key"),
        ("delete", (1,), "key"),
    ],
    ids=["set-key", "set-value", "get", "delete"],
)
def test_a_type_error_names_the_argument_at_fault(new_db, method, args, argument):
    db = new_db()
    call = getattr(db, method)
    error = check_raises(TypeError, f"{argument} must be a str", call, *args)
    assert argument in str(error).lower(), (
        f"{render_call(call, *args)} raised TypeError({str(error)!r}); expected a message naming "
        f"the argument {argument!r} (errors say what was wrong)"
    )
