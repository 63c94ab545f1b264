"""Stage 1: a key-value store of str keys and str values (spec: stages/inmem_db/stage1.md)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stage(1)

NOT_STR = [1, 1.5, None, b"k", ["k"], ("k",)]


def test_get_returns_the_value_most_recently_set(new_db):
    db = new_db()
    db.set("a", "1")
    assert db.get("a") == "1", "get must return the value set"
    db.set("a", "2")
    assert db.get("a") == "2", "get must return the value most recently set"


def test_get_returns_none_for_a_key_never_set(new_db):
    db = new_db()
    db.set("a", "1")
    assert db.get("b") is None, "get of a missing key must return None"


def test_keys_are_distinct_exact_strings(new_db):
    db = new_db()
    values = {"a": "lower", "A": "upper", "a ": "trailing space", "é": "accent"}
    for key, value in values.items():
        db.set(key, value)
    assert {key: db.get(key) for key in values} == values, (
        "keys that differ in any character are different keys"
    )


def test_len_counts_distinct_keys(new_db):
    db = new_db()
    assert len(db) == 0, "a new db is empty"
    db.set("a", "1")
    db.set("b", "2")
    db.set("a", "3")
    assert len(db) == 2, "overwriting a key must not add a key"


def test_set_returns_none(new_db):
    db = new_db()
    assert db.set("a", "1") is None, "set returns None"


def test_delete_returns_true_and_removes_the_key(new_db):
    db = new_db()
    db.set("a", "1")
    db.set("b", "2")
    assert db.delete("a") is True, "delete of a present key must return True"
    assert len(db) == 1
    assert db.get("b") == "2", "delete must remove only its key"


def test_get_returns_none_after_delete(new_db):
    db = new_db()
    db.set("a", "1")
    db.delete("a")
    assert db.get("a") is None, "a deleted key must be gone"


def test_delete_returns_false_for_a_missing_key(new_db):
    db = new_db()
    db.set("a", "1")
    assert db.delete("b") is False, "delete of a missing key must return False"
    db.delete("a")
    assert db.delete("a") is False, "delete of an already deleted key must return False"
    assert len(db) == 0


def test_a_deleted_key_can_be_set_again(new_db):
    db = new_db()
    db.set("a", "1")
    db.delete("a")
    db.set("a", "2")
    assert (db.get("a"), len(db)) == ("2", 1)


def test_empty_key_and_empty_value_are_ordinary_strings(new_db):
    db = new_db()
    db.set("", "")
    assert db.get("") == "", "the empty value must come back as '', not None"
    assert len(db) == 1, "the empty key is a key like any other"
    db.set("k", "")
    assert db.get("k") == ""
    assert db.delete("") is True
    assert db.get("") is None
    assert len(db) == 1


def test_str_subclasses_are_accepted_as_keys_and_values(new_db):
    db = new_db()

    class Name(str):
        pass

    db.set(Name("a"), Name("1"))
    assert db.get("a") == "1", "an instance of a str subclass is a str"
    assert db.delete(Name("a")) is True


def test_two_dbs_do_not_share_keys(impl, clock):
    first = impl.InMemoryDB(clock=clock)
    second = impl.InMemoryDB(clock=clock)
    first.set("a", "1")
    assert second.get("a") is None, "each InMemoryDB has its own keys"
    assert len(second) == 0


def test_the_clock_argument_is_optional(impl):
    db = impl.InMemoryDB()
    db.set("a", "1")
    assert db.get("a") == "1"


@pytest.mark.parametrize("key", NOT_STR, ids=repr)
def test_a_key_that_is_not_a_str_raises_type_error(new_db, key):
    db = new_db()
    for call in (lambda: db.set(key, "v"), lambda: db.get(key), lambda: db.delete(key)):
        with pytest.raises(TypeError) as excinfo:
            call()
        assert str(excinfo.value), "the TypeError must say what was wrong"
    assert len(db) == 0, "a rejected call changes nothing"


@pytest.mark.parametrize("value", NOT_STR, ids=repr)
def test_a_value_that_is_not_a_str_raises_type_error(new_db, value):
    db = new_db()
    with pytest.raises(TypeError) as excinfo:
        db.set("k", value)
    assert str(excinfo.value), "the TypeError must say what was wrong"
    assert len(db) == 0, "a rejected set must not store anything"


def test_a_rejected_set_changes_nothing(new_db):
    db = new_db()
    db.set("a", "1")
    with pytest.raises(TypeError):
        db.set("a", 2)
    with pytest.raises(TypeError):
        db.set(None, "2")
    assert db.get("a") == "1", "a rejected set must keep the old value"
    assert len(db) == 1
