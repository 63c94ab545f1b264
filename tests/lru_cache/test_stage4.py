"""Stage 4: save, load and a journaled persistent cache (spec: stages/lru_cache/stage4.md)."""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dojo.testing import check_raises, check_returns, example_tables, replay

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
    return [(key, type(key).__name__, cache.get(key)) for key in keys], cache.capacity


LOAD_PACKAGE = """
import importlib.util, os.path, sys
spec = importlib.util.spec_from_file_location(
    "lru_under_test", os.path.join(sys.argv[1], "__init__.py"),
    submodule_search_locations=[sys.argv[1]],
)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
"""


def nested(depth: int, kind=list, inner=1):
    """``inner`` inside ``depth`` containers of ``kind``: nested(2) == [[1]]."""
    value = inner
    for _ in range(depth):
        value = kind([value]) if kind is not dict else {"k": value}
    return value


def doctor(path: Path, old: str, new: str) -> None:
    """Replace the text ``old`` (which must be there) by ``new`` in the file at ``path``."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} does not hold {old!r}; the test cannot craft its bad file"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("table", example_tables("lru_cache", 4), ids=lambda t: t.id)
def test_the_spec_example_table_holds(impl, table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("milk, eggs, flour\n", encoding="utf-8")
    replay(
        table,
        {"LRUCache": impl.LRUCache, "CacheFileError": impl.CacheFileError, "Path": Path},
    )


def test_cache_file_error_is_a_value_error(impl):
    assert issubclass(impl.CacheFileError, ValueError), (
        f"CacheFileError has the bases {impl.CacheFileError.__mro__}; expected a ValueError"
    )


def test_load_returns_an_equal_cache(new_cache, impl, tmp_path):
    cache = filled(new_cache)
    path = tmp_path / "cache.json"
    check_returns(None, "save returns None", cache.save, path)
    assert os.listdir(tmp_path) == ["cache.json"], (
        f"after save, the folder holds {os.listdir(tmp_path)}; expected only cache.json "
        "(no temporary file is left behind)"
    )
    loaded = impl.LRUCache.load(path)
    assert isinstance(loaded, impl.LRUCache), f"load returned {loaded!r}; expected an LRUCache"
    expected, got = snapshot(cache), snapshot(loaded)
    assert got == expected, (
        f"load(save(cache)) holds (keys, key types, values), capacity {got}; expected {expected} "
        "(the same key objects in the same order, the same values)"
    )
    rule = "values come back as they went in, tuples as tuples, lists as lists, bools as bools"
    check_returns((1, (2, [3])), rule, loaded.get, (1, ("x", None)))
    check_returns(False, rule, loaded.get, -2)
    check_returns(0, rule, loaded.get, "")


def test_a_full_cache_saves_and_loads(new_cache, impl, tmp_path):
    cache = new_cache(3)
    for key in "abc":
        cache.put(key, key.upper())
    cache.save(tmp_path / "full.json")
    loaded = impl.LRUCache.load(tmp_path / "full.json")
    check_returns(
        ["a", "b", "c"],
        "a file may hold as many entries as its capacity: load of a full cache of 3",
        loaded.keys,
    )


def test_a_file_with_more_entries_than_its_capacity_raises_cache_file_error(
    new_cache, impl, tmp_path
):
    cache = new_cache(3)
    for key in "abc":
        cache.put(key, key.upper())
    path = tmp_path / "over.json"
    cache.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["capacity"] = 2
    path.write_text(json.dumps(data), encoding="utf-8")
    check_raises(
        impl.CacheFileError,
        "a file of 3 entries whose capacity is 2 is not one save could write",
        impl.LRUCache.load,
        path,
    )


def test_equal_keys_keep_the_first_inserted_key_object_through_a_file(new_cache, impl, tmp_path):
    cache = new_cache(3)
    cache.put(1.0, "float")
    cache.put(1, "int")
    cache.put(False, "bool")
    cache.save(str(tmp_path / "c.json"))
    loaded = impl.LRUCache.load(str(tmp_path / "c.json"))
    check_returns([1.0, False], "the key objects come back: 1.0 a float, False a bool", loaded.keys)
    check_returns("int", "1 finds the key 1.0", loaded.get, 1)
    check_returns("bool", "0 finds the key False", loaded.get, 0)


def test_paths_may_be_str_or_path_like(new_cache, impl, tmp_path):
    class Where(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "w.json")

    cache = new_cache(2)
    cache.put("k", "v")
    cache.save(Where())
    check_returns(
        ["k"], "save accepts an os.PathLike", impl.LRUCache.load(str(tmp_path / "w.json")).keys
    )
    cache.save(str(tmp_path / "s.json"))
    check_returns("v", "load accepts an os.PathLike", impl.LRUCache.load(Where()).get, "k")


def test_the_file_is_json_in_the_lru_cache_format(new_cache, tmp_path):
    cache = new_cache(5)
    cache.put("a", 1)
    cache.save(tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    header = {k: data.get(k) for k in ("format", "version", "capacity")}
    assert header == {"format": "lru-cache", "version": 1, "capacity": 5}, (
        f"save of a cache of capacity 5 wrote {header}; expected "
        "'format': 'lru-cache', 'version': 1, 'capacity': 5"
    )


def test_a_loaded_cache_has_fresh_counters_and_no_on_evict(new_cache, impl, tmp_path):
    evicted = []
    cache = new_cache(1, on_evict=lambda k, v: evicted.append(k))
    cache.call(abs, -3)
    cache.call(abs, -3)
    cache.save(tmp_path / "c.json")
    loaded = impl.LRUCache.load(tmp_path / "c.json")
    counts = (loaded.hits, loaded.misses)
    assert counts == (0, 0), f"a loaded cache has (hits, misses) {counts}; they are never saved"
    loaded.put("other", 1)
    assert evicted == [], f"a loaded cache called on_evict for {evicted}; it has no on_evict"
    check_returns(["other"], "the put evicted the loaded entry", loaded.keys)


MARKER_DICTS = [
    {"__tuple__": [1, 2]},
    {"__dict__": {"a": 1}},
    {"__tuple__": "x"},
    {"__dict__": 1},
    {"__tuple__": [1], "other": 2},
    [{"__tuple__": []}],
    ({"__dict__": {"__tuple__": [3]}},),
]


@pytest.mark.parametrize("value", MARKER_DICTS, ids=repr)
def test_a_dict_that_spells_the_format_markers_comes_back_as_that_dict(
    new_cache, impl, tmp_path, value
):
    cache = new_cache(2)
    cache.put("v", value)
    cache.save(tmp_path / "c.json")
    check_returns(
        value,
        "a dict value comes back as a dict, whatever its keys spell (escape your markers)",
        impl.LRUCache.load(tmp_path / "c.json").get,
        "v",
    )
    persistent = new_cache(2, persistence_path=tmp_path / "state")
    persistent.put("v", value)
    check_returns(
        value,
        "a dict value comes back from the journal as a dict, whatever its keys spell",
        new_cache(2, persistence_path=tmp_path / "state").get,
        "v",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {1, 2},
        b"bytes",
        pytest.param(object(), id="object()"),  # no address in the id: xdist workers agree
        {1: "int key"},
        math.nan,
        math.inf,
        -math.inf,
        [1, math.nan],
        (1, {2}),
        pytest.param(nested(101), id="lists nested 101 deep"),
        pytest.param(nested(101, tuple), id="tuples nested 101 deep"),
        pytest.param(nested(101, dict), id="dicts nested 101 deep"),
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
    check_raises(TypeError, "a value that cannot be stored raises TypeError", cache.save, path)
    assert path.read_bytes() == before, "a failed save changed the file; expected it left as it was"
    assert os.listdir(tmp_path) == ["c.json"], (
        f"after a failed save the folder holds {os.listdir(tmp_path)}; expected no temporary file"
    )


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        (1, math.inf),
        b"k",
        frozenset({1}),
        pytest.param(nested(101, tuple), id="tuples nested 101 deep"),
    ],
    ids=repr,
)
def test_an_unstorable_key_raises_type_error_and_creates_no_file(new_cache, tmp_path, bad):
    cache = new_cache(3)
    cache.put(bad, 1)
    check_raises(
        TypeError, "a key that cannot be stored raises TypeError", cache.save, tmp_path / "c.json"
    )
    assert list(tmp_path.iterdir()) == [], (
        f"after a failed save the folder holds {os.listdir(tmp_path)}; expected nothing"
    )


@pytest.mark.parametrize("kind", [list, tuple, dict], ids=lambda kind: kind.__name__)
def test_a_value_nested_100_deep_round_trips(new_cache, impl, tmp_path, kind):
    cache = new_cache(2)
    cache.put(nested(100, tuple), nested(100, kind))
    cache.save(tmp_path / "deep.json")
    loaded = impl.LRUCache.load(tmp_path / "deep.json")
    value = loaded.get(nested(100, tuple))
    assert value == nested(100, kind), (
        f"load of a key and a value nested 100 deep gave {str(value)[:80]}...; expected them back "
        "(100 levels of nesting can be stored)"
    )


def test_a_missing_file_raises_file_not_found_error(impl, tmp_path):
    check_raises(FileNotFoundError, "a missing file", impl.LRUCache.load, tmp_path / "missing.json")


DEEP = "[" * 990 + "1" + "]" * 990
BAD_FILES = {
    "not json": b"capacity = 3",
    "empty": b"",
    "truncated": b'{"format": "lru-cache", "version": 1, "capa',
    "not utf-8": b"\xff\xfe{}",
    "not an object": b"[1, 2, 3]",
    "JSON nested 100,000 deep": b'{"format": "lru-cache", "a": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_that_is_not_a_cache_raises_cache_file_error_naming_the_path(
    impl, tmp_path, content
):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    caught = check_raises(
        impl.CacheFileError, "a file that is not a cache file", impl.LRUCache.load, path
    )
    assert path.name in str(caught), f"the message {str(caught)!r} does not name the file bad.json"


# Each bad file is a good one with one number changed: the text of MARK (in a
# key or a value) becomes "bad", in whatever encoding the code under test writes.
MARK = 987654321
DOCTORED = {
    "a value too large for a float": ("v", MARK, "1e400"),
    "a negative value too large for a float": ("v", MARK, "-1e400"),
    "a key too large for a float": (MARK, "k", "1e400"),
    "a value of Infinity": ("v", MARK, "Infinity"),
    "JSON nested 990 deep": ("v", MARK, DEEP),
    "lists nested 101 deep": ("v", MARK, "[" * 101 + "1" + "]" * 101),
    "a list in 100 tuples": ("v", nested(100, tuple, MARK), "[1]"),
    "a list in 100 dicts": ("v", nested(100, dict, MARK), "[1]"),
    "a list as a key": (MARK, "k", "[1]"),
    "a list in a key tuple": ((MARK,), "k", "[1]"),
}


@pytest.mark.parametrize(("key", "value", "bad"), DOCTORED.values(), ids=DOCTORED.keys())
def test_a_file_holding_what_save_cannot_write_raises_cache_file_error(
    new_cache, impl, tmp_path, key, value, bad
):
    cache = new_cache(3)
    cache.put(key, value)
    path = tmp_path / "c.json"
    cache.save(path)
    doctor(path, str(MARK), bad)
    check_raises(
        impl.CacheFileError,
        f"a file holding {bad[:20]} where save wrote {MARK} is a bad file: load raises "
        "CacheFileError, nothing else",
        impl.LRUCache.load,
        path,
    )


def test_a_file_holding_a_key_twice_raises_cache_file_error(new_cache, impl, tmp_path):
    cache = new_cache(3)
    cache.put("key-one", 1)
    cache.put("key-two", 2)
    path = tmp_path / "c.json"
    cache.save(path)
    doctor(path, "key-two", "key-one")
    check_raises(impl.CacheFileError, "a file holding one key twice", impl.LRUCache.load, path)


# A saved file with one field of its header changed (None: the field removed).
BAD_HEADERS = {
    "capacity 0": ("capacity", 0),
    "capacity -1": ("capacity", -1),
    "capacity true": ("capacity", True),
    "capacity '3'": ("capacity", "3"),
    "capacity 1.5": ("capacity", 1.5),
    "no capacity": ("capacity", None),
    "format lfu-cache": ("format", "lfu-cache"),
    "no format": ("format", None),
    "version 2": ("version", 2),
    "version 1.0": ("version", 1.0),
    "version '1'": ("version", "1"),
    "version true": ("version", True),
    "no version": ("version", None),
}


@pytest.mark.parametrize(("field", "bad"), BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_file_with_a_bad_header_raises_cache_file_error(new_cache, impl, tmp_path, field, bad):
    cache = new_cache(3)
    cache.put("a", 1)
    path = tmp_path / "c.json"
    cache.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if bad is None:
        del data[field]
    else:
        data[field] = bad
    path.write_text(json.dumps(data), encoding="utf-8")
    what = f"no {field!r}" if bad is None else f"{field!r}: {json.dumps(bad)}"
    check_raises(
        impl.CacheFileError,
        f"a file with {what} is not a cache file of version 1 with a capacity of at least 1",
        impl.LRUCache.load,
        path,
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_file_holding_a_nan_or_infinity_anywhere_raises_cache_file_error(
    new_cache, impl, tmp_path, constant
):
    cache = new_cache(3)
    cache.put("a", 1)
    path = tmp_path / "c.json"
    cache.save(path)
    text = path.read_text(encoding="utf-8")
    note = '{"note": ' + constant + ", "
    path.write_text(text.replace("{", note, 1), encoding="utf-8")
    check_raises(
        impl.CacheFileError,
        f"{constant} is not valid JSON, even in a field load does not read",
        impl.LRUCache.load,
        path,
    )


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
    check_raises(impl.CacheFileError, "a pickle is not a cache file", impl.LRUCache.load, path)
    assert not marker.exists(), "load ran the pickle's code: it must never unpickle (or eval)"


DISK_FULL = (
    LOAD_PACKAGE
    + """
