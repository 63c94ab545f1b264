"""Stage 1: a bounded cache with least-recently-used eviction (spec: stages/lru_cache/stage1.md)."""

from __future__ import annotations

import pytest

from dojo.testing import check_raises, check_returns, example_tables, replay

pytestmark = pytest.mark.stage(1)


@pytest.mark.parametrize("table", example_tables("lru_cache", 1), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"LRUCache": impl.LRUCache})


def test_get_returns_the_value_most_recently_put(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    check_returns(1, "get returns the value put", cache.get, "a")
    cache.put("a", 2)
    check_returns(2, "get returns the value most recently put", cache.get, "a")


def test_get_returns_the_default_on_a_miss(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    check_returns(None, "a miss returns None when no default is given", cache.get, "b")
    check_returns(0, "a miss returns the default given", cache.get, "b", 0)
    check_returns(["a"], "a miss changes nothing", cache.keys)


def test_a_stored_none_is_returned_rather_than_the_default(new_cache):
    cache = new_cache(2)
    cache.put("a", None)
    check_returns(None, "a stored None is a hit, not a miss", cache.get, "a", "default")


def test_put_returns_none(new_cache):
    cache = new_cache(1)
    check_returns(None, "put returns None", cache.put, "a", 1)


def test_keys_lists_keys_from_least_to_most_recent(new_cache):
    cache = new_cache(5)
    for key in ("c", "a", "b"):
        cache.put(key, key.upper())
    check_returns(["c", "a", "b"], "after puts of 'c', 'a', 'b', least recent first", cache.keys)


def test_the_least_recently_put_key_is_evicted(new_cache):
    cache = new_cache(2)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        cache.put(key, value)
    rule = "at capacity 2, the put of 'c' evicts the least recent key, 'a'"
    check_returns(["b", "c"], rule, cache.keys)
    check_returns(None, rule, cache.get, "a")
    check_returns(2, rule, cache.__len__)


def test_a_get_hit_makes_the_key_most_recent(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    check_returns(1, "a get hit returns the value", cache.get, "a")
    check_returns(
        ["b", "a"], "after put a, put b, get a: a get hit makes 'a' most recent", cache.keys
    )
    cache.put("c", 3)
    check_returns(["a", "c"], "so the put of 'c' evicts 'b', not 'a'", cache.keys)


def test_updating_a_key_makes_it_most_recent_without_evicting(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    rule = "after put a, put b, put a again: an update makes 'a' most recent and evicts nothing"
    check_returns(["b", "a"], rule, cache.keys)
    check_returns(10, "an update replaces the value", cache.get, "a")
    check_returns(2, rule, cache.get, "b")


def test_a_miss_contains_len_and_keys_do_not_change_recency(new_cache):
    cache = new_cache(3)
    for key in ("a", "b", "c"):
        cache.put(key, 0)
    cache.get("z")
    _ = "a" in cache
    len(cache)
    cache.keys()
    rule = "after a get miss, in, len and keys(): only put and a get hit change recency"
    check_returns(["a", "b", "c"], rule, cache.keys)
    cache.put("d", 0)
    check_returns(["b", "c", "d"], "so 'a' is still the least recent and evicted", cache.keys)


def test_contains_reports_cached_keys(new_cache):
    cache = new_cache(1)
    check_returns(False, "a new cache holds nothing", cache.__contains__, "a")
    cache.put("a", 1)
    cache.put("b", 2)
    check_returns(False, "'a' was evicted by the put of 'b'", cache.__contains__, "a")
    check_returns(True, "'b' is cached", cache.__contains__, "b")


def test_keys_returns_a_new_list(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    keys = cache.keys()
    assert isinstance(keys, list), f"keys() returned {keys!r}; expected a list"
    keys.append("b")
    keys.remove("a")
    check_returns(["a"], "changing the list keys() returned must not change the cache", cache.keys)
    assert cache.keys() is not cache.keys(), (
        "keys() returned the same list twice: a new list each call"
    )


def test_len_counts_entries_and_never_exceeds_capacity(new_cache):
    cache = new_cache(3)
    check_returns(0, "a new cache is empty", cache.__len__)
    for i in range(10):
        cache.put(i, i)
        check_returns(min(i + 1, 3), f"after {i + 1} puts at capacity 3", cache.__len__)
    check_returns([7, 8, 9], "the three most recent keys remain", cache.keys)


def test_a_capacity_of_one_keeps_only_the_last_key(new_cache):
    cache = new_cache(1)
    cache.put("a", 1)
    cache.put("b", 2)
    rule = "at capacity 1 the put of 'b' evicts 'a'"
    check_returns(["b"], rule, cache.keys)
    check_returns(None, rule, cache.get, "a")
    check_returns(2, rule, cache.get, "b")


def test_equal_keys_are_one_key_kept_as_first_inserted(new_cache):
    cache = new_cache(3)
    cache.put(1, "int")
    cache.put(1.0, "float")
    cache.put(True, "bool")
    check_returns(1, "1, 1.0 and True are one key, as in a dict", cache.__len__)
    check_returns("bool", "the last put under an equal key wins", cache.get, 1.0)
    check_returns([1], "keys() holds the key object first inserted, the int 1", cache.keys)


@pytest.mark.parametrize("bad", [[1], {"k": 1}, {1}], ids=repr)
def test_unhashable_keys_raise_type_error_and_change_nothing(new_cache, bad):
    cache = new_cache(2)
    cache.put("a", 1)
    rule = "an unhashable key raises TypeError, as a dict does"
    check_raises(TypeError, rule, cache.put, bad, 1)
    check_raises(TypeError, rule, cache.get, bad)
    check_raises(TypeError, rule, cache.__contains__, bad)
    check_returns(["a"], "a rejected call changes nothing", cache.keys)
    check_returns(1, "a rejected call changes nothing", cache.get, "a")


def test_values_may_be_any_object(new_cache):
    cache = new_cache(4)
    values = [[1, 2], {"k": None}, object(), (1, "x")]
    for i, value in enumerate(values):
        cache.put(i, value)
    for i, value in enumerate(values):
        got = cache.get(i)
        assert got is value, f"get({i}) returned {got!r}; expected the very object put, {value!r}"


def test_capacity_is_a_read_only_property(new_cache):
    cache = new_cache(7)
    assert cache.capacity == 7, f"capacity is {cache.capacity!r}; expected 7, the constructor's"
    with pytest.raises(AttributeError):
        cache.capacity = 8
        pytest.fail(
            f"cache.capacity = 8 set it to {cache.capacity!r}; expected AttributeError "
            "(capacity is a read-only property)"
        )
    assert cache.capacity == 7, (
        f"capacity is {cache.capacity!r} after a rejected assignment; expected 7"
    )


@pytest.mark.parametrize("bad", [True, False, 2.0, "2", None, [2]], ids=repr)
def test_a_capacity_that_is_not_an_int_raises_type_error(impl, bad):
    check_raises(TypeError, "a capacity is an int, and a bool is not one", impl.LRUCache, bad)


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_a_capacity_below_one_raises_value_error(impl, bad):
    check_raises(ValueError, "a capacity is at least 1", impl.LRUCache, bad)


def test_an_int_subclass_is_a_valid_capacity(new_cache):
    class Size(int):
        pass

    cache = new_cache(Size(2))
    for key in "abc":
        cache.put(key, 0)
    rule = "a subclass of int other than bool is a capacity"
    assert cache.capacity == 2, (
        f"LRUCache(Size(2)).capacity is {cache.capacity!r}; expected 2 ({rule})"
    )
    check_returns(["b", "c"], rule, cache.keys)


def test_two_caches_do_not_share_entries(new_cache):
    first, second = new_cache(2), new_cache(2)
    first.put("a", 1)
    rule = "after first.put('a', 1), the second cache is still empty"
    check_returns(False, rule, second.__contains__, "a")
    check_returns([], rule, second.keys)
