"""Stage 4: save, load and a journaled persistent cache (spec: stages/lru_cache/stage4.md)."""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stage(4)

KEYS = ["a", "", 7, -2, 2.5, True, None, (1, ("x", None)), ()]
VALUES = [
    "text",
    0,
    3.25,
    False,
    None,
    [1, [2, "b"]],
    {"k": [None, {"n": 1.5}]},
    (1, (2, [3])),
    {},
]


def filled(new_cache, **kwargs):
    cache = new_cache(len(KEYS) + 1, **kwargs)
    for key, value in zip(KEYS, VALUES, strict=True):
        cache.put(key, value)
    cache.get("a")
    return cache


def snapshot(cache):
    """keys() in order with each key's type and value: equal caches give equal snapshots."""
    keys = cache.keys()
    return [(key, type(key), cache.get(key)) for key in keys], cache.capacity


def test_cache_file_error_is_a_value_error(impl):
    assert issubclass(impl.CacheFileError, ValueError)


def test_load_returns_an_equal_cache(new_cache, impl, tmp_path):
    cache = filled(new_cache)
    path = tmp_path / "cache.json"
    assert cache.save(path) is None, "save returns None"
    loaded = impl.LRUCache.load(path)
    assert isinstance(loaded, impl.LRUCache)
    expected = snapshot(cache)
    assert snapshot(loaded) == expected, "same keys (and key types) in the same order, same values"
    nested = loaded.get((1, ("x", None)))
    assert nested == (1, (2, [3])) and isinstance(nested[1][1], list), (
        "tuples come back as tuples and lists as lists, nested too"
    )
    assert loaded.get(-2) is False and loaded.get("") == 0 and type(loaded.get("")) is int, (
        "False stays a bool and 0 an int"
    )


def test_equal_keys_keep_the_first_inserted_key_object_through_a_file(new_cache, impl, tmp_path):
    cache = new_cache(3)
    cache.put(1.0, "float")
    cache.put(1, "int")
    cache.put(False, "bool")
    cache.save(str(tmp_path / "c.json"))
    loaded = impl.LRUCache.load(str(tmp_path / "c.json"))
    keys = loaded.keys()
    assert [(k, type(k)) for k in keys] == [(1.0, float), (False, bool)]
    assert (loaded.get(1), loaded.get(0)) == ("int", "bool")


def test_paths_may_be_str_or_path_like(new_cache, impl, tmp_path):
    class Where(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "w.json")

    cache = new_cache(2)
    cache.put("k", "v")
    cache.save(Where())
    assert impl.LRUCache.load(str(tmp_path / "w.json")).keys() == ["k"]
    cache.save(str(tmp_path / "s.json"))
    assert impl.LRUCache.load(Where()).get("k") == "v"


