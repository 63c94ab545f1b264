"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. Each rule makes one
call of the cache and checks what it returned; the invariants check keys(),
len, in and capacity after every step. The model is a list of [key, value]
pairs from least to most recent, searched by ``==`` as a dict would: keys come
from a six-key alphabet holding 0, 1, 1.0 and True, so equal keys of different
types collide, and capacities are 1 to 4, so evictions are frequent.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from dojo.testing import ModelMachine, run_machine, shrinks

ALL_KEYS = [0, 1, 1.0, True, "a", "b"]
KEYS = st.sampled_from(ALL_KEYS)
# A dict spelling a file-format marker: stage 4 must store it as a dict, not a tuple.
VALUES = st.sampled_from([None, 0, "x", (1, "y"), {"__tuple__": ["y"]}])
CAPACITIES = st.integers(1, 4)


def double(x):
    return (x, x)


def pair(x, y=0):
    return (x, y)


FUNCS = [double, pair]
ARGUMENTS = [0, 1, True, "a"]


class Model:
    """The spec, written as plainly as possible: [key, value] pairs, least recent first."""

    def __init__(self, capacity: int, entries: list[list] | None = None) -> None:
        self.capacity = capacity
        self.entries: list[list] = entries or []
        self.evicted: list[tuple] = []
        self.notify = True  # whether evictions reach an on_evict

    def find(self, key) -> int | None:
        return next((i for i, (k, _) in enumerate(self.entries) if k == key), None)

    def get(self, key, default):
        """The value of ``key``, made most recent; ``default`` for a miss."""
        i = self.find(key)
        if i is None:
            return default
        self.entries.append(self.entries.pop(i))
        return self.entries[-1][1]

    def put(self, key, value) -> None:
        i = self.find(key)
        if i is not None:
            entry = self.entries.pop(i)
            entry[1] = value
            self.entries.append(entry)
        else:
            self.entries.append([key, value])
        self.shrink()

    def delete(self, key) -> bool:
        i = self.find(key)
        if i is not None:
            del self.entries[i]
        return i is not None

    def shrink(self) -> None:
        while len(self.entries) > self.capacity:
            evicted = tuple(self.entries.pop(0))
            if self.notify:
                self.evicted.append(evicted)

    def typed_keys(self) -> list:
        return typed(k for k, _ in self.entries)


def typed(keys) -> list:
    """Keys with their types: 1 and 1.0 are equal keys but not the same key object."""
    return [(k, type(k).__name__) for k in keys]


