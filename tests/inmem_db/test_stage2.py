"""Stage 2: keys that expire (spec: stages/inmem_db/stage2.md)."""

from __future__ import annotations

import math
import tracemalloc
from decimal import Decimal

import pytest

from dojo.testing import check_raises, check_returns, render_call

from .examples import replay_with_clock, spec_tables

pytestmark = pytest.mark.stage(2)

BAD_TTL_VALUES = [
    0,
    0.0,
    -1,
    -0.25,
    math.nan,
    math.inf,
    -math.inf,
    pytest.param(10**400, id="10**400"),
]
BAD_TTL_TYPES = ["1", b"1", True, False, Decimal(1), [1]]


@spec_tables(2)
def test_the_spec_example_table_holds(impl, table):
    replay_with_clock(impl, table)


def test_a_key_with_a_ttl_is_visible_until_just_before_its_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=10)
    clock.advance(9.75)
    check_returns("1", "set at 1000 with ttl=10: live at 1009.75 (clock() < 1010)", db.get, "a")


def test_a_key_is_gone_at_exactly_set_time_plus_ttl(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=10)
    clock.advance(10)
    check_returns(None, "set at 1000 with ttl=10: gone at clock() == 1010", db.get, "a")


def test_a_float_ttl_is_accepted(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=2.5)
    clock.advance(2.25)
    check_returns("1", "set at 1000 with ttl=2.5: live at 1002.25", db.get, "a")
    clock.advance(0.25)
    check_returns(None, "set at 1000 with ttl=2.5: gone at 1002.5", db.get, "a")


def test_ttl_returns_the_remaining_seconds_as_a_float(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=10)
    clock.advance(2.75)
    check_returns(7.25, "set at 1000 with ttl=10, asked at 1002.75: expiry - clock()", db.ttl, "a")
    db.set("b", "2", ttl=4)
    check_returns(4.0, "ttl returns a float, even for an int ttl", db.ttl, "b")


def test_ttl_returns_infinity_for_a_key_without_expiry(new_db):
    db = new_db()
    db.set("a", "1")
    db.set("b", "2", ttl=None)
    check_returns(math.inf, "a key set without ttl never expires: ttl is math.inf", db.ttl, "a")
    check_returns(math.inf, "ttl=None means no expiry", db.ttl, "b")


def test_ttl_returns_none_for_a_missing_key(new_db):
    db = new_db()
    check_returns(None, "ttl of a key never set is None", db.ttl, "a")


def test_set_without_ttl_clears_an_earlier_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=5)
    db.set("a", "2")
    clock.advance(100)
    rule = "set('a', '2') after set('a', '1', ttl=5) removes the expiry"
    check_returns("2", rule, db.get, "a")
    check_returns(math.inf, rule, db.ttl, "a")


def test_set_with_a_shorter_ttl_replaces_the_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=10)
    db.set("a", "2", ttl=2)
    clock.advance(2)
    rule = "set('a', '2', ttl=2) after ttl=10 replaces the expiry, even when sooner"
    check_returns(None, rule, db.get, "a")


def test_set_with_a_longer_ttl_replaces_the_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=2)
    db.set("a", "2", ttl=10)
    clock.advance(5)
    rule = "set('a', '2', ttl=10) after ttl=2 replaces the expiry: 1010, not 1002"
    check_returns("2", rule, db.get, "a")
    check_returns(5.0, rule, db.ttl, "a")
    clock.advance(5)
    check_returns(None, rule, db.get, "a")


def test_expire_gives_a_live_key_a_new_expiry_from_now(new_db, clock):
    db = new_db()
    db.set("a", "1")
    clock.advance(3)
    rule = "expire('a', 4) at 1003: the new expiry is 1007"
    check_returns(True, "expire of a live key returns True", db.expire, "a", 4)
    check_returns(4.0, rule, db.ttl, "a")
    clock.advance(3.75)
    check_returns("1", "expire keeps the value; " + rule, db.get, "a")
    clock.advance(0.25)
    check_returns(None, rule, db.get, "a")


def test_expire_can_extend_and_shorten_an_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=2)
    check_returns(True, "expire of a live key returns True", db.expire, "a", 10)
    clock.advance(5)
    check_returns("1", "expire('a', 10) replaces the sooner expiry 1002 by 1010", db.get, "a")
    check_returns(True, "expire of a live key returns True", db.expire, "a", 0.5)
    clock.advance(0.5)
    check_returns(None, "expire('a', 0.5) at 1005 replaces the later expiry", db.get, "a")


def test_expire_returns_false_for_a_missing_key_and_creates_nothing(new_db):
    db = new_db()
    check_returns(False, "expire of a missing key returns False", db.expire, "a", 10)
    check_returns(None, "expire of a missing key creates nothing", db.get, "a")
    check_returns(0, "expire of a missing key creates nothing", len, db)