import resource, signal
path = sys.argv[2]
small = module.LRUCache(10)
small.put("small", 1)
small.save(path)
big = module.LRUCache(10)
for i in range(10):
    big.put(i, "x" * 20_000)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (65_536, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    big.save(path)
except OSError as exc:
    print("OSError", exc.errno)
else:
    print("saved")
"""
)


def test_a_save_that_fails_midway_leaves_the_old_file_and_no_temporary_file(
    impl, package_folder, tmp_path
):
    # The child saves a small cache, then a 200 kB one under a 64 kB file-size
    # limit, as a disk that fills up midway: the write fails after 64 kB.
    path = tmp_path / "cache.json"
    script = tmp_path / "disk_full.py"
    script.write_text(DISK_FULL, encoding="utf-8")
    child = subprocess.run(
        [sys.executable, str(script), str(package_folder()), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert child.returncode == 0, f"the child process failed: {child.stderr[-2000:]}"
    assert child.stdout.startswith("OSError"), (
        f"save of 200 kB on a disk full after 64 kB printed {child.stdout!r}; expected it to "
        "raise the OSError of the failed write"
    )
    files = sorted(p.name for p in tmp_path.iterdir() if p.name != "disk_full.py")
    assert files == ["cache.json"], (
        f"after the failed save the folder holds {files}; expected only cache.json "
        "(no temporary file is left behind)"
    )
    loaded = raises_nothing(impl.LRUCache.load, path)
    check_returns(
        ["small"],
        "a save that fails midway leaves the old file: write a temporary file, then os.replace",
        loaded.keys,
    )


def raises_nothing(load, path):
    """``load(path)``, failing with the rule if the file is torn."""
    try:
        return load(path)
    except ValueError as exc:
        pytest.fail(
            f"load({path.name}) after a save that failed midway raised {exc!r}: the save tore the "
            "old file (write a temporary file in the same folder, then os.replace it)",
            pytrace=False,
        )


# --- the persistent cache --------------------------------------------------


def test_a_persistent_cache_recovers_its_entries_and_order(new_cache, tmp_path):
    folder = tmp_path / "deep" / "state"
    cache = new_cache(4, persistence_path=folder)
    assert folder.is_dir(), "LRUCache(4, persistence_path=...) must create the folder and parents"
    cache.put("a", [1])
    cache.put("b", (2,))
    cache.put("c", 3)
    cache.delete("b")
    cache.put("a", {"v": 4})
    recovered = new_cache(4, persistence_path=str(folder))
    got, expected = snapshot(recovered), ([("c", "str", 3), ("a", "str", {"v": 4})], 4)
    assert got == expected, (
        f"after put a, put b, put c, delete b, put a again, a new cache on the folder holds "
        f"{got}; expected {expected} (construction recovers the entries and their order)"
    )


def test_a_new_folder_gives_an_empty_cache(new_cache, tmp_path):
    cache = new_cache(3, persistence_path=tmp_path / "fresh")
    check_returns([], "a cache on a new folder is empty", cache.keys)
    cache.put("x", 1)
    check_returns(1, "and works as any cache", cache.get, "x")


def test_each_write_reaches_the_os_before_the_method_returns(new_cache, tmp_path):
    cache = new_cache(3, persistence_path=tmp_path)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.delete("a")
    cache.call(abs, -5)
    peek = new_cache(3, persistence_path=tmp_path)
    got = snapshot(peek)[0]
    expected = [("b", "str", 2), (cache.generate_key(abs, -5), "tuple", 5)]
    assert got == expected, (
        f"while the writer is still open, a second cache on its folder holds {got}; expected "
        f"{expected} (put, delete and a cached call result are flushed before they return)"
    )


def test_the_constructor_capacity_wins_and_recovery_calls_no_on_evict(new_cache, tmp_path):
    cache = new_cache(4, persistence_path=tmp_path)
    for key in "abcd":
        cache.put(key, key)
    evicted = []
    smaller = new_cache(2, on_evict=lambda k, v: evicted.append(k), persistence_path=tmp_path)
    check_returns(
        ["c", "d"], "a smaller constructor capacity evicts the least recent", smaller.keys
    )
    assert smaller.capacity == 2, f"capacity is {smaller.capacity}; expected 2, the constructor's"
    assert evicted == [], f"recovery called on_evict for {evicted}; it must not"
    check_returns(
        ["c", "d"],
        "the evictions of recovery are kept",
        new_cache(2, persistence_path=tmp_path).keys,
    )


def test_a_persistent_put_of_an_unstorable_value_raises_type_error_and_changes_nothing(
    new_cache, tmp_path
):
    cache = new_cache(2, persistence_path=tmp_path)
    cache.put("a", 1)
    rule = "with a persistence_path, a put checks first that it can be stored"
    check_raises(TypeError, rule, cache.put, "b", {1, 2})
    check_raises(TypeError, rule, cache.put, b"k", 1)
    check_raises(TypeError, rule, cache.put, "deep", nested(101))
    check_raises(TypeError, rule, cache.call, math.sqrt, math.inf)
    check_returns(["a"], "a rejected put changes nothing", cache.keys)
    assert cache.misses == 1, f"misses is {cache.misses}; expected 1 (the rejected call's miss)"
    check_returns(
        ["a"], "nothing rejected was written", new_cache(2, persistence_path=tmp_path).keys
    )


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_the_journal_is_compacted_so_the_folder_stays_small(new_cache, tmp_path):
    # 2,000 records of ~60 bytes would make a 120 kB journal; capacity 10 needs ~2 kB.
    cache = new_cache(10, persistence_path=tmp_path)
    for i in range(2000):
        cache.put(i % 37, f"value number {i:06d} of many")
    size = folder_size(tmp_path)
    assert size < 20_000, (
        f"after 2,000 puts at capacity 10 the folder holds {size} bytes; expected under 20,000 "
        "(compact the journal into a snapshot past a few times the capacity in records)"
    )
    recovered = new_cache(10, persistence_path=tmp_path)
    assert snapshot(recovered) == snapshot(cache), (
        f"after compactions a new cache holds {snapshot(recovered)}; expected {snapshot(cache)}"
    )


def the_journal(new_cache, folder: Path):
    """A persistent cache on ``folder`` and the one file its next put appends to."""
    cache = new_cache(10, persistence_path=folder)
    sizes = {p: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    cache.put("probe", 0)
    grown = [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size > sizes.get(p, 0)]
    assert len(grown) == 1, f"put('probe', 0) grew {grown}; expected it to append to one journal"
    return cache, grown[0]


def test_a_torn_final_journal_record_is_ignored(new_cache, tmp_path):
    cache, journal = the_journal(new_cache, tmp_path)
    for key in "abcd":
        cache.put(key, key * 20)
    cache.put("e", "e" * 20)
    os.truncate(journal, journal.stat().st_size - 5)
    recovered = new_cache(10, persistence_path=tmp_path)
    check_returns(
        ["probe", "a", "b", "c", "d"], "the torn record of 'e' is ignored", recovered.keys
    )
    recovered.put("f", 1)
    check_returns(
        ["probe", "a", "b", "c", "d", "f"],
        "writes after recovering from a torn record are kept",
        new_cache(10, persistence_path=tmp_path).keys,
    )


@pytest.mark.parametrize("when", ["in the journal", "after a reopen"])
@pytest.mark.parametrize(("key", "value", "bad"), DOCTORED.values(), ids=DOCTORED.keys())
def test_a_folder_holding_what_put_cannot_write_raises_cache_file_error(
    new_cache, impl, tmp_path, when, key, value, bad
):
    cache = new_cache(10, persistence_path=tmp_path)
    cache.put(key, value)
    if when == "after a reopen":
        cache = new_cache(10, persistence_path=tmp_path)
    cache.put("later", 1)  # so the doctored record is never the (maybe torn) last one
    holders = [p for p in tmp_path.rglob("*") if p.is_file() and b"%d" % MARK in p.read_bytes()]
    assert holders, f"no file of the folder holds {MARK}: the put was not written"
    for path in holders:
        doctor(path, str(MARK), bad)
    caught = check_raises(
        impl.CacheFileError,
        f"a snapshot or journal record holding {bad[:20]} is damaged: CacheFileError, nothing else",
        impl.LRUCache,
        10,
        persistence_path=tmp_path,
    )
    names = [path.name for path in holders]
    assert any(name in str(caught) for name in names), (
        f"the message {str(caught)!r} names none of the damaged files {names}"
    )


def test_a_damaged_journal_record_that_is_not_the_last_raises_cache_file_error(
    new_cache, impl, tmp_path
):
    cache, journal = the_journal(new_cache, tmp_path)
    cache.put("a", 1)
    with open(journal, "rb+") as file:
        file.write(b"#")  # the first record is now damaged, and complete records follow it
    caught = check_raises(
        impl.CacheFileError,
        "a damaged record that is not the last",
        impl.LRUCache,
        10,
        persistence_path=tmp_path,
    )
    assert journal.name in str(caught), (
        f"the message {str(caught)!r} does not name the damaged journal {journal.name}"
    )


WRITER = (
    LOAD_PACKAGE
    + """
state, capacity = sys.argv[2], int(sys.argv[3])
cache = module.LRUCache(capacity, persistence_path=state)
for op, key, value in __OPS__:
    if op == "put":
        cache.put(key, value)
    else:
        cache.delete(key)
    print("ack", flush=True)
"""
)


def crash_ops(count: int, seed: int):
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
    capacity = 6
    ops = crash_ops(5000, seed=acks)
    script = tmp_path / "writer.py"
    script.write_text(WRITER.replace("__OPS__", repr(ops)), encoding="utf-8")
    state = tmp_path / "state"
    writer = subprocess.Popen(
        [sys.executable, str(script), str(package_folder()), str(state), str(capacity)],
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
        f"killed after {acks} acknowledged writes, a new cache holds (keys, values) {state_now}, "
        "which is no replay of a prefix of the writes holding every acknowledged one "
        "(each write is flushed to the OS before it returns)"
    )


SAVER = (
    LOAD_PACKAGE
    + """
path = sys.argv[2]
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
)


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
    loaded = raises_nothing(impl.LRUCache.load, path)
    values = {loaded.get(i) for i in range(2000)}
    assert len(loaded) == 2000 and values in ({"first" * 40}, {"second" * 40}), (
        f"after a kill during save, load found {len(loaded)} entries of {len(values)} kinds; "
        "expected the 2,000 entries of one of the two caches saved (old file or new, never torn)"
    )
