"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. Each rule makes one
call of the code under test; the invariants read the whole view after every
step. Keys come from a seven-key alphabet ("", "a", "b", "aa", "ab", "ba",
"bb") so that sets, deletes and prefixes collide, and the clock moves in
quarter seconds so that expiries actually pass; every time stays exact in
floating point.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from dojo.testing import (
    FakeClock,
    ModelMachine,
    check_raises,
    check_returns,
    run_machine,
    shrinks,
)

ALL_KEYS = ["", "a", "b", "aa", "ab", "ba", "bb"]
KEYS = st.sampled_from(ALL_KEYS)
VALUES = st.sampled_from(["", "x", "y"])
NOT_STR = st.sampled_from([None, 1, b"a"])
TTLS = st.sampled_from([0.25, 0.5, 1])
BAD_TTLS = st.sampled_from(
    [
        *[(bad, ValueError) for bad in (0, -0.25, math.nan, math.inf)],
        *[(bad, TypeError) for bad in ("1", True, b"1")],
    ]
)
STEPS = st.sampled_from([0.25, 0.5])

Entry = tuple[str, float | None]  # (value, expiry); None: never expires


class Aborted(Exception):
    """Raised inside a transaction block to roll it back."""


class Model:
    """The spec, written as plainly as possible.

    ``data`` maps each key ever set and not deleted to ``(value, expiry)``;
    whether it is live is decided on every read. A transaction is a saved copy
    of ``data``: commit forgets the copy, rollback puts it back.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.data: dict[str, Entry] = {}
        self.saved: list[dict[str, Entry]] = []

    def live(self) -> dict[str, Entry]:
        now = self.clock.now
        return {k: e for k, e in self.data.items() if e[1] is None or now < e[1]}


class KeyValueMachine(ModelMachine):
    """Stage 1: set, get, delete and calls rejected for their types; len, get after each step."""

    def __init__(self, impl) -> None:
        super().__init__()
        self.impl = impl
        self.clock = FakeClock()
        self.db = impl.InMemoryDB(clock=self.clock)
        self.model = Model(self.clock)

    @rule(key=KEYS, value=VALUES)
    def set_value(self, key, value):
        check_returns(None, "set returns None", self.db.set, key, value)
        self.model.data[key] = (value, None)

    @rule(key=KEYS)
    def get_value(self, key):
        entry = self.model.live().get(key)
        expected = None if entry is None else entry[0]
        check_returns(expected, "get returns the live value or None", self.db.get, key)

    @rule(key=KEYS)
    def delete_key(self, key):
        present = key in self.model.live()
        if present:
            del self.model.data[key]
        check_returns(present, "delete returns whether the key was live", self.db.delete, key)

    @rule(bad=NOT_STR)
    def reject_a_non_str_key_in_set(self, bad):
        check_raises(
            TypeError, "keys are str; a rejected call changes nothing", self.db.set, bad, "v"
        )

    @rule(key=KEYS, bad=NOT_STR)
    def reject_a_non_str_value_in_set(self, key, bad):
        check_raises(
            TypeError, "values are str; a rejected call changes nothing", self.db.set, key, bad
        )

    @rule(bad=NOT_STR)
    def reject_a_non_str_key_in_get(self, bad):
        check_raises(TypeError, "keys are str", self.db.get, bad)

    @rule(bad=NOT_STR)
    def reject_a_non_str_key_in_delete(self, bad):
        check_raises(
            TypeError, "keys are str; a rejected call changes nothing", self.db.delete, bad
        )

    @invariant()
    def len_counts_the_live_keys(self):
        check_returns(len(self.model.live()), "len counts the live keys", len, self.db)

    @invariant()
    def every_key_has_its_live_value(self):
        live = self.model.live()
        for key in ALL_KEYS:
            expected = live[key][0] if key in live else None
            check_returns(expected, "after every step, get agrees with the model", self.db.get, key)

    @invariant()
    def the_internal_invariants_hold(self):
        check = getattr(self.db, "_check", None)  # the reference's; a learner's may have none
        if check is not None:
            check()


class ExpiryMachine(KeyValueMachine):
    """Stage 2: adds the clock, set with a ttl, expire and rejected ttls; ttl after each step."""

    @rule(seconds=STEPS)
    def advance_clock(self, seconds):
        self.clock.advance(seconds)

    @rule(key=KEYS, value=VALUES, ttl=TTLS)
    def set_with_ttl(self, key, value, ttl):
        check_returns(None, "set returns None", self.db.set, key, value, ttl=ttl)
        self.model.data[key] = (value, self.clock.now + ttl)

    @rule(key=KEYS, ttl=TTLS)
    def expire_key(self, key, ttl):
        entry = self.model.live().get(key)
        if entry is not None:
            self.model.data[key] = (entry[0], self.clock.now + ttl)
        why = "expire returns whether the key was live, and gives it the expiry now + ttl"
        check_returns(entry is not None, why, self.db.expire, key, ttl)

    @rule(key=KEYS, value=VALUES, bad=BAD_TTLS)
    def reject_a_bad_ttl_in_set(self, key, value, bad):
        ttl, error = bad
        why = "a ttl is an int or a float, finite and > 0; a rejected call changes nothing"
        check_raises(error, why, self.db.set, key, value, ttl=ttl)

    @rule(key=KEYS, bad=BAD_TTLS)
    def reject_a_bad_ttl_in_expire(self, key, bad):
        ttl, error = bad
        why = "a ttl is an int or a float, finite and > 0, checked before the lookup"
        check_raises(error, why, self.db.expire, key, ttl)

    @invariant()
    def every_key_has_its_ttl(self):
        live, now = self.model.live(), self.clock.now
        for key in ALL_KEYS:
            expiry = live[key][1] if key in live else None
            expected = None if key not in live else math.inf if expiry is None else expiry - now
            why = f"at {now}: ttl is expiry - clock(), math.inf or None"
            check_returns(expected, why, self.db.ttl, key)


class TransactionMachine(ExpiryMachine):
    """Stage 3: adds begin, commit, rollback and transaction blocks."""

    @rule()
    def begin(self):
        check_returns(None, "begin returns None", self.db.begin)
        self.model.saved.append(dict(self.model.data))

    @rule()
    def commit(self):
        if not self.model.saved:
            check_raises(self.impl.TransactionError, "no transaction is open", self.db.commit)
            return
        check_returns(None, "commit returns None", self.db.commit)
        self.model.saved.pop()

    @rule()
    def rollback(self):
        if not self.model.saved:
            check_raises(self.impl.TransactionError, "no transaction is open", self.db.rollback)
            return
        check_returns(None, "rollback returns None", self.db.rollback)
        self.model.data = self.model.saved.pop()

    @rule(key=KEYS, value=VALUES, fails=st.booleans())
    def transaction_block(self, key, value, fails):
        """One operation: a block that sets a key, left normally or by an exception."""
        try:
            with self.db.transaction() as tx:
                tx.set(key, value)
                if fails:
                    raise Aborted
        except Aborted:
            return
        self.model.data[key] = (value, None)


class ScanMachine(TransactionMachine):
    """Stage 4: adds scan with a prefix and a limit; a full scan after every step."""

    def pairs(self, prefix: str) -> list[tuple[str, str]]:
        return sorted((k, e[0]) for k, e in self.model.live().items() if k.startswith(prefix))

    @rule(prefix=KEYS, limit=st.none() | st.integers(0, 3))
    def scan(self, prefix, limit):
        expected = self.pairs(prefix)[:limit]
        why = "the live pairs whose key starts with prefix, sorted, at most limit"
        check_returns(expected, why, self.db.scan, prefix, limit)

    @invariant()
    def a_full_scan_lists_every_live_pair(self):
        check_returns(self.pairs(""), "scan() lists every live pair, sorted", self.db.scan)


@shrinks
@pytest.mark.stage(1)
def test_random_sets_gets_and_deletes_agree_with_a_dict(impl):
    run_machine(lambda: KeyValueMachine(impl), examples=10, steps=20)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_expiry_agree_with_the_model(impl):
    run_machine(lambda: ExpiryMachine(impl), examples=50, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_transactions_agree_with_the_model(impl):
    run_machine(lambda: TransactionMachine(impl), examples=50, steps=40)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_scans_agree_with_the_model(impl):
    run_machine(lambda: ScanMachine(impl), examples=50, steps=45)
