"""Stage 2: from scratch, delete, resize, on_evict, O(1) (spec: stages/lru_cache/stage2.md)."""

from __future__ import annotations

import ast
import random

import pytest

pytestmark = pytest.mark.stage(2)

FORBIDDEN_IMPORTS = {"collections": {"OrderedDict"}, "functools": {"lru_cache", "cache"}}


def recorder():
    """An on_evict callback and the list of (key, value) pairs it was called with."""
    calls = []
    return calls, lambda key, value: calls.append((key, value))


def is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def forbidden_uses(folder) -> list[str]:
    """Where the package's source uses OrderedDict, functools.lru_cache or functools.cache."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom):
                banned = FORBIDDEN_IMPORTS.get(node.module or "", set()) | {"OrderedDict"}
                found += [f"{where} imports {a.name}" for a in node.names if a.name in banned]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if "OrderedDict" in a.name]
                found += [f"{where} imports {name}" for name in names]
            elif isinstance(node, ast.Name) and node.id == "OrderedDict":
                found.append(f"{where} uses OrderedDict")
            elif isinstance(node, ast.Attribute):
                if node.attr == "OrderedDict":
                    found.append(f"{where} uses .OrderedDict")
                elif node.attr in {"lru_cache", "cache"} and is_name(node.value, "functools"):
                    found.append(f"{where} uses functools.{node.attr}")
    return found


def test_the_package_builds_its_own_list_and_still_evicts_the_least_recent(
    new_cache, package_folder
):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"], "a get hit protects 'a'; 'b' is evicted"
    assert cache.delete("a") is True
    uses = forbidden_uses(package_folder())
    assert not uses, f"this round forbids OrderedDict and functools caches: {uses}"


def test_delete_returns_true_and_removes_the_key(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.delete("a") is True, "delete of a cached key returns True"
    assert ("a" in cache, cache.get("a"), cache.keys(), len(cache)) == (False, None, ["b"], 1)


def test_delete_returns_false_for_a_missing_key_and_changes_nothing(new_cache):
    cache = new_cache(3)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.delete("z") is False, "delete of a missing key returns False"
    cache.delete("a")
    assert cache.delete("a") is False, "delete of a deleted key returns False"
    assert cache.keys() == ["b"]


def test_delete_frees_a_place_so_the_next_put_evicts_nothing(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.delete("a")
    cache.put("c", 3)
    assert (cache.keys(), calls) == (["b", "c"], []), "a delete frees a place"


def test_a_deleted_key_can_be_put_again_as_the_most_recent(new_cache):
    cache = new_cache(3)
    for key in "abc":
        cache.put(key, key)
    cache.delete("a")
    cache.put("a", "again")
    assert (cache.keys(), cache.get("a")) == (["b", "c", "a"], "again")


def test_delete_follows_dict_rules_for_keys(new_cache):
    cache = new_cache(2)
    cache.put(1, "one")
    assert cache.delete(1.0) is True, "1.0 and 1 are one key"
    assert len(cache) == 0
    with pytest.raises(TypeError):
        cache.delete([1])


def test_delete_never_calls_on_evict(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.delete("a")
    assert calls == [], "a delete is not an eviction"
    assert len(cache) == 0


def test_on_evict_gets_the_least_recent_key_and_its_value(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    cache.put("d", 4)
    assert calls == [("b", 2), ("a", 1)], "one call per eviction, least recent first"


def test_on_evict_gets_the_key_object_as_stored(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(1, on_evict=on_evict)
    cache.put(1, "a")
    cache.put(True, "b")
    cache.put("x", "c")
    assert calls == [(1, "b")] and type(calls[0][0]) is int, "the stored key object and value"


def test_on_evict_is_not_called_when_put_replaces_a_value(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(1, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("a", 2)
    assert (calls, cache.get("a")) == ([], 2), "an overwrite is not an eviction"


def test_on_evict_runs_after_the_entry_is_removed(new_cache):
    seen = []
    holder = {}

    def on_evict(key, value):
        cache = holder["cache"]
        seen.append((key in cache, len(cache), cache.keys()))

    cache = holder["cache"] = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert seen == [(False, 2, ["b", "c"])], "the callback sees the cache without the evicted key"


def test_on_evict_may_use_the_cache(new_cache):
    holder = {}
    cache = holder["cache"] = new_cache(2, on_evict=lambda k, v: holder["cache"].get("b"))
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.keys() == ["c", "b"], "a get from inside the callback works and counts"


def test_an_exception_from_on_evict_propagates_from_put_with_the_cache_consistent(new_cache):
    def on_evict(key, value):
        raise LookupError(f"no room for {key}")

    cache = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    with pytest.raises(LookupError):
        cache.put("c", 3)
    assert (cache.keys(), len(cache), cache.get("c")) == (["b", "c"], 2, 3), (
        "the put is done and the evicted entry gone before the callback runs"
    )


def test_resize_smaller_evicts_the_least_recent_first(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(4, on_evict=on_evict)
    for key in "abcd":
        cache.put(key, key.upper())
    cache.get("a")
    assert cache.resize(2) is None, "resize returns None"
    assert calls == [("b", "B"), ("c", "C")], "resize evicts least recent first, calling on_evict"
    assert (cache.keys(), cache.capacity, len(cache)) == (["d", "a"], 2, 2)
    cache.put("e", "E")
    assert cache.keys() == ["a", "e"], "the new capacity holds for later puts"


def test_resize_larger_evicts_nothing_and_makes_room(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(2, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.resize(3)
    cache.put("c", 3)
    assert (cache.capacity, cache.keys(), calls) == (3, ["a", "b", "c"], [])


def test_an_exception_from_on_evict_propagates_from_resize_with_the_cache_consistent(new_cache):
    calls = []

    def on_evict(key, value):
        calls.append(key)
        raise LookupError(key)

    cache = new_cache(4, on_evict=on_evict)
    for key in "abcd":
        cache.put(key, 0)
    with pytest.raises(LookupError):
        cache.resize(1)
    assert calls == ["a"], "callbacks after the one that raised are not called"
    assert (cache.keys(), cache.capacity) == (["d"], 1), "every eviction is done all the same"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-3, ValueError),
        (True, TypeError),
        (2.0, TypeError),
        ("2", TypeError),
        (None, TypeError),
    ],
)
def test_resize_validates_like_the_constructor_and_changes_nothing(new_cache, bad, error):
    cache = new_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    with pytest.raises(error):
        cache.resize(bad)
    assert (cache.capacity, cache.keys()) == (2, ["a", "b"]), "a rejected resize changes nothing"


def test_on_evict_is_keyword_only(new_cache):
    calls, on_evict = recorder()
    cache = new_cache(1, on_evict=on_evict)
    cache.put("a", 1)
    cache.put("b", 2)
    assert calls == [("a", 1)]
    with pytest.raises(TypeError):
        new_cache(1, on_evict)


def full_cache_workload(capacity: int, count: int, seed: int = 2):
    rng = random.Random(seed)
    return [(rng.randrange(5), rng.randrange(2 * capacity)) for _ in range(count)]


def test_300k_mixed_operations_at_capacity_100k_take_constant_time_each(new_cache):
    # 100k puts fill the cache, then 200k mixed operations run at capacity.
    # Measured (2-CPU machine, shared): the reference ~0.6 s for the whole test;
    # a recency list scanned per operation (list.remove / pop(0)) takes 23 us/op
    # at capacity 5k, 50 us at 10k, 104 us at 20k: ~150 s here at capacity 100k.
    capacity = 100_000
    calls, on_evict = recorder()
    cache = new_cache(capacity, on_evict=on_evict)
    for key in range(capacity):
        cache.put(key, key)
    for op, key in full_cache_workload(capacity, 200_000):
        if op <= 1:
            cache.put(key, key)
        elif op == 2:
            assert cache.get(key, key) == key
        elif op == 3:
            cache.delete(key)
        else:
            key in cache  # noqa: B015
    assert len(cache) <= capacity and len(calls) > 0
    assert len(cache.keys()) == len(cache)
