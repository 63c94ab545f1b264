"""Stage 3: nested transactions (spec: stages/inmem_db/stage3.md)."""

from __future__ import annotations

import math

import pytest

from dojo.testing import check_raises, check_returns, render_call

from .examples import replay_with_clock, spec_tables

pytestmark = pytest.mark.stage(3)


class BodyError(Exception):
    """Raised by a test inside a transaction block."""


def check_view(db, rule: str, **expected: str | None) -> None:
    """``get`` of each key returns its expected value (None: no live key)."""
    for key, value in expected.items():
        check_returns(value, rule, db.get, key)


def check_transaction_error(impl, rule: str, function, *args) -> None:
    """The call raises TransactionError, whose message has the word 'transaction'."""
    error = check_raises(impl.TransactionError, rule, function, *args)
    assert "transaction" in str(error).lower(), (
        f"{render_call(function, *args)} raised TransactionError({str(error)!r}); expected a "
        "message with the word 'transaction' (a TransactionError says what was wrong)"
    )


@spec_tables(3)
def test_the_spec_example_table_holds(impl, table):
    replay_with_clock(impl, table, "TransactionError")


def test_a_change_inside_a_transaction_is_visible_inside_it(new_db):
    db = new_db()
    db.set("a", "1")
    db.begin()
    db.set("a", "2")
    db.set("b", "3")
    rule = "reads inside a transaction see its changes"
    check_view(db, rule, a="2", b="3")
    check_returns(2, rule, len, db)


def test_commit_applies_the_changes_to_the_store(impl, new_db):
    db = new_db()
    db.set("a", "1")
    db.set("c", "4")
    db.begin()
    db.set("a", "2")
    db.set("b", "3")
    check_returns(True, "c is live in the transaction's view", db.delete, "c")
    db.commit()
    rule = "commit applies set a, set b and delete c to the store"
    check_view(db, rule, a="2", b="3", c=None)
    check_returns(2, rule, len, db)
    check_transaction_error(impl, "the commit closed the only transaction", db.rollback)


def test_rollback_discards_the_changes(new_db):
    db = new_db()
    db.set("a", "1")
    db.set("c", "4")
    db.begin()
    db.set("a", "2")
    db.set("b", "3")
    db.delete("c")
    db.rollback()
    rule = "rollback restores every key as it was at begin"
    check_view(db, rule, a="1", b=None, c="4")
    check_returns(2, rule, len, db)


def test_delete_inside_a_transaction_sees_the_transaction(new_db):
    db = new_db()
    db.set("a", "1")
    db.begin()
    check_returns(True, "a is live in the transaction's view", db.delete, "a")
    check_returns(None, "a is deleted in the transaction's view", db.get, "a")
    check_returns(False, "a is already deleted in the transaction's view", db.delete, "a")
    check_returns(0, "a is deleted in the transaction's view", len, db)
    db.set("b", "2")
    check_returns(True, "a key set in a transaction can be deleted in it", db.delete, "b")
    check_returns(None, "b was set, then deleted in the transaction", db.get, "b")
    check_returns(0, "b was set, then deleted in the transaction", len, db)
    db.set("a", "3")
    check_returns("3", "a key deleted in a transaction can be set again", db.get, "a")
    check_returns(1, "a key deleted in a transaction can be set again", len, db)


def test_a_key_deleted_in_a_transaction_is_deleted_from_the_store_on_commit(new_db):
    db = new_db()
    db.set("a", "1")
    db.set("b", "2")
    db.begin()
    db.delete("a")
    db.set("c", "3")
    db.delete("c")
    db.commit()
    rule = "the committed deletes of a and c apply to the store"
    check_view(db, rule, a=None, b="2", c=None)
    check_returns(1, rule, len, db)


def test_an_inner_commit_merges_into_the_enclosing_transaction(new_db):
    db = new_db()
    db.begin()
    db.set("a", "outer")
    db.begin()
    db.set("a", "inner")
    db.set("b", "inner")
    db.commit()
    check_view(db, "after an inner commit the enclosing one sees its changes", a="inner", b="inner")
    db.rollback()
    rule = "an inner commit does not reach the store: the outer rollback discards it"
    check_view(db, rule, a=None, b=None)
    check_returns(0, rule, len, db)


