"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. Keys come from a
seven-key alphabet ("", "a", "b", "aa", "ab", "ba", "bb") so that sets,
deletes and prefixes collide, and the clock moves in quarter seconds so that
expiries actually pass; every time stays exact in floating point.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

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


class Aborted(Exception):
    """Raised inside a transaction block to roll it back."""


class Model:
    """The spec, written as plainly as possible.

    ``data`` maps each key ever set and not deleted to ``(value, expiry)``;
    whether it is live is decided on every read. A transaction is a saved copy
    of ``data``: commit forgets the copy, rollback puts it back.
    """

    def __init__(self, clock) -> None:
        self.clock = clock
        self.data: dict[str, tuple[str, float | None]] = {}
        self.saved: list[dict[str, tuple[str, float | None]]] = []

    def live(self) -> dict[str, tuple[str, float | None]]:
        now = self.clock.now
        return {k: e for k, e in self.data.items() if e[1] is None or now < e[1]}


class KeyValueMachine(RuleBasedStateMachine):
    """Stage 1: set, delete and calls rejected for their types; get and len after every step."""

    def __init__(self, impl, clock) -> None:
        super().__init__()
        self.impl = impl
        self.clock = clock
        self.db = impl.InMemoryDB(clock=clock)
        self.model = Model(clock)

    @rule(key=KEYS, value=VALUES)
    def set_value(self, key, value):
        self.db.set(key, value)
        self.model.data[key] = (value, None)

    @rule(key=KEYS)
    def delete_key(self, key):
        present = key in self.model.live()
        if present:
            del self.model.data[key]
        assert self.db.delete(key) is present

    @rule(key=KEYS, bad=NOT_STR)
    def reject_a_non_str(self, key, bad):
        for call in (
            lambda: self.db.set(bad, "v"),
            lambda: self.db.set(key, bad),
            lambda: self.db.get(bad),
            lambda: self.db.delete(bad),
        ):
            with pytest.raises(TypeError):
                call()

    @invariant()
    def same_keys_and_values(self):
        live = self.model.live()
        assert len(self.db) == len(live)
        assert [self.db.get(k) for k in ALL_KEYS] == [live.get(k, (None,))[0] for k in ALL_KEYS]
        check = getattr(self.db, "_check", None)
        if check is not None:
            check()


class ExpiryMachine(KeyValueMachine):
    """Stage 2: adds the clock, set with a ttl, expire and rejected ttls; ttl after every step."""

    @rule(seconds=STEPS)
    def advance_clock(self, seconds):
        self.clock.advance(seconds)

    @rule(key=KEYS, value=VALUES, ttl=TTLS)
    def set_with_ttl(self, key, value, ttl):
        self.db.set(key, value, ttl=ttl)
        self.model.data[key] = (value, self.clock.now + ttl)

    @rule(key=KEYS, ttl=TTLS)
    def expire_key(self, key, ttl):
        entry = self.model.live().get(key)
        if entry is not None:
            self.model.data[key] = (entry[0], self.clock.now + ttl)
        assert self.db.expire(key, ttl) is (entry is not None)

    @rule(key=KEYS, value=VALUES, bad=BAD_TTLS)
    def reject_a_bad_ttl(self, key, value, bad):
        ttl, error = bad
        with pytest.raises(error):
            self.db.set(key, value, ttl=ttl)
        with pytest.raises(error):
            self.db.expire(key, ttl)

    @invariant()
    def same_ttls(self):
        live, now = self.model.live(), self.clock.now
        expected = [
            None if k not in live else math.inf if live[k][1] is None else live[k][1] - now
            for k in ALL_KEYS
        ]
        assert [self.db.ttl(k) for k in ALL_KEYS] == expected


class TransactionMachine(ExpiryMachine):
    """Stage 3: adds begin, commit, rollback and transaction blocks."""

    @rule()
    def begin(self):
        self.db.begin()
        self.model.saved.append(dict(self.model.data))

    @rule()
    def commit(self):
        if not self.model.saved:
            with pytest.raises(self.impl.TransactionError):
                self.db.commit()
            return
        self.db.commit()
        self.model.saved.pop()

    @rule()
    def rollback(self):
        if not self.model.saved:
            with pytest.raises(self.impl.TransactionError):
                self.db.rollback()
            return
        self.db.rollback()
        self.model.data = self.model.saved.pop()

    @rule(key=KEYS, value=VALUES, fails=st.booleans())
    def transaction_block(self, key, value, fails):
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
        assert self.db.scan(prefix, limit) == self.pairs(prefix)[:limit]

    @invariant()
    def same_scan(self):
        assert self.db.scan() == self.pairs("")


# Finding a bug takes a fraction of a second; shrinking it to the short
# counterexample a learner can read takes up to ~10 s (measured on planted
# bugs), hence a longer per-test timeout than the 10 s default.
shrinks = pytest.mark.timeout(30)


def run(machine, impl, make_clock, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: machine(impl, make_clock()),
        settings=settings(max_examples=examples, stateful_step_count=steps),
    )


@shrinks
@pytest.mark.stage(1)
def test_random_sets_gets_and_deletes_agree_with_a_dict(impl, make_clock):
    run(KeyValueMachine, impl, make_clock, examples=10, steps=20)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_expiry_agree_with_the_model(impl, make_clock):
    run(ExpiryMachine, impl, make_clock, examples=50, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_transactions_agree_with_the_model(impl, make_clock):
    run(TransactionMachine, impl, make_clock, examples=50, steps=40)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_scans_agree_with_the_model(impl, make_clock):
    run(ScanMachine, impl, make_clock, examples=50, steps=45)
