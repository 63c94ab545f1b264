"""Stage 1: a bounded cache with least-recently-used eviction (spec: stages/lru_cache/stage1.md)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stage(1)


def test_get_returns_the_value_most_recently_put(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    assert cache.get("a") == 1, "get must return the value put"
    cache.put("a", 2)
    assert cache.get("a") == 2, "get must return the value most recently put"


def test_get_returns_the_default_on_a_miss(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    assert cache.get("b") is None, "a miss returns None when no default is given"
    assert cache.get("b", 0) == 0, "a miss returns the default given"
    assert cache.keys() == ["a"], "a miss changes nothing"


def test_a_stored_none_is_returned_rather_than_the_default(new_cache):
    cache = new_cache(2)
    cache.put("a", None)
    assert cache.get("a", "default") is None, "a stored None is a hit, not a miss"
    assert "a" in cache


def test_put_returns_none(new_cache):
    cache = new_cache(1)
    assert cache.put("a", 1) is None, "put returns None"


def test_keys_lists_keys_from_least_to_most_recent(new_cache):
    cache = new_cache(5)
    for key in ("c", "a", "b"):
        cache.put(key, key.upper())
    assert cache.keys() == ["c", "a", "b"], "keys() lists the least recent first"


def test_the_least_recently_put_key_is_evicted(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.keys() == ["b", "c"], "the third put must evict the oldest key, 'a'"
    assert cache.get("a") is None
    assert len(cache) == 2


def test_a_get_hit_makes_the_key_most_recent(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    assert cache.keys() == ["b", "a"], "a get hit makes its key the most recent"
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"], "so 'b', not 'a', is evicted next"


def test_updating_a_key_makes_it_most_recent_without_evicting(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    assert cache.keys() == ["b", "a"], "an update makes its key the most recent"
    assert (len(cache), cache.get("b"), cache.get("a")) == (2, 2, 10), "an update evicts nothing"


def test_a_miss_contains_len_and_keys_do_not_change_recency(new_cache):
    cache = new_cache(3)
    for key in ("a", "b", "c"):
        cache.put(key, 0)
    assert cache.get("z") is None
    assert "a" in cache and "z" not in cache
    assert len(cache) == 3
    cache.keys()
    assert cache.keys() == ["a", "b", "c"], "only put and a get hit change recency"
    cache.put("d", 0)
    assert "a" not in cache, "'a' is still the least recent, so it is evicted"


def test_contains_reports_cached_keys(new_cache):
    cache = new_cache(1)
    assert "a" not in cache
    cache.put("a", 1)
    cache.put("b", 2)
    assert ("a" in cache, "b" in cache) == (False, True), "in is True only for cached keys"


def test_keys_returns_a_new_list(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    keys = cache.keys()
    assert isinstance(keys, list), "keys() returns a list"
    keys.append("b")
    keys.remove("a")
    assert cache.keys() == ["a"], "changing the returned list must not change the cache"
    assert cache.keys() is not cache.keys(), "each call returns a new list"


def test_len_counts_entries_and_never_exceeds_capacity(new_cache):
    cache = new_cache(3)
    assert len(cache) == 0, "a new cache is empty"
    for i in range(10):
        cache.put(i, i)
        assert len(cache) == min(i + 1, 3)
    assert cache.keys() == [7, 8, 9]


def test_a_capacity_of_one_keeps_only_the_last_key(new_cache):
    cache = new_cache(1)
    cache.put("a", 1)
    cache.put("b", 2)
    assert (cache.keys(), cache.get("a"), cache.get("b")) == (["b"], None, 2)


def test_equal_keys_are_one_key_kept_as_first_inserted(new_cache):
    cache = new_cache(3)
    cache.put(1, "int")
    cache.put(1.0, "float")
    cache.put(True, "bool")
    assert len(cache) == 1, "1, 1.0 and True are one key, as in a dict"
    assert cache.get(1.0) == "bool", "the last put wins"
    assert 1 in cache and True in cache and 1.0 in cache
    (key,) = cache.keys()
    assert type(key) is int, "keys() holds the key object first inserted, as a dict does"


def test_unhashable_keys_raise_type_error_and_change_nothing(new_cache):
    cache = new_cache(2)
    cache.put("a", 1)
    for bad in ([1], {"k": 1}, {1}):
        with pytest.raises(TypeError):
            cache.put(bad, 1)
        with pytest.raises(TypeError):
            cache.get(bad)
        with pytest.raises(TypeError):
            bad in cache  # noqa: B015
    assert (cache.keys(), cache.get("a")) == (["a"], 1), "a rejected call changes nothing"


def test_values_may_be_any_object(new_cache):
    cache = new_cache(4)
    values = [[1, 2], {"k": None}, object(), (1, "x")]
    for i, value in enumerate(values):
        cache.put(i, value)
    assert all(cache.get(i) is value for i, value in enumerate(values)), "values are stored as is"


def test_capacity_is_a_read_only_property(new_cache):
    cache = new_cache(7)
    assert cache.capacity == 7
    with pytest.raises(AttributeError):
        cache.capacity = 8
    assert cache.capacity == 7


@pytest.mark.parametrize("bad", [True, False, 2.0, "2", None, [2]])
def test_a_capacity_that_is_not_an_int_raises_type_error(new_cache, bad):
    with pytest.raises(TypeError):
        new_cache(bad)


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_a_capacity_below_one_raises_value_error(new_cache, bad):
    with pytest.raises(ValueError):
        new_cache(bad)


def test_an_int_subclass_is_a_valid_capacity(new_cache):
    class Size(int):
        pass

    cache = new_cache(Size(2))
    for key in "abc":
        cache.put(key, 0)
    assert (cache.capacity, cache.keys()) == (2, ["b", "c"])


def test_two_caches_do_not_share_entries(new_cache):
    first, second = new_cache(2), new_cache(2)
    first.put("a", 1)
    assert ("a" in second, len(second), second.keys()) == (False, 0, [])