def test_rollback_discards_only_the_innermost_transaction(new_db):
    db = new_db()
    db.set("a", "0")
    db.begin()
    db.set("a", "1")
    db.begin()
    db.set("a", "2")
    db.delete("a")
    db.rollback()
    check_returns("1", "rollback restores the enclosing transaction's view", db.get, "a")
    db.commit()
    check_returns("1", "the outer transaction was still open and commits", db.get, "a")


def test_the_outermost_commit_applies_every_nested_change(new_db):
    db = new_db()
    db.begin()
    db.set("a", "1")
    db.begin()
    db.set("b", "2")
    db.begin()
    db.delete("a")
    db.commit()
    db.commit()
    db.commit()
    rule = "three nested commits: set a, set b, delete a reach the store"
    check_view(db, rule, a=None, b="2")
    check_returns(1, rule, len, db)


def test_transactions_nest_to_any_depth(new_db):
    db = new_db()
    depth = 200
    for level in range(depth):
        db.begin()
        db.set(f"k{level}", str(level))
        db.set("top", str(level))
    check_returns(depth + 1, f"{depth} nested transactions, each setting a key and top", len, db)
    for level in reversed(range(depth)):
        why = f"each rollback discards one level: {depth - 1 - level} done, level {level} is next"
        check_returns(str(level), why, db.get, "top")
        db.rollback()
    check_returns(0, f"{depth} rollbacks discard everything", len, db)


def test_len_inside_nested_transactions_counts_their_view(new_db):
    db = new_db()
    for key in "abc":
        db.set(key, key)
    db.begin()
    db.delete("a")
    db.set("d", "d")
    db.set("g", "g")
    check_returns(4, "b, c, d and g are live in the outer view", len, db)
    db.begin()
    db.set("a", "again")
    db.delete("b")
    db.delete("d")
    db.set("e", "e")
    db.set("f", "f")
    check_returns(5, "a, c, e, f and g are live in the inner view", len, db)
    db.rollback()
    check_returns(4, "rollback restores the outer view: b, c, d and g", len, db)
    db.rollback()
    check_returns(3, "rollback restores the store: a, b and c", len, db)


@pytest.mark.parametrize("close", ["commit", "rollback"])
def test_closing_with_no_open_transaction_raises_transaction_error(impl, new_db, close):
    db = new_db()
    db.set("a", "1")
    rule = "commit and rollback need an open transaction"
    check_transaction_error(impl, rule, getattr(db, close))
    db.begin()
    db.commit()
    check_transaction_error(impl, rule, getattr(db, close))
    check_returns("1", "a rejected commit or rollback changes nothing", db.get, "a")
    check_returns(1, "a rejected commit or rollback changes nothing", len, db)


def test_transaction_error_is_a_runtime_error(impl, new_db):
    db = new_db()
    assert issubclass(impl.TransactionError, RuntimeError), (
        f"TransactionError has the bases {impl.TransactionError.__mro__[1:]}; "
        "expected a subclass of RuntimeError"
    )
    check_raises(RuntimeError, "TransactionError is a RuntimeError", db.commit)


def test_a_rejected_call_inside_a_transaction_changes_nothing(new_db):
    db = new_db()
    db.set("a", "1")
    db.begin()
    check_raises(TypeError, "values are str", db.set, "a", 2)
    check_raises(ValueError, "a ttl is > 0", db.set, "a", "2", ttl=0)
    check_raises(ValueError, "a ttl is > 0", db.expire, "a", -1)
    db.commit()
    rule = "rejected calls inside a transaction change nothing, and it stays open"
    check_returns("1", rule, db.get, "a")
    check_returns(math.inf, rule, db.ttl, "a")


def test_a_ttl_set_in_a_transaction_counts_from_the_set_not_the_commit(new_db, clock):
    db = new_db()
    db.begin()
    db.set("a", "1", ttl=10)
    clock.advance(4)
    check_returns(6.0, "ttl inside the transaction sees its expiry, 1010", db.ttl, "a")
    db.commit()
    check_returns(6.0, "the expiry was fixed by the set, not moved by the commit", db.ttl, "a")
    clock.advance(6)
    check_returns(None, "set at 1000 with ttl=10 inside a transaction: gone at 1010", db.get, "a")