def test_an_expired_key_is_invisible_to_every_operation(new_db, clock):
    # One key per operation, so that no operation sees a key another one read first.
    db = new_db()
    for key in ("get", "delete", "ttl", "expire", "len"):
        db.set(key, "v", ttl=1)
    db.set("forever", "v")
    clock.advance(1)
    rule = "an expired key is gone everywhere"
    check_returns(False, rule, db.delete, "delete")
    check_returns(None, rule, db.ttl, "ttl")
    check_returns(False, rule, db.expire, "expire", 10)
    check_returns(None, "expire does not revive an expired key", db.get, "expire")
    check_returns(None, rule, db.get, "get")
    check_returns(1, rule + ": only 'forever' is live", len, db)


def test_an_expired_key_can_be_set_again(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=1)
    clock.advance(1)
    db.set("a", "2")
    clock.advance(10)
    rule = "set('a', '2') after 'a' expired stores a new key without expiry"
    check_returns("2", rule, db.get, "a")
    check_returns(math.inf, rule, db.ttl, "a")
    check_returns(1, rule, len, db)


def test_len_counts_only_live_keys_as_time_passes(new_db, clock):
    db = new_db()
    for i in range(1, 5):
        db.set(f"k{i}", "v", ttl=i)
    db.set("forever", "v")
    for live in (5, 4, 3, 2, 1):
        check_returns(live, f"at {clock.now}: k1..k4 expire at 1001..1004", len, db)
        clock.advance(1)


@pytest.mark.parametrize("ttl", BAD_TTL_VALUES, ids=repr)
def test_a_ttl_that_is_not_finite_and_positive_raises_value_error(new_db, ttl):
    db = new_db()
    db.set("a", "1", ttl=5)
    rule = "a ttl is finite and > 0"
    check_raises(ValueError, rule, db.set, "a", "2", ttl=ttl)
    check_raises(ValueError, rule, db.expire, "a", ttl)
    check_returns("1", "a rejected call changes nothing", db.get, "a")
    check_returns(5.0, "a rejected call changes nothing", db.ttl, "a")


@pytest.mark.parametrize("ttl", BAD_TTL_TYPES, ids=repr)
def test_a_ttl_that_is_not_an_int_or_float_raises_type_error(new_db, ttl):
    db = new_db()
    db.set("a", "1", ttl=5)
    rule = "a ttl is an int or a float, not a bool"
    check_raises(TypeError, rule, db.set, "a", "2", ttl=ttl)
    check_raises(TypeError, rule, db.expire, "a", ttl)
    check_returns("1", "a rejected call changes nothing", db.get, "a")
    check_returns(5.0, "a rejected call changes nothing", db.ttl, "a")


def test_expire_with_ttl_none_raises_type_error(new_db):
    db = new_db()
    db.set("a", "1", ttl=5)
    check_raises(TypeError, "expire refuses None", db.expire, "a", None)
    check_returns(5.0, "a rejected expire changes nothing", db.ttl, "a")


def test_types_are_checked_before_values(new_db):
    db = new_db()
    rule = "types of all arguments are checked before any value"
    check_raises(TypeError, rule, db.set, "k", 1, ttl=-1)
    check_raises(TypeError, rule, db.set, 1, "v", ttl=0)
    check_raises(TypeError, rule, db.expire, 1, -1)
    check_returns(0, "a rejected call changes nothing", len, db)


def test_arguments_are_checked_before_the_key_is_looked_up(new_db):
    db = new_db()
    rule = "arguments are checked before the key is looked up"
    check_raises(ValueError, rule, db.expire, "missing", -1)
    check_raises(TypeError, rule, db.expire, "missing", "soon")


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "error"),
    [
        ("set", ("k", "v"), {"ttl": -1}, ValueError),
        ("set", ("k", "v"), {"ttl": "1"}, TypeError),
        ("expire", ("k", 0), {}, ValueError),
        ("expire", ("k", "1"), {}, TypeError),
    ],
    ids=["set-value", "set-type", "expire-value", "expire-type"],
)
def test_a_ttl_error_names_the_ttl(new_db, method, args, kwargs, error):
    db = new_db()
    db.set("k", "v")
    call = getattr(db, method)
    raised = check_raises(error, "a ttl is an int or a float, > 0", call, *args, **kwargs)
    assert "ttl" in str(raised).lower(), (
        f"{render_call(call, *args, **kwargs)} raised {error.__name__}({str(raised)!r}); "
        "expected a message naming the argument 'ttl' (errors say what was wrong)"
    )


