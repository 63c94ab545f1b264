"""Stage 3: memoize with call, from many threads (spec: stages/lru_cache/stage3.md)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

import pytest

from dojo.testing import check_raises, check_returns, example_tables, replay

pytestmark = pytest.mark.stage(3)

JOIN_TIMEOUT = 5.0  # seconds; a thread still alive after it has deadlocked or looped


def square(x):
    return x * x


def add(x, y=0):
    return x + y


def run_in_thread(target, call: str, rule: str):
    """Run ``target`` (which makes ``call``) in a daemon thread; return its result,
    failing with ``rule`` if it is still running after JOIN_TIMEOUT seconds."""
    outcome = {}

    def body():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # reported to the test below, in its thread
            outcome["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), (
        f"{call} is still running after {JOIN_TIMEOUT} s: a deadlock? ({rule})"
    )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.mark.parametrize("table", example_tables("lru_cache", 3), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table):
    # In a thread: a cache that holds its lock while fib runs deadlocks on the
    # table's recursive fib, and must fail in seconds, not hang.
    run_in_thread(
        lambda: replay(table, {"LRUCache": impl.LRUCache}),
        f"the table of {table.spec}",
        "func runs without the cache's lock held, so a memoized fib may call the cache",
    )


def counters(cache) -> tuple[int, int]:
    return cache.hits, cache.misses


def test_call_computes_on_a_miss_and_returns_the_cached_result_on_a_hit(new_cache):
    runs = []

    def double(x):
        runs.append(x)
        return 2 * x

    cache = new_cache(10)
    check_returns(8, "a miss runs func and returns its result", cache.call, double, 4)
    assert counters(cache) == (0, 1), f"(hits, misses) {counters(cache)}; expected (0, 1) (a miss)"
    check_returns(8, "a hit returns the cached result", cache.call, double, 4)
    assert counters(cache) == (1, 1), f"(hits, misses) {counters(cache)}; expected (1, 1) (a hit)"
    assert runs == [4], f"double ran for {runs}; expected [4] (func runs only on a miss)"


def test_hits_and_misses_start_at_zero_and_are_read_only(new_cache):
    cache = new_cache(2)
    assert counters(cache) == (0, 0), f"a new cache has (hits, misses) {counters(cache)}"
    cache.call(square, 3)
    for name in ("hits", "misses"):
        with pytest.raises(AttributeError):
            setattr(cache, name, 5)
            pytest.fail(f"cache.{name} = 5 was accepted; expected AttributeError (read-only)")
    assert counters(cache) == (0, 1), f"(hits, misses) {counters(cache)}; expected (0, 1)"


def test_call_caches_under_generate_key(new_cache):
    cache = new_cache(4)
    check_returns(5, "call returns func's result", cache.call, add, 2, y=3)
    key = cache.generate_key(add, 2, y=3)
    assert isinstance(key, tuple), f"generate_key(add, 2, y=3) returned {key!r}; expected a tuple"
    rule = "call caches the result under generate_key(func, *args, **kwargs)"
    check_returns([key], rule, cache.keys)
    check_returns(5, rule, cache.get, key)


def test_get_put_and_the_rest_do_not_touch_hits_or_misses(new_cache):
    cache = new_cache(3)
    cache.call(square, 2)
    key = cache.generate_key(square, 2)
    cache.get(key)
    cache.get("missing")
    cache.put("a", 1)
    _ = key in cache
    cache.delete("a")
    assert counters(cache) == (0, 1), (
        f"after call, get hit, get miss, put, in, delete: (hits, misses) {counters(cache)}; "
        "expected (0, 1) (only call counts hits and misses)"
    )


def test_a_hit_makes_the_entry_most_recent_like_get(new_cache):
    cache = new_cache(2)
    for x in (1, 2, 1, 3):
        cache.call(square, x)
    check_returns(
        [cache.generate_key(square, 1), cache.generate_key(square, 3)],
        "at capacity 2, call square 1, 2, 1, 3: the hit on square(1) made it most recent, "
        "so square(2) was evicted",
        cache.keys,
    )


def test_a_miss_stores_like_put_and_calls_on_evict(new_cache):
    evicted = []
    cache = new_cache(1, on_evict=lambda key, value: evicted.append((key, value)))
    cache.put("a", 1)
    check_returns(25, "a miss returns func's result", cache.call, square, 5)
    assert evicted == [("a", 1)], (
        f"at capacity 1, put('a', 1), call(square, 5): on_evict got {evicted}; expected "
        "[('a', 1)] (a miss stores like put, evicting)"
    )


def test_a_none_result_is_cached(new_cache):
    runs = []

    def nothing():
        runs.append(1)

    cache = new_cache(2)
    check_returns(None, "a miss returns func's result, None", cache.call, nothing)
    check_returns(None, "a hit returns the cached None", cache.call, nothing)
    assert runs == [1], f"nothing ran {len(runs)} times; expected once (None results are cached)"
    assert counters(cache) == (1, 1), f"(hits, misses) {counters(cache)}; expected (1, 1)"


def test_an_exception_is_not_cached_counts_as_a_miss_and_propagates(new_cache):
    runs = []

    def fails(x):
        runs.append(x)
        raise KeyError(x)

    cache = new_cache(2)
    for _ in range(2):
        check_raises(KeyError, "an exception from func propagates", cache.call, fails, 1)
    assert runs == [1, 1], f"fails ran for {runs}; expected [1, 1] (an exception is not cached)"
    assert counters(cache) == (0, 2), (
        f"(hits, misses) {counters(cache)}; expected (0, 2) (a call that raised is a miss)"
    )
    check_returns(0, "nothing is cached when func raises", cache.__len__)


def test_unhashable_arguments_raise_type_error_without_running_func(new_cache):
    runs = []

    def record(x):
        runs.append(x)

    cache = new_cache(2)
    cache.call(square, 1)
    check_raises(TypeError, "an unhashable argument raises TypeError", cache.call, record, [1])
    assert runs == [], f"record ran for {runs}; expected no run (TypeError comes before func)"
    assert counters(cache) == (0, 1), (
        f"(hits, misses) {counters(cache)}; expected (0, 1) (neither a hit nor a miss)"
    )
    check_returns(1, "nothing is cached", cache.__len__)


def test_keyword_order_never_matters(new_cache):
    cache = new_cache(2)
    check_returns(
        cache.generate_key(add, x=1, y=2),
        "the key of generate_key(add, x=1, y=2): keyword order never matters",
        cache.generate_key,
        add,
        y=2,
        x=1,
    )
    cache.call(add, x=1, y=2)
    cache.call(add, y=2, x=1)
    assert counters(cache) == (1, 1), (
        f"call(add, x=1, y=2) then call(add, y=2, x=1): (hits, misses) {counters(cache)}; "
        "expected (1, 1)"
    )


def test_a_positional_and_a_keyword_argument_are_different_keys(new_cache):
    cache = new_cache(4)
    assert cache.generate_key(square, 3) != cache.generate_key(square, x=3), (
        "generate_key(square, 3) == generate_key(square, x=3); expected different keys "
        "(a positional and a keyword argument differ)"
    )
    check_returns(9, "a miss", cache.call, square, 3)
    check_returns(9, "another key, so another miss", cache.call, square, x=3)
    assert counters(cache) == (0, 2), f"(hits, misses) {counters(cache)}; expected (0, 2)"
    check_returns(2, "two keys", cache.__len__)


def test_the_key_names_module_qualified_name_and_first_line(new_cache):
    cache = new_cache(4)
    first = lambda x: x  # noqa: E731
    second = lambda x: x  # noqa: E731
    same_line = [lambda x: x, lambda x: -x]
    assert cache.generate_key(first, 1) != cache.generate_key(second, 1), (
        "generate_key gave two lambdas on different lines the same key; expected different "
        "keys (the first line number names the function)"
    )
    assert cache.generate_key(same_line[0], 1) == cache.generate_key(same_line[1], 1), (
        "generate_key gave two lambdas of one line different keys; expected one key "
        "(the function is named by module, qualified name and first line only)"
    )
    check_returns(
        cache.generate_key(square, 1), "equal inputs, equal keys", cache.generate_key, square, 1
    )
    assert cache.generate_key(square, 1) != cache.generate_key(add, 1), (
        "generate_key(square, 1) == generate_key(add, 1); expected different keys"
    )
    assert cache.generate_key(square, 1) != cache.generate_key(square, 2), (
        "generate_key(square, 1) == generate_key(square, 2); expected different keys"
    )
    cache.call(first, 1)
    cache.call(second, 1)
    assert cache.misses == 2, f"misses is {cache.misses}; expected 2 (two functions, two misses)"


def test_generate_key_is_hashable_and_works_for_builtins(new_cache):
    cache = new_cache(4)
    key = cache.generate_key(max, 1, 2, default=0)
    assert hash(key) == hash(cache.generate_key(max, 1, 2, default=0)), (
        "generate_key(max, 1, 2, default=0) gave keys of different hashes"
    )
    check_returns(2, "a miss on a builtin", cache.call, max, 1, 2)
    check_returns(2, "a hit on a builtin", cache.call, max, 1, 2)
    assert counters(cache) == (1, 1), f"(hits, misses) {counters(cache)}; expected (1, 1)"


class Doubler:
    """A callable object: it has a __module__ but no __qualname__ and no __code__."""

    def __call__(self, x):
        return 2 * x


def test_generate_key_works_for_a_callable_object(new_cache):
    cache = new_cache(4)
    doubler = Doubler()
    key = cache.generate_key(doubler, 3)
    assert isinstance(key, tuple), (
        f"generate_key(<Doubler>, 3) returned {key!r}; expected a tuple "
        "(generate_key works for any callable: what it lacks is None)"
    )
    check_returns(6, "call works for a callable object", cache.call, doubler, 3)
    check_returns(6, "and caches its result", cache.call, doubler, 3)
    assert counters(cache) == (1, 1), f"(hits, misses) {counters(cache)}; expected (1, 1)"


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
    assert child.returncode == 0, f"the child process failed: {child.stderr[-2000:]}"
    assert child.stdout.strip() == repr(key), (
        f"generate_key(os.path.join, 'a', ('b', 1.5), n=None, sep='/') is {key!r} here but "
        f"{child.stdout.strip()} in another process (keys are deterministic: no id(), no hash())"
    )
    check_returns("joined", "the key is an ordinary key", cache.get, key)


def test_a_memoized_recursive_function_may_call_the_cache(new_cache):
    cache = new_cache(200)

    def fib(n):
        return n if n < 2 else cache.call(fib, n - 1) + cache.call(fib, n - 2)

    result = run_in_thread(
        lambda: cache.call(fib, 80),
        "call(fib, 80)",
        "func runs without the cache's lock held, so a memoized function may call the cache",
    )
    assert result == 23416728348467685, (
        f"call(fib, 80) returned {result!r}; expected 23416728348467685 "
        "(a memoized recursive function may call the cache)"
    )
    assert cache.misses == 81, f"misses is {cache.misses}; expected 81 (each fib(n) computed once)"


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
    assert not any(t.is_alive() for t in threads), (
        "a thread calling call(slow) is stuck: is the lock held while func runs?"
    )
    assert sorted(outcomes) == ["first", "second"], (
        f"two threads calling call(slow) at once got {outcomes}; expected 'first' and 'second' "
        "(func runs without the lock, so both miss and compute)"
    )
    assert counters(cache) == (0, 2), f"(hits, misses) {counters(cache)}; expected (0, 2)"
    value = cache.get(cache.generate_key(slow))
    assert value in ("first", "second"), f"the cached result is {value!r}; expected one computed"


def test_on_evict_runs_without_the_lock(new_cache):
    seen = []
    holder = {}

    def on_evict(key, value):
        seen.append(
            run_in_thread(
                holder["cache"].keys,
                "keys() from another thread inside on_evict",
                "on_evict runs without the cache's lock held",
            )
        )

    cache = holder["cache"] = new_cache(1, on_evict=on_evict)
    cache.put("a", 1)
    run_in_thread(
        lambda: cache.put("b", 2),
        "put('b', 2), whose eviction calls on_evict,",
        "on_evict runs without the cache's lock held",
    )
    assert seen == [["b"]], (
        f"keys() from another thread inside on_evict returned {seen}; expected [['b']] "
        "(on_evict runs without the lock held)"
    )


THREADS, OPERATIONS, CAPACITY = 8, 1000, 16


class Key:
    """An int key whose hash and equality hand the GIL to another thread.

    A cache hashes its key at every lookup, so each operation is interrupted
    in its middle, at the moment a cache without a lock is most fragile: this
    shakes the timings so that races show in every run, not one run in two.
    """

    def __init__(self, number: int) -> None:
        self.number = number

    def __hash__(self) -> int:
        time.sleep(0)
        return hash(self.number)

    def __eq__(self, other: object) -> bool:
        time.sleep(0)
        return isinstance(other, Key) and other.number == self.number

    def __repr__(self) -> str:
        return f"Key({self.number})"


def tagged(key):
    return ("value of", key.number)


def compute(key):
    return tagged(key)


def run_threads(worker, count: int) -> None:
    """Run ``worker(number)`` in ``count`` daemon threads, switching threads often."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {JOIN_TIMEOUT} s"