def test_a_key_expiring_while_a_transaction_is_open_is_invisible_inside_it(new_db, clock):
    db = new_db()
    db.set("stored", "1", ttl=5)
    db.begin()
    db.set("local", "2", ttl=3)
    db.set("kept", "3")
    clock.advance(3)
    rule = "local, set in the transaction with ttl=3, expired at 1003 inside it"
    check_returns(None, rule, db.get, "local")
    check_returns(None, rule, db.ttl, "local")
    check_returns("1", "stored expires at 1005", db.get, "stored")
    clock.advance(2)
    rule = "stored, set in the store with ttl=5, expired at 1005 inside the transaction"
    check_returns(None, rule, db.get, "stored")
    check_returns(False, rule, db.delete, "stored")
    why = "len does not count keys that expired while the transaction is open: only kept is live"
    check_returns(1, why, len, db)
    db.commit()
    rule = "after the commit at 1005, local and stored are expired, kept is live"
    check_view(db, rule, local=None, stored=None, kept="3")
    check_returns(1, rule, len, db)


def test_expire_inside_a_transaction_is_rolled_back_with_it(new_db, clock):
    db = new_db()
    db.set("a", "1")
    db.set("b", "2", ttl=10)
    db.begin()
    check_returns(True, "a is live in the transaction", db.expire, "a", 2)
    check_returns(True, "b is live in the transaction", db.expire, "b", 1)
    check_returns(2.0, "the transaction sees its expire('a', 2)", db.ttl, "a")
    check_returns(1.0, "the transaction sees its expire('b', 1)", db.ttl, "b")
    db.rollback()
    check_returns(math.inf, "rollback restores a's absent expiry", db.ttl, "a")
    check_returns(10.0, "rollback restores b's expiry, 1010", db.ttl, "b")
    clock.advance(5)
    check_view(db, "the rolled-back expiries no longer apply at 1005", a="1", b="2")


def test_expire_inside_a_transaction_applies_on_commit(new_db, clock):
    db = new_db()
    db.set("a", "1")
    db.begin()
    db.expire("a", 2)
    db.commit()
    clock.advance(2)
    check_returns(None, "expire('a', 2) at 1000, committed: a is gone at 1002", db.get, "a")


def test_set_without_ttl_inside_a_transaction_clears_the_expiry(new_db, clock):
    db = new_db()
    db.set("a", "1", ttl=2)
    db.begin()
    db.set("a", "2")
    db.commit()
    clock.advance(10)
    rule = "set('a', '2') without ttl, committed, removes the expiry 1002"
    check_returns("2", rule, db.get, "a")
    check_returns(math.inf, rule, db.ttl, "a")


def test_a_transaction_block_commits_on_normal_exit(impl, new_db):
    db = new_db()
    db.set("a", "1")
    with db.transaction() as tx:
        assert tx is db, f"`with db.transaction() as tx` bound tx to {tx!r}; expected the db"
        db.set("a", "2")
        db.set("b", "3")
        check_returns("2", "inside the block, reads see its changes", db.get, "a")
    check_view(db, "the block committed when it ended", a="2", b="3")
    check_transaction_error(impl, "the block closed its transaction", db.commit)


def test_a_transaction_block_rolls_back_and_reraises_on_an_exception(impl, new_db):
    db = new_db()
    db.set("a", "1")
    with pytest.raises(BodyError), db.transaction():
        db.set("a", "2")
        db.delete("a")
        raise BodyError
    check_returns("1", "a block left by an exception rolls back", db.get, "a")
    check_transaction_error(impl, "the block closed its transaction", db.commit)


def test_a_transaction_block_rolls_back_on_keyboard_interrupt(impl, new_db):
    db = new_db()
    db.set("a", "1")
    with pytest.raises(KeyboardInterrupt), db.transaction():
        db.set("a", "2")
        raise KeyboardInterrupt
    check_returns("1", "any BaseException rolls the block back", db.get, "a")
    check_transaction_error(impl, "the block closed its transaction", db.rollback)


def test_transaction_blocks_nest(new_db):
    db = new_db()
    with db.transaction():
        db.set("a", "outer")
        with pytest.raises(BodyError), db.transaction():
            db.set("a", "inner")
            db.set("b", "inner")
            raise BodyError
        check_view(db, "only the inner block rolled back", a="outer", b=None)
        with db.transaction():
            db.set("c", "inner")
    check_view(
        db,
        "the outer block committed itself and the second inner one",
        a="outer",
        b=None,
        c="inner",
    )