class CacheMachine(ModelMachine):
    """Stage 1: put and get (hits and misses, with a default); keys, len and in after each step."""

    def __init__(self, impl) -> None:
        super().__init__()
        self.impl = impl

    @initialize(capacity=CAPACITIES)
    def create(self, capacity):
        self.model = Model(capacity)
        self.cache = self.new_cache(capacity)

    def new_cache(self, capacity):
        return self.impl.LRUCache(capacity)

    @rule(key=KEYS, value=VALUES)
    def put(self, key, value):
        result = self.cache.put(key, value)
        assert result is None, f"put({key!r}, {value!r}) returned {result!r}; expected None"
        self.model.put(key, value)

    @rule(key=KEYS)
    def get(self, key):
        expected = self.model.get(key, "missing")
        result = self.cache.get(key, "missing")
        assert result == expected, (
            f"get({key!r}, 'missing') returned {result!r}; expected {expected!r} "
            "(the value of the key, or the default on a miss)"
        )

    @precondition(lambda self: len(self.model.entries) > 1)
    @rule(data=st.data())
    def get_a_cached_key(self, data):
        key = data.draw(st.sampled_from([k for k, _ in self.model.entries]), label="key")
        expected = self.model.get(key, None)
        result = self.cache.get(key)
        assert result == expected, (
            f"get({key!r}) returned {result!r}; expected {expected!r} (a hit returns the value)"
        )

    @invariant()
    def agrees_with_the_model(self):
        # One invariant running the checks in a fixed order, the plainest first:
        # the first message a learner reads names the rule closest to the bug.
        for check in self.checks():
            check()

    def checks(self) -> list:
        return [
            self.len_counts_the_entries,
            self.keys_are_the_models_in_recency_order,
            self.in_finds_the_cached_keys,
            self.capacity_is_the_last_one_set,
            self.values_are_the_last_ones_put,
            self.the_internal_invariants_hold,
        ]

    def len_counts_the_entries(self):
        size, expected = len(self.cache), len(self.model.entries)
        assert size == expected, (
            f"len(cache) is {size}; expected {expected} (one per entry, never more than the "
            f"capacity {self.model.capacity}: a put beyond it evicts the least recent)"
        )

    def keys_are_the_models_in_recency_order(self):
        keys, expected = typed(self.cache.keys()), self.model.typed_keys()
        assert keys == expected, (
            f"keys() with their types is {keys}; expected {expected} (least recent first; "
            "put and a get hit make a key the most recent; the key object first inserted stays)"
        )

    def in_finds_the_cached_keys(self):
        found = [k for k in ALL_KEYS if k in self.cache]
        expected = [k for k in ALL_KEYS if self.model.find(k) is not None]
        assert found == expected, (
            f"`in` is True for {found}; expected {expected} (exactly the cached keys, "
            "by dict rules: 1, 1.0 and True are one key)"
        )

    def capacity_is_the_last_one_set(self):
        assert self.cache.capacity == self.model.capacity, (
            f"capacity is {self.cache.capacity}; expected {self.model.capacity}"
        )

    def values_are_the_last_ones_put(self):
        # Getting every key from least to most recent leaves the order as it was.
        values = [self.cache.get(k) for k, _ in self.model.entries]
        expected = [v for _, v in self.model.entries]
        assert values == expected, (
            f"the values, least recent first, are {values}; expected {expected} "
            "(each key holds the value last put, as it was put)"
        )

    def the_internal_invariants_hold(self):
        # The reference verifies its own links and map; a learner's cache may have no _check.
        check = getattr(self.cache, "_check", None)
        if check is not None:
            check()


class EvictingMachine(CacheMachine):
    """Stage 2: adds delete, resize and on_evict, whose calls are compared with the model's."""

    def new_cache(self, capacity):
        self.calls = []
        return self.impl.LRUCache(capacity, on_evict=lambda k, v: self.calls.append((k, v)))

    @rule(key=KEYS)
    def delete(self, key):
        expected = self.model.delete(key)
        result = self.cache.delete(key)
        assert result is expected, (
            f"delete({key!r}) returned {result!r}; expected {expected} (True if it was cached)"
        )

    @rule(capacity=CAPACITIES)
    def resize(self, capacity):
        result = self.cache.resize(capacity)
        assert result is None, f"resize({capacity}) returned {result!r}; expected None"
        self.model.capacity = capacity
        self.model.shrink()

    def checks(self) -> list:
        return [*super().checks(), self.on_evict_saw_every_eviction_in_order]

    def on_evict_saw_every_eviction_in_order(self):
        assert self.calls == self.model.evicted, (
            f"on_evict was called with {self.calls}; expected {self.model.evicted} (once per "
            "entry evicted by put or resize, least recent first, never for delete or an update)"
        )


class MemoMachine(EvictingMachine):
    """Stage 3: adds call of two functions, with hits and misses counted by the model."""

    hits = misses = 0

    def __init__(self, impl) -> None:
        super().__init__(impl)
        # generate_key is deterministic, so another cache names the keys the rule
        # will meet; each rule then makes a single call of the cache under test.
        keyer = impl.LRUCache(1)
        self.keys = {
            (func, x, by_name): keyer.generate_key(func, **{"x": x})
            if by_name
            else keyer.generate_key(func, x)
            for func in FUNCS
            for x in ARGUMENTS
            for by_name in (False, True)
        }

    @rule(func=st.sampled_from(FUNCS), x=st.sampled_from(ARGUMENTS), by_name=st.booleans())
    def call(self, func, x, by_name):
        key = self.keys[func, x, by_name]
        if self.model.find(key) is None:
            self.misses += 1
            expected = func(x)
            self.model.put(key, expected)
        else:
            self.hits += 1
            expected = self.model.get(key, None)
        shown = f"call({func.__name__}, x={x!r})" if by_name else f"call({func.__name__}, {x!r})"
        result = self.cache.call(func, x=x) if by_name else self.cache.call(func, x)
        assert result == expected, (
            f"{shown} returned {result!r}; expected {expected!r} (the cached or computed result)"
        )

    def checks(self) -> list:
        return [*super().checks(), self.hits_and_misses_count_the_calls]

    def hits_and_misses_count_the_calls(self):
        counts = (self.cache.hits, self.cache.misses)
        assert counts == (self.hits, self.misses), (
            f"(hits, misses) is {counts}; expected {(self.hits, self.misses)} "
            "(a call of a cached key is a hit, any other a miss; nothing else counts)"
        )