def consistency_problems(cache, capacity: int) -> list[str]:
    """What a quiet cache shows wrong: keys(), len and in disagreeing, or too many entries."""
    keys = cache.keys()
    problems = []
    if len(keys) != len(set(keys)):
        problems.append(f"keys() holds a key twice: {keys}")
    if len(keys) != len(cache):
        problems.append(f"keys() holds {len(keys)} keys but len(cache) is {len(cache)}")
    if len(cache) > capacity:
        problems.append(f"len(cache) is {len(cache)}, over the capacity {capacity}")
    problems += [f"{key!r} is in keys() but not in the cache" for key in keys if key not in cache]
    return problems


def test_eight_threads_of_mixed_operations_keep_every_rule(new_cache):
    cache = new_cache(CAPACITY)
    problems, calls = [], [0] * THREADS
    keys = [Key(n) for n in range(3 * CAPACITY)]

    def worker(number):
        rng = random.Random(number)
        for _ in range(OPERATIONS):
            key, op = rng.choice(keys), rng.randrange(6)
            if op == 0:
                cache.put(key, tagged(key))
            elif op == 1:
                value = cache.get(key)
                if value not in (None, tagged(key)):
                    problems.append(f"get({key}) returned {value!r}; expected {tagged(key)}")
            elif op == 2:
                cache.delete(key)
            elif op == 3:
                calls[number] += 1
                value = cache.call(compute, key)
                if value != tagged(key):
                    problems.append(f"call(compute, {key}) returned {value!r}")
            elif op == 4:
                listed = cache.keys()
                if len(listed) != len(set(listed)) or len(listed) > CAPACITY:
                    problems.append(f"keys() returned {listed}")
            elif len(cache) > CAPACITY:
                problems.append(f"len(cache) is {len(cache)}, over the capacity {CAPACITY}")

    run_threads(worker, THREADS)
    rule = "every rule holds under threads as if the calls ran one after another"
    assert not problems, f"{len(problems)} problems, first: {problems[:3]} ({rule})"
    assert cache.hits + cache.misses == sum(calls), (
        f"hits + misses is {cache.hits + cache.misses} after {sum(calls)} calls: a lost update "
        "(every call is one hit or one miss)"
    )
    problems = consistency_problems(cache, CAPACITY)
    assert not problems, f"after the threads: {problems[:3]} ({rule})"