def test_a_transaction_block_nests_inside_begin(new_db):
    db = new_db()
    db.begin()
    with db.transaction():
        db.set("a", "1")
    check_returns("1", "the block committed into the enclosing transaction", db.get, "a")
    db.rollback()
    check_returns(None, "the block committed into the enclosing transaction only", db.get, "a")


@pytest.mark.parametrize("close", ["commit", "rollback"])
def test_a_block_whose_body_closes_its_transaction_raises_on_exit(impl, new_db, close):
    db = new_db()
    with pytest.raises(impl.TransactionError) as excinfo, db.transaction():
        db.set("a", "1")
        getattr(db, close)()
    assert "transaction" in str(excinfo.value).lower(), (
        f"a block whose body called {close}() raised TransactionError({str(excinfo.value)!r}); "
        "expected a message with the word 'transaction' (a TransactionError says what was wrong)"
    )
    rule = f"the body's {close}() stands; the block closes nothing"
    check_returns("1" if close == "commit" else None, rule, db.get, "a")
    check_transaction_error(impl, "nothing is left open", db.rollback)


def test_the_exit_error_is_chained_from_the_body_exception(impl, new_db):
    db = new_db()
    error = BodyError("boom")
    with pytest.raises(impl.TransactionError) as excinfo, db.transaction():
        db.rollback()
        raise error
    assert excinfo.value.__cause__ is error, (
        f"the TransactionError's __cause__ is {excinfo.value.__cause__!r}; expected the body's "
        f"{error!r} (raise TransactionError(...) from the body's exception)"
    )


def test_a_block_whose_body_leaves_a_transaction_open_raises_and_closes_nothing(impl, new_db):
    db = new_db()
    with pytest.raises(impl.TransactionError), db.transaction():
        db.set("a", "1")
        db.begin()
        db.set("b", "2")
    check_view(db, "both transactions are still open", a="1", b="2")
    db.rollback()
    check_view(db, "the first rollback closes the body's transaction", a="1", b=None)
    db.rollback()
    check_returns(None, "the second rollback closes the block's transaction", db.get, "a")
    check_transaction_error(impl, "nothing is left open", db.rollback)


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
        ("begin", ()),
        ("commit", ()),
        ("rollback", ()),
    ],
    ids=["set", "set_ttl", "get", "delete", "len", "ttl", "expire", "begin", "commit", "rollback"],
)
def test_each_operation_inside_a_transaction_reads_the_clock_at_most_once(
    new_db, clock, method, args
):
    db = new_db()
    db.set("a", "1", ttl=5)
    db.begin()
    db.set("z", "1", ttl=1)
    db.begin()
    clock.advance(1)
    before = clock.calls
    call = getattr(db, method)
    call(*args)
    reads = clock.calls - before
    assert reads <= 1, (
        f"{render_call(call, *args)} in a nested transaction called clock() {reads} times; "
        "expected at most 1 (each operation reads the clock at most once)"
    )


@pytest.mark.perf(
    workload="200,000 keys, then 50,000 transactions that each set an existing key and a "
    "new key, read len(db) and commit",
    reference="0.45-0.5 s CPU (1.8-2.1 s wall under a load of 15 on 2 cores)",
    naive="copying the store at begin() takes over 160 s, and a len() that builds the whole "
    "merged view about 2,000 s CPU (extrapolated from 250 and 500 transactions)",
)
def test_transactions_hold_only_their_changes(new_db):
    db = new_db()
    size, transactions = 200_000, 50_000
    keys = [f"key{i}" for i in range(size)]
    for key in keys:
        db.set(key, "0")
    for i, key in enumerate(keys[:transactions]):
        db.begin()
        db.set(key, "1")
        db.set(f"new{i}", "1")
        live = len(db)
        if live != size + i + 1:
            pytest.fail(
                f"len(db) returned {live} in transaction {i + 1} (set {key!r}, set 'new{i}'); "
                f"expected {size + i + 1} (len inside a transaction counts its view)",
                pytrace=False,
            )
        db.commit()
    check_returns("1", "committed in the first transaction", db.get, keys[0])
    check_returns("0", "never changed", db.get, keys[transactions])
    check_returns(size + transactions, "every transaction added one key", len, db)