class DurableMachine(MemoMachine):
    """Stage 4: adds save, and load that replaces the cache; a persistent twin (puts and
    deletes) is reopened now and then."""

    saved: tuple[int, list[list]] | None = None  # the model at the last save

    @initialize()
    def open_twin(self):
        self.folder = Path(tempfile.mkdtemp(prefix="lru-model-"))
        self.twin_model = Model(3)
        self.twin = self.impl.LRUCache(3, persistence_path=self.folder / "state")

    @rule()
    def save(self):
        result = self.cache.save(self.folder / "cache.json")
        assert result is None, f"save('cache.json') returned {result!r}; expected None"
        self.saved = (self.model.capacity, copy.deepcopy(self.model.entries))

    @precondition(lambda self: self.saved is not None)
    @rule()
    def load(self):
        self.cache = self.impl.LRUCache.load(self.folder / "cache.json")
        capacity, entries = self.saved
        self.model = Model(capacity, copy.deepcopy(entries))
        self.model.notify = False  # a loaded cache has no on_evict
        self.calls, self.model.evicted = [], []
        self.hits = self.misses = 0

    @rule(key=KEYS, value=VALUES)
    def put_twin(self, key, value):
        result = self.twin.put(key, value)
        assert result is None, f"put({key!r}, {value!r}) returned {result!r}; expected None"
        self.twin_model.put(key, value)

    @rule(key=KEYS)
    def delete_twin(self, key):
        expected = self.twin_model.delete(key)
        result = self.twin.delete(key)
        assert result is expected, f"delete({key!r}) returned {result!r}; expected {expected}"

    @rule()
    def reopen_twin(self):
        self.twin = self.impl.LRUCache(3, persistence_path=self.folder / "state")

    def checks(self) -> list:
        return [*super().checks(), self.the_twin_holds_every_write_in_order]

    def the_twin_holds_every_write_in_order(self):
        keys, expected = typed(self.twin.keys()), self.twin_model.typed_keys()
        assert keys == expected, (
            f"the persistent cache's keys() is {keys}; expected {expected} "
            "(a reopened cache recovers every put and delete, in recency order)"
        )
        # Getting every key from least to most recent leaves the order as it was.
        values = [self.twin.get(k) for k, _ in self.twin_model.entries]
        expected_values = [v for _, v in self.twin_model.entries]
        assert values == expected_values, (
            f"the persistent cache's values, least recent first, are {values}; "
            f"expected {expected_values} (values come back as they were put)"
        )

    def teardown(self):
        # Hypothesis tears down a machine whose first rule failed, before open_twin ran.
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)


@shrinks
@pytest.mark.stage(1)
def test_random_puts_and_gets_agree_with_the_model(impl):
    run_machine(lambda: CacheMachine(impl), examples=15, steps=20)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_deletes_resizes_and_evictions_agree_with_the_model(impl):
    run_machine(lambda: EvictingMachine(impl), examples=50, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_memoized_calls_agree_with_the_model(impl):
    run_machine(lambda: MemoMachine(impl), examples=50, steps=30)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_saves_loads_and_reopens_agree_with_the_model(impl):
    run_machine(lambda: DurableMachine(impl), examples=30, steps=25)