@pytest.mark.parametrize(
    ("method", "args"), [("ttl", (1,)), ("expire", (1, 5))], ids=["ttl", "expire"]
)
def test_a_key_type_error_of_ttl_and_expire_names_the_key(new_db, method, args):
    db = new_db()
    call = getattr(db, method)
    raised = check_raises(TypeError, "keys are str", call, *args)
    assert "key" in str(raised).lower(), (
        f"{render_call(call, *args)} raised TypeError({str(raised)!r}); expected a message "
        "naming the argument 'key' (errors say what was wrong)"
    )


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("set", ("a", "2")),
        ("set", ("b", "2", 1)),
        ("get", ("a",)),
        ("delete", ("a",)),
        ("__len__", ()),
        ("ttl", ("a",)),
        ("expire", ("a", 1)),
    ],
    ids=["set", "set_ttl", "get", "delete", "len", "ttl", "expire"],
)
def test_each_operation_reads_the_clock_at_most_once(new_db, clock, method, args):
    db = new_db()
    db.set("a", "1", ttl=5)
    db.set("z", "1", ttl=1)
    clock.advance(1)
    before = clock.calls
    call = getattr(db, method)
    call(*args)
    reads = clock.calls - before
    assert reads <= 1, (
        f"{render_call(call, *args)} called clock() {reads} times; expected at most 1 "
        "(each operation reads the clock at most once)"
    )


def test_without_a_clock_argument_the_db_uses_real_time_in_seconds(impl):
    db = impl.InMemoryDB()
    db.set("a", "1", ttl=60)
    left = db.ttl("a")
    assert left is not None and 59 < left <= 60, (
        f"set('a', '1', ttl=60) then ttl('a') returned {left!r}; expected about 60.0 "
        "(the default clock is time.monotonic, in seconds)"
    )


@pytest.mark.perf(
    workload="30,000 writes of new keys with a 1 s TTL, the clock moving 1/1024 s per write "
    "(about 1,000 keys live); the memory of the last 10,000 is traced",
    reference="0.1 s CPU (0.6-0.9 s wall under a load of 15 on 2 cores), +107 kB",
    naive="a store that hides expired keys but keeps them grows by 2.0-2.9 MB (limit 512 kB)",
)
def test_expired_keys_are_reclaimed_without_being_read(new_db, clock):
    db = new_db()
    step = 1 / 1024  # exact in binary floating point: every expiry is exact

    def write(keys: range) -> None:
        for i in keys:
            db.set(f"key{i}", "v", ttl=1)
            clock.advance(step)

    write(range(20_000))  # warm-up, untraced: 1023 keys live from here on
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        write(range(20_000, 30_000))
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 512 * 1024, (
        f"memory grew by {growth // 1024} kB over 10,000 set(key, 'v', ttl=1) of new keys with "
        "about 1,000 keys live; expected under 512 kB (expired keys free their memory even "
        "if nobody reads them)"
    )
    # Key i (set at i * step) is live while now < i * step + 1, now = 30,000 * step.
    check_returns(1023, "after 30,000 writes, the last 1023 keys are live", len, db)
    check_returns("v", "key28977 was set 1023/1024 s ago with ttl=1", db.get, "key28977")
    check_returns(None, "key28976 was set exactly 1 s ago with ttl=1", db.get, "key28976")


@pytest.mark.perf(
    workload="80,000 sets of new keys with a TTL of 40,000 s, the clock moving 1 s per set, "
    "each followed by len(db) and a get (40,000 keys live once they start to expire)",
    reference="0.35 s CPU (1.5 s wall under a load of 15 on 2 cores)",
    naive="counting live keys by scanning them on every len() takes about 200 s CPU "
    "(extrapolated from 8,000 and 16,000 sets)",
)
def test_len_stays_cheap_while_many_keys_expire(new_db, clock):
    db = new_db()
    n, ttl = 80_000, 40_000
    for i in range(n):
        db.set(f"key{i}", "v", ttl=ttl)
        live = len(db)
        if live != min(i + 1, ttl):
            pytest.fail(
                f"len(db) returned {live} after {i + 1} sets, one a second with ttl={ttl}; "
                f"expected {min(i + 1, ttl)} (len counts exactly the live keys)",
                pytrace=False,
            )
        gone = db.get(f"key{i - ttl}")
        if gone is not None:
            pytest.fail(
                f"get('key{i - ttl}') returned {gone!r} {ttl} s after its set with ttl={ttl}; "
                "expected None (a key is gone at exactly set time + ttl)",
                pytrace=False,
            )
        clock.advance(1)
    check_returns("v", f"key{n - ttl + 1} has 1 s left", db.get, f"key{n - ttl + 1}")