def test_the_file_is_json_in_the_lru_cache_format(new_cache, tmp_path):
    cache = new_cache(5)
    cache.put("a", 1)
    cache.save(tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert (data["format"], data["version"], data["capacity"]) == ("lru-cache", 1, 5)


def test_a_loaded_cache_has_fresh_counters_and_no_on_evict(new_cache, impl, tmp_path):
    evicted = []
    cache = new_cache(1, on_evict=lambda k, v: evicted.append(k))
    cache.call(abs, -3)
    cache.call(abs, -3)
    cache.save(tmp_path / "c.json")
    loaded = impl.LRUCache.load(tmp_path / "c.json")
    assert (loaded.hits, loaded.misses) == (0, 0), "hits and misses are never saved"
    loaded.put("other", 1)
    assert evicted == [] and loaded.keys() == ["other"]


@pytest.mark.parametrize(
    "bad",
    [
        {1, 2},
        b"bytes",
        object(),
        {1: "int key"},
        math.nan,
        math.inf,
        -math.inf,
        [1, math.nan],
        (1, {2}),
    ],
    ids=repr,
)
def test_an_unstorable_value_raises_type_error_and_leaves_the_file(new_cache, tmp_path, bad):
    path = tmp_path / "c.json"
    cache = new_cache(3)
    cache.put("ok", 1)
    cache.save(path)
    before = path.read_bytes()
    cache.put("bad", bad)
    with pytest.raises(TypeError):
        cache.save(path)
    assert path.read_bytes() == before, "a failed save leaves the old file as it was"
    assert os.listdir(tmp_path) == ["c.json"], "and leaves no temporary file behind"


@pytest.mark.parametrize("bad", [math.nan, math.inf, (1, math.inf), b"k", frozenset({1})], ids=repr)
def test_an_unstorable_key_raises_type_error_and_creates_no_file(new_cache, tmp_path, bad):
    cache = new_cache(3)
    cache.put(bad, 1)
    with pytest.raises(TypeError):
        cache.save(tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists(), "a failed save creates no file"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_raises_file_not_found_error(impl, tmp_path):
    with pytest.raises(FileNotFoundError):
        impl.LRUCache.load(tmp_path / "missing.json")


BAD_FILES = {
    "not json": b"capacity = 3",
    "empty": b"",
    "truncated": b'{"format": "lru-cache", "version": 1, "capa',
    "not utf-8": b"\xff\xfe{}",
    "not an object": b"[1, 2, 3]",
    "no format": b'{"version": 1, "capacity": 2}',
    "another format": b'{"format": "lfu-cache", "version": 1, "capacity": 2}',
    "another version": b'{"format": "lru-cache", "version": 2, "capacity": 2}',
    "no version": b'{"format": "lru-cache", "capacity": 2}',
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_that_is_not_a_cache_raises_cache_file_error_naming_the_path(
    new_cache, impl, tmp_path, content
):
    cache = new_cache(2)
    cache.put("k", "v")
    cache.save(tmp_path / "good.json")
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(impl.CacheFileError) as caught:
        impl.LRUCache.load(path)
    assert str(path) in str(caught.value) or path.name in str(caught.value), (
        "the message names the file"
    )
    assert impl.LRUCache.load(tmp_path / "good.json").keys() == ["k"]


class Payload:
    """Unpickling this runs ``open(marker, "w")``: the file appears if load unpickles."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_a_crafted_pickle_is_rejected_without_running_anything(impl, tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "cache.json"
    path.write_bytes(pickle.dumps(Payload(str(marker)), protocol=protocol))
    with pytest.raises(impl.CacheFileError):
        impl.LRUCache.load(path)
    assert not marker.exists(), "load must never unpickle (or eval) the file"


# --- the persistent cache --------------------------------------------------


def test_a_persistent_cache_recovers_its_entries_and_order(new_cache, tmp_path):
    folder = tmp_path / "deep" / "state"
    cache = new_cache(4, persistence_path=folder)
    assert folder.is_dir(), "the folder (and its parents) is created"
    cache.put("a", [1])
    cache.put("b", (2,))
    cache.put("c", 3)
    cache.delete("b")
    cache.put("a", {"v": 4})
    recovered = new_cache(4, persistence_path=str(folder))
    assert snapshot(recovered) == ([("c", str, 3), ("a", str, {"v": 4})], 4)


def test_a_new_folder_gives_an_empty_cache(new_cache, tmp_path):
    cache = new_cache(3, persistence_path=tmp_path / "fresh")
    assert (len(cache), cache.keys()) == (0, [])
    cache.put("x", 1)
    assert cache.get("x") == 1


def test_each_write_reaches_the_os_before_the_method_returns(new_cache, tmp_path):
    cache = new_cache(3, persistence_path=tmp_path)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.delete("a")
    cache.call(abs, -5)
    peek = new_cache(3, persistence_path=tmp_path)
    assert snapshot(peek)[0] == [("b", str, 2), (cache.generate_key(abs, -5), tuple, 5)], (
        "put, delete and a cached call result are on disk while the writer is still open"
    )


def test_the_constructor_capacity_wins_and_recovery_calls_no_on_evict(new_cache, tmp_path):
    cache = new_cache(4, persistence_path=tmp_path)
    for key in "abcd":
        cache.put(key, key)
    evicted = []
    smaller = new_cache(2, on_evict=lambda k, v: evicted.append(k), persistence_path=tmp_path)
    assert (smaller.keys(), smaller.capacity, evicted) == (["c", "d"], 2, [])
    again = new_cache(2, persistence_path=tmp_path)
    assert again.keys() == ["c", "d"]


def test_a_persistent_put_of_an_unstorable_value_raises_type_error_and_changes_nothing(
    new_cache, tmp_path
):
    cache = new_cache(2, persistence_path=tmp_path)
    cache.put("a", 1)
    with pytest.raises(TypeError):
        cache.put("b", {1, 2})
    with pytest.raises(TypeError):
        cache.put(b"k", 1)
    with pytest.raises(TypeError):
        cache.call(lambda: math.inf)
    assert (cache.keys(), cache.misses) == (["a"], 1), "rejected; the call's miss still counts"
    assert new_cache(2, persistence_path=tmp_path).keys() == ["a"]


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_the_journal_is_compacted_so_the_folder_stays_small(new_cache, tmp_path):
    # 2,000 records of ~60 bytes would make a 120 kB journal; capacity 10 needs ~2 kB.
    cache = new_cache(10, persistence_path=tmp_path)
    for i in range(2000):
        cache.put(i % 37, f"value number {i:06d} of many")
    assert folder_size(tmp_path) < 20_000, f"{folder_size(tmp_path)} bytes for 10 entries"
    recovered = new_cache(10, persistence_path=tmp_path)
    assert snapshot(recovered) == snapshot(cache)


def test_a_torn_final_journal_record_is_ignored(new_cache, tmp_path):
    cache = new_cache(10, persistence_path=tmp_path)
    for key in "abcd":
        cache.put(key, key * 20)
    sizes = {p: p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()}
    cache.put("e", "e" * 20)
    grown = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > sizes.get(p, 0)]
    assert len(grown) == 1, f"one put must append to one journal file, not {grown}"
    journal = grown[0]
    os.truncate(journal, journal.stat().st_size - 5)
    recovered = new_cache(10, persistence_path=tmp_path)
    assert recovered.keys() == ["a", "b", "c", "d"], "the torn record of 'e' is ignored"
    recovered.put("f", 1)
    assert new_cache(10, persistence_path=tmp_path).keys() == ["a", "b", "c", "d", "f"], (
        "writes after recovering from a torn record are kept"
    )


WRITER = """
import importlib.util, os.path, random, sys
folder, state, capacity, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location(
    "lru_under_test", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
cache = module.LRUCache(capacity, persistence_path=state)
for op, key, value in __OPS__:
    if op == "put":
        cache.put(key, value)
    else:
        cache.delete(key)
    print("ack", flush=True)
"""


def crash_ops(count: int, seed: int):
    import random

    rng = random.Random(seed)
    ops = []
    for i in range(count):
        key = rng.randrange(12)
        ops.append(("delete", key, None) if rng.random() < 0.25 else ("put", key, [i, "v"]))
    return ops


def replays(ops, capacity):
    """The cache after each prefix of ``ops``: a list of (keys, values), index = prefix length."""
    order: list = []
    values: dict = {}
    states = [([], [])]
    for op, key, value in ops:
        if key in values:
            order.remove(key)
            del values[key]
        if op == "put":
            order.append(key)
            values[key] = value
            if len(order) > capacity:
                del values[order.pop(0)]
        states.append((list(order), [values[k] for k in order]))
    return states


@pytest.mark.parametrize("acks", [1, 37, 150])
def test_after_a_sigkill_recovery_replays_every_acknowledged_write(
    new_cache, package_folder, tmp_path, acks
):
    capacity, count = 6, 5000
    ops = crash_ops(count, seed=acks)
    script = tmp_path / "writer.py"
    script.write_text(WRITER.replace("__OPS__", repr(ops)), encoding="utf-8")
    state = tmp_path / "state"
    writer = subprocess.Popen(
        [sys.executable, str(script), str(package_folder()), str(state), str(capacity), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for seen in range(acks):
            line = writer.stdout.readline()
            assert line == "ack\n", (
                f"the writer stopped after {seen} writes: {writer.stderr.read()}"
            )
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=10)
        writer.stdout.close()
        writer.stderr.close()
    recovered = new_cache(capacity, persistence_path=state)
    keys = recovered.keys()
    state_now = (keys, [recovered.get(k) for k in keys])
    prefixes = replays(ops, capacity)
    assert state_now in prefixes[acks:], (
        f"after {acks} acknowledged writes, the recovered cache {state_now} is not the replay of "
        "the acknowledged writes (or of a longer prefix)"
    )


SAVER = """
import importlib.util, os.path, sys
folder, path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location(
    "lru_under_test", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
caches = []
for tag in ("first", "second"):
    cache = module.LRUCache(2000)
    for i in range(2000):
        cache.put(i, tag * 40)
    caches.append(cache)
n = 0
while True:
    caches[n % 2].save(path)
    n += 1
    print("ack", flush=True)
"""


def test_a_save_killed_midway_leaves_the_old_file_or_the_new_one(impl, package_folder, tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER, encoding="utf-8")
    path = tmp_path / "cache.json"
    saver = subprocess.Popen(
        [sys.executable, str(script), str(package_folder()), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for seen in range(3):
            line = saver.stdout.readline()
            assert line == "ack\n", f"the saver stopped after {seen} saves: {saver.stderr.read()}"
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.kill()
        saver.wait(timeout=10)
        saver.stdout.close()
        saver.stderr.close()
    loaded = impl.LRUCache.load(path)
    assert len(loaded) == 2000 and loaded.get(0) in ("first" * 40, "second" * 40)
    assert {loaded.get(i) for i in range(2000)} == {loaded.get(0)}, "a torn or mixed file"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".json"] == ["cache.json"]
