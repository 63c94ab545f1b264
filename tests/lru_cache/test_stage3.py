"""Stage 3: memoize with call, from many threads (spec: stages/lru_cache/stage3.md)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.stage(3)

JOIN_TIMEOUT = 5.0  # seconds; a thread still alive after it has deadlocked or looped


def square(x):
    return x * x


def add(x, y=0):
    return x + y


def run_in_thread(target):
    """Run ``target`` in a daemon thread; return its result, failing if it hangs."""
    outcome = {}

    def body():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # reported to the test below, in its thread
            outcome["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), f"still running after {JOIN_TIMEOUT} s: a deadlock?"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def test_call_computes_on_a_miss_and_returns_the_cached_result_on_a_hit(new_cache):
    runs = []

    def double(x):
        runs.append(x)
        return 2 * x

    cache = new_cache(10)
    assert (cache.call(double, 4), cache.misses, cache.hits) == (8, 1, 0), "a miss computes"
    assert (cache.call(double, 4), cache.misses, cache.hits) == (8, 1, 1), "a hit is cached"
    assert runs == [4], "func runs only on a miss"


def test_hits_and_misses_start_at_zero_and_are_read_only(new_cache):
    cache = new_cache(2)
    assert (cache.hits, cache.misses) == (0, 0)
    cache.call(square, 3)
    with pytest.raises(AttributeError):
        cache.hits = 5
    with pytest.raises(AttributeError):
        cache.misses = 5
    assert (cache.hits, cache.misses) == (0, 1)


def test_call_caches_under_generate_key(new_cache):
    cache = new_cache(4)
    assert cache.call(add, 2, y=3) == 5
    key = cache.generate_key(add, 2, y=3)
    assert isinstance(key, tuple), "generate_key returns a tuple"
    assert cache.keys() == [key], "call caches the result under generate_key(func, *args, **kwargs)"
    assert (key in cache, cache.get(key)) == (True, 5)


def test_get_put_and_the_rest_do_not_touch_hits_or_misses(new_cache):
    cache = new_cache(3)
    cache.call(square, 2)
    key = cache.generate_key(square, 2)
    cache.get(key)
    cache.get("missing")
    cache.put("a", 1)
    key in cache  # noqa: B015
    cache.delete("a")
    assert (cache.hits, cache.misses) == (0, 1), "only call counts hits and misses"


def test_a_hit_makes_the_entry_most_recent_like_get(new_cache):
    cache = new_cache(2)
    cache.call(square, 1)
    cache.call(square, 2)
    cache.call(square, 1)
    cache.call(square, 3)
    assert cache.keys() == [cache.generate_key(square, 1), cache.generate_key(square, 3)], (
        "the hit on square(1) made it most recent, so square(2) was evicted"
    )


def test_a_miss_stores_like_put_and_calls_on_evict(new_cache):
    evicted = []
    cache = new_cache(1, on_evict=lambda key, value: evicted.append((key, value)))
    cache.put("a", 1)
    assert cache.call(square, 5) == 25
    assert evicted == [("a", 1)], "a miss that overfills the cache evicts, calling on_evict"


def test_a_none_result_is_cached(new_cache):
    runs = []

    def nothing():
        runs.append(1)

    cache = new_cache(2)
    assert cache.call(nothing) is None
    assert cache.call(nothing) is None
    assert (runs, cache.hits, cache.misses) == ([1], 1, 1), "None results are cached too"


def test_an_exception_is_not_cached_counts_as_a_miss_and_propagates(new_cache):
    runs = []

    def fails(x):
        runs.append(x)
        raise KeyError(x)

    cache = new_cache(2)
    for _ in range(2):
        with pytest.raises(KeyError):
            cache.call(fails, 1)
    assert (runs, cache.misses, cache.hits, len(cache)) == ([1, 1], 2, 0, 0)


def test_unhashable_arguments_raise_type_error_without_running_func(new_cache):
    runs = []
    cache = new_cache(2)
    cache.call(square, 1)
    with pytest.raises(TypeError):
        cache.call(lambda x: runs.append(x), [1])
    assert (runs, cache.hits, cache.misses, len(cache)) == ([], 0, 1, 1), (
        "the call counts neither as a hit nor as a miss"
    )


def test_keyword_order_never_matters(new_cache):
    cache = new_cache(2)
    assert cache.generate_key(add, x=1, y=2) == cache.generate_key(add, y=2, x=1)
    cache.call(add, x=1, y=2)
    cache.call(add, y=2, x=1)
    assert (cache.hits, cache.misses) == (1, 1)


def test_a_positional_and_a_keyword_argument_are_different_keys(new_cache):
    cache = new_cache(4)
    assert cache.generate_key(square, 3) != cache.generate_key(square, x=3)
    assert cache.call(square, 3) == cache.call(square, x=3) == 9
    assert (cache.hits, cache.misses, len(cache)) == (0, 2, 2)


def test_the_key_names_module_qualified_name_and_first_line(new_cache):
    cache = new_cache(4)
    first = lambda x: x  # noqa: E731
    second = lambda x: x  # noqa: E731
    same_line = [lambda x: x, lambda x: -x]
    assert cache.generate_key(first, 1) != cache.generate_key(second, 1), (
        "two lambdas on different lines are different functions"
    )
    assert cache.generate_key(same_line[0], 1) == cache.generate_key(same_line[1], 1), (
        "the function is named by module, qualified name and first line only"
    )
    assert cache.generate_key(square, 1) == cache.generate_key(square, 1)
    assert cache.generate_key(square, 1) != cache.generate_key(add, 1)
    assert cache.generate_key(square, 1) != cache.generate_key(square, 2)
    assert cache.call(first, 1) == 1 and cache.call(second, 1) == 1 and cache.misses == 2


def test_generate_key_is_hashable_and_works_for_builtins(new_cache):
    cache = new_cache(4)
    key = cache.generate_key(max, 1, 2, default=0)
    assert hash(key) == hash(cache.generate_key(max, 1, 2, default=0))
    assert cache.call(max, 1, 2) == 2 and cache.call(max, 1, 2) == 2
    assert (cache.hits, cache.misses) == (1, 1)


KEY_IN_A_CHILD = """
import importlib.util, os.path, sys
folder = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "lru_under_test", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(repr(module.LRUCache(1).generate_key(os.path.join, "a", ("b", 1.5), sep="/", n=None)))
"""


def test_generate_key_is_equal_in_another_process(new_cache, package_folder):
    cache = new_cache(1)
    key = cache.generate_key(os.path.join, "a", ("b", 1.5), n=None, sep="/")
    cache.put(key, "joined")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", KEY_IN_A_CHILD, str(package_folder())],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == repr(key), "equal inputs give equal keys in another process"
    assert cache.get(key) == "joined"


def test_a_memoized_recursive_function_may_call_the_cache(new_cache):
    cache = new_cache(200)

    def fib(n):
        return n if n < 2 else cache.call(fib, n - 1) + cache.call(fib, n - 2)

    assert run_in_thread(lambda: cache.call(fib, 80)) == 23416728348467685
    assert cache.misses == 81, "each fib(n) is computed once"


def test_func_runs_without_the_lock_so_two_threads_may_compute_one_key(new_cache):
    cache = new_cache(4)
    both_inside = threading.Barrier(2, timeout=JOIN_TIMEOUT)
    results = iter(["first", "second"])
    lock = threading.Lock()

    def slow():
        both_inside.wait()  # breaks (BrokenBarrierError) if the lock is held while func runs
        with lock:
            return next(results)

    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(cache.call(slow)), daemon=True)
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: a deadlock?"
    assert sorted(outcomes) == ["first", "second"], "both threads missed and computed"
    assert (cache.misses, cache.hits) == (2, 0)
    assert cache.get(cache.generate_key(slow)) in ("first", "second")


def test_on_evict_runs_without_the_lock(new_cache):
    seen = []
    holder = {}

    def on_evict(key, value):
        seen.append(run_in_thread(lambda: holder["cache"].keys()))

    cache = holder["cache"] = new_cache(1, on_evict=on_evict)
    cache.put("a", 1)
    run_in_thread(lambda: cache.put("b", 2))
    assert seen == [["b"]], "another thread can use the cache while on_evict runs"


THREADS, OPERATIONS, CAPACITY = 8, 1500, 16


def tagged(key):
    return ("value of", key)


def test_eight_threads_of_mixed_operations_keep_every_rule(new_cache):
    cache = new_cache(CAPACITY)
    problems, calls = [], [0] * THREADS

    def compute(key):
        return tagged(("call", key))

    def worker(number):
        rng = random.Random(number)
        for _ in range(OPERATIONS):
            key, op = rng.randrange(3 * CAPACITY), rng.randrange(6)
            if op == 0:
                cache.put(key, tagged(key))
            elif op == 1:
                value = cache.get(key)
                if value not in (None, tagged(key)):
                    problems.append(f"get({key}) returned {value!r}")
            elif op == 2:
                cache.delete(key)
            elif op == 3:
                calls[number] += 1
                if cache.call(compute, key) != tagged(("call", key)):
                    problems.append(f"call(compute, {key}) returned a wrong value")
            elif op == 4:
                keys = cache.keys()
                if len(keys) != len(set(keys)) or len(keys) > CAPACITY:
                    problems.append(f"keys() returned {keys}")
            elif len(cache) > CAPACITY:
                problems.append(f"len {len(cache)} exceeds the capacity")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so races show
    try:
        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: a deadlock?"
    assert not problems, problems[:5]
    assert cache.hits + cache.misses == sum(calls), "every call is one hit or one miss"
    assert len(cache) <= CAPACITY and len(set(cache.keys())) == len(cache)
