"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. The model is a list
of [key, value] pairs from least to most recent, searched by ``==`` as a dict
would: keys come from a six-key alphabet holding 0, 1, 1.0 and True, so equal
keys of different types collide, and capacities are 1 to 4, so evictions are
frequent.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

ALL_KEYS = [0, 1, 1.0, True, "a", "b"]
KEYS = st.sampled_from(ALL_KEYS)
VALUES = st.sampled_from([None, 0, "x", (1, "y")])
CAPACITIES = st.integers(1, 4)


def double(x):
    return (x, x)


def pair(x, y=0):
    return (x, y)


class Model:
    """The spec, written as plainly as possible: [key, value] pairs, least recent first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: list[list] = []
        self.evicted: list[tuple] = []

    def find(self, key) -> int | None:
        return next((i for i, (k, _) in enumerate(self.entries) if k == key), None)

    def touch(self, key):
        """A get: the entry becomes most recent; its value, or None for a miss."""
        i = self.find(key)
        if i is None:
            return None
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
            self.evicted.append(tuple(self.entries.pop(0)))

    def typed_keys(self) -> list:
        return typed(k for k, _ in self.entries)


def typed(keys) -> list:
    """Keys with their types: 1 and 1.0 are equal keys but not the same key object."""
    return [(k, type(k)) for k in keys]


class CacheMachine(RuleBasedStateMachine):
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
        assert self.cache.put(key, value) is None
        self.model.put(key, value)

    @rule(key=KEYS)
    def get(self, key):
        assert self.cache.get(key, "missing") == (
            "missing" if self.model.find(key) is None else self.model.touch(key)
        )

    @precondition(lambda self: len(getattr(self, "model", Model(1)).entries) > 1)
    @rule(data=st.data())
    def get_a_cached_key(self, data):
        key = data.draw(st.sampled_from([k for k, _ in self.model.entries]), label="key")
        assert self.cache.get(key) == self.model.touch(key)

    @invariant()
    def same_entries_in_the_same_order(self):
        if not hasattr(self, "model"):
            return
        assert typed(self.cache.keys()) == self.model.typed_keys()
        assert len(self.cache) == len(self.model.entries)
        assert [k in self.cache for k in ALL_KEYS] == [
            self.model.find(k) is not None for k in ALL_KEYS
        ]
        assert self.cache.capacity == self.model.capacity
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
        assert self.cache.delete(key) is self.model.delete(key)

    @rule(capacity=CAPACITIES)
    def resize(self, capacity):
        assert self.cache.resize(capacity) is None
        self.model.capacity = capacity
        self.model.shrink()

    @invariant()
    def same_evictions(self):
        if hasattr(self, "model"):
            assert self.calls == self.model.evicted


class MemoMachine(EvictingMachine):
    """Stage 3: adds call of two functions, with hits and misses counted by the model."""

    hits = misses = 0

    @rule(
        func=st.sampled_from([double, pair]),
        x=st.sampled_from([0, 1, True, "a"]),
        by_name=st.booleans(),
    )
    def call(self, func, x, by_name):
        args, kwargs = ((), {"x": x}) if by_name else ((x,), {})
        key = self.cache.generate_key(func, *args, **kwargs)
        if self.model.find(key) is None:
            self.misses += 1
            expected = func(x)
            self.model.put(key, expected)
        else:
            self.hits += 1
            expected = self.model.touch(key)
        assert self.cache.call(func, *args, **kwargs) == expected

    @invariant()
    def same_counts(self):
        if hasattr(self, "model"):
            assert (self.cache.hits, self.cache.misses) == (self.hits, self.misses)


class DurableMachine(MemoMachine):
    """Stage 4: adds save and load, and a persistent twin (only puts and deletes) reopened."""

    @initialize()
    def open_twin(self):
        self.folder = Path(tempfile.mkdtemp(prefix="lru-model-"))
        self.twin_model = Model(3)
        self.twin = self.impl.LRUCache(3, persistence_path=self.folder / "state")

    @rule(key=KEYS, value=VALUES)
    def put_twin(self, key, value):
        self.twin.put(key, value)
        self.twin_model.put(key, value)

    @rule(key=KEYS)
    def delete_twin(self, key):
        assert self.twin.delete(key) is self.twin_model.delete(key)

    @precondition(lambda self: hasattr(self, "twin"))
    @rule()
    def reopen_twin(self):
        self.twin = self.impl.LRUCache(3, persistence_path=self.folder / "state")

    @rule()
    def save_and_load(self):
        path = self.folder / "cache.json"
        self.cache.save(path)
        loaded = self.impl.LRUCache.load(path)
        assert typed(loaded.keys()) == self.model.typed_keys()
        assert [loaded.get(k) for k, _ in self.model.entries] == [v for _, v in self.model.entries]

    @invariant()
    def twin_agrees(self):
        if hasattr(self, "twin"):
            assert typed(self.twin.keys()) == self.twin_model.typed_keys()
            # Getting every key from least to most recent leaves the order as it was.
            assert [self.twin.get(k) for k, _ in self.twin_model.entries] == [
                v for _, v in self.twin_model.entries
            ]

    def teardown(self):
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)


# Finding a bug takes a fraction of a second; shrinking it to the short
# counterexample a learner can read takes up to a few seconds, hence a longer
# per-test timeout than the 10 s default.
shrinks = pytest.mark.timeout(30)


def run(machine, impl, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: machine(impl),
        settings=settings(max_examples=examples, stateful_step_count=steps),
    )


@shrinks
@pytest.mark.stage(1)
def test_random_puts_and_gets_agree_with_the_model(impl):
    run(CacheMachine, impl, examples=15, steps=20)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_deletes_resizes_and_evictions_agree_with_the_model(impl):
    run(EvictingMachine, impl, examples=50, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_memoized_calls_agree_with_the_model(impl):
    run(MemoMachine, impl, examples=50, steps=30)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_saves_loads_and_reopens_agree_with_the_model(impl):
    run(DurableMachine, impl, examples=15, steps=25)
