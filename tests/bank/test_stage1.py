"""Stage 1: accounts, deposits and transfers (spec: stages/bank/stage1.md)."""

from __future__ import annotations

import pytest

from tests.bank.helpers import bank_with

pytestmark = pytest.mark.stage(1)

# The example table of stage1.md, row by row.
EXAMPLE = [
    ("create_account", (1, "alice"), True),
    ("create_account", (2, "alice"), False),
    ("create_account", (2, "bob"), True),
    ("deposit", (3, "alice", 500), 500),
    ("deposit", (3, "carol", 10), None),
    ("transfer", (4, "alice", "bob", 200), 300),
    ("transfer", (5, "bob", "alice", 201), None),
    ("transfer", (5, "bob", "bob", 1), None),
    ("transfer", (5, "alice", "dave", 1), None),
    ("transfer", (6, "bob", "alice", 200), 0),
    ("deposit", (6, "bob", 0), ValueError),
    ("deposit", (6, "bob", True), TypeError),
    ("deposit", (5, "bob", 1), ValueError),
    ("deposit", (5, "", "1"), TypeError),
    ("create_account", (6, ""), ValueError),
    ("create_account", (-1, "erin"), ValueError),
    ("deposit", (6, "bob", 7), 7),
    ("deposit", (6, "alice", 1), 501),
]

NOT_INT = [True, False, 1.0, "1", None, b"1"]
NOT_STR = [1, None, b"a", ("a",)]


def test_the_example_table_replays_row_by_row(new_bank, replay):
    replay(new_bank(), EXAMPLE)


def test_create_account_returns_true_then_false_for_an_existing_id(new_bank):
    bank = new_bank()
    assert bank.create_account(0, "a") is True
    assert bank.create_account(1, "a") is False, "an id that exists cannot be created again"
    assert bank.create_account(1, "b") is True


def test_create_account_of_an_existing_id_keeps_its_balance(new_bank):
    bank = bank_with(new_bank, a=70)
    assert bank.create_account(1, "a") is False
    assert bank.deposit(2, "a", 1) == 71, "a failed create_account changes nothing"


def test_deposit_returns_the_new_balance(new_bank):
    bank = bank_with(new_bank, a=0)
    assert [bank.deposit(t, "a", 25) for t in (1, 2, 3)] == [25, 50, 75], (
        "deposit returns the balance after the deposit, starting from 0"
    )


def test_deposit_to_a_missing_account_returns_none_and_creates_nothing(new_bank):
    bank = bank_with(new_bank, a=5)
    assert bank.deposit(1, "b", 10) is None, "deposit to a missing account returns None"
    assert bank.create_account(2, "b") is True, "deposit must not create the account"
    assert bank.deposit(3, "b", 1) == 1


def test_transfer_moves_the_amount_and_returns_the_source_balance(new_bank):
    bank = bank_with(new_bank, a=100, b=10)
    assert bank.transfer(1, "a", "b", 30) == 70, "transfer returns the source's new balance"
    assert bank.deposit(2, "b", 1) == 41, "the target received the amount"
    assert bank.deposit(2, "a", 1) == 71


def test_a_transfer_may_empty_the_source(new_bank):
    bank = bank_with(new_bank, a=100, b=0)
    assert bank.transfer(1, "a", "b", 100) == 0
    assert bank.deposit(2, "b", 1) == 101


def test_a_transfer_beyond_the_balance_returns_none_and_moves_nothing(new_bank):
    bank = bank_with(new_bank, a=100, b=10)
    assert bank.transfer(1, "a", "b", 101) is None, "insufficient funds: None"
    assert bank.transfer(1, "b", "a", 11) is None
    assert (bank.deposit(2, "a", 1), bank.deposit(2, "b", 1)) == (101, 11)


@pytest.mark.parametrize(
    ("source", "target"), [("a", "zz"), ("zz", "a"), ("zz", "yy")], ids=["target", "source", "both"]
)
def test_a_transfer_with_a_missing_account_returns_none(new_bank, source, target):
    bank = bank_with(new_bank, a=100)
    assert bank.transfer(1, source, target, 10) is None, "a missing account: None"
    assert bank.deposit(2, "a", 1) == 101, "nothing moved"
    assert bank.deposit(2, "zz", 1) is None, "nothing was created"


def test_a_transfer_to_the_same_account_returns_none(new_bank):
    bank = bank_with(new_bank, a=100)
    assert bank.transfer(1, "a", "a", 10) is None, "source and target are the same account"
    assert bank.transfer(1, "zz", "zz", 10) is None
    assert bank.deposit(2, "a", 1) == 101


def test_ids_are_compared_exactly(new_bank):
    bank = new_bank()
    ids = ["a", "A", "a ", "é"]
    assert [bank.create_account(0, i) for i in ids] == [True] * 4, "four different accounts"
    assert [bank.deposit(1, i, n) for n, i in enumerate(ids, 1)] == [1, 2, 3, 4]


def test_subclasses_of_str_and_int_are_accepted(new_bank):
    class Name(str):
        pass

    class Millis(int):
        pass

    bank = new_bank()
    assert bank.create_account(Millis(1), Name("a")) is True
    assert bank.deposit(Millis(2), "a", Millis(5)) == 5
    assert bank.deposit(3, Name("a"), 1) == 6, "a str subclass names the same account"


def test_timestamp_zero_is_accepted(new_bank):
    bank = new_bank()
    assert bank.create_account(0, "a") is True
    assert bank.deposit(0, "a", 1) == 1


@pytest.mark.parametrize("bad", NOT_INT, ids=repr)
def test_a_timestamp_or_amount_that_is_not_an_int_raises_type_error(new_bank, bad):
    bank = bank_with(new_bank, a=10, b=0)
    calls = [
        lambda: bank.create_account(bad, "c"),
        lambda: bank.deposit(bad, "a", 1),
        lambda: bank.deposit(1, "a", bad),
        lambda: bank.transfer(bad, "a", "b", 1),
        lambda: bank.transfer(1, "a", "b", bad),
    ]
    for call in calls:
        with pytest.raises(TypeError) as excinfo:
            call()
        assert str(excinfo.value), "the TypeError must say what was wrong"
    assert bank.create_account(0, "c") is True, "rejected calls changed nothing, time included"
    assert bank.transfer(0, "a", "b", 10) == 0


@pytest.mark.parametrize("bad", NOT_STR, ids=repr)
def test_an_account_id_that_is_not_a_str_raises_type_error(new_bank, bad):
    bank = bank_with(new_bank, a=10)
    calls = [
        lambda: bank.create_account(1, bad),
        lambda: bank.deposit(1, bad, 1),
        lambda: bank.transfer(1, bad, "a", 1),
        lambda: bank.transfer(1, "a", bad, 1),
    ]
    for call in calls:
        with pytest.raises(TypeError) as excinfo:
            call()
        assert str(excinfo.value), "the TypeError must say what was wrong"
    assert bank.deposit(0, "a", 1) == 11, "rejected calls changed nothing"


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_an_amount_that_is_not_positive_raises_value_error(new_bank, amount):
    bank = bank_with(new_bank, a=10, b=0)
    for call in (lambda: bank.deposit(1, "a", amount), lambda: bank.transfer(1, "a", "b", amount)):
        with pytest.raises(ValueError) as excinfo:
            call()
        assert str(excinfo.value), "the ValueError must say what was wrong"
    assert bank.deposit(0, "a", 1) == 11, "rejected calls changed nothing"


def test_an_empty_account_id_raises_value_error(new_bank):
    bank = bank_with(new_bank, a=10)
    for call in (
        lambda: bank.create_account(1, ""),
        lambda: bank.deposit(1, "", 1),
        lambda: bank.transfer(1, "", "a", 1),
        lambda: bank.transfer(1, "a", "", 1),
        lambda: bank.transfer(1, "", "", 1),
    ):
        with pytest.raises(ValueError):
            call()
    assert bank.deposit(0, "a", 1) == 11


def test_a_negative_timestamp_raises_value_error(new_bank):
    bank = new_bank()
    with pytest.raises(ValueError):
        bank.create_account(-1, "a")
    assert bank.create_account(0, "a") is True, "the rejected call created nothing"
    with pytest.raises(ValueError):
        bank.deposit(-5, "a", 1)


def test_a_timestamp_before_the_last_accepted_one_raises_value_error(new_bank):
    bank = bank_with(new_bank, a=10, b=0)
    assert bank.deposit(100, "a", 1) == 11
    for call in (
        lambda: bank.create_account(99, "c"),
        lambda: bank.deposit(99, "a", 1),
        lambda: bank.transfer(99, "a", "b", 1),
    ):
        with pytest.raises(ValueError) as excinfo:
            call()
        assert str(excinfo.value), "the ValueError must say what was wrong"
    assert bank.deposit(100, "a", 1) == 12, "an equal timestamp is fine; nothing changed"
    assert bank.create_account(100, "c") is True


def test_types_are_checked_before_values_and_before_the_time_order(new_bank):
    bank = bank_with(new_bank, a=10)
    bank.deposit(9, "a", 1)
    with pytest.raises(TypeError):
        bank.deposit(5, "", "1")  # stale timestamp, empty id, amount of the wrong type
    with pytest.raises(TypeError):
        bank.deposit(-1, "a", 1.5)
    with pytest.raises(TypeError):
        bank.transfer(5, "", "a", None)
    with pytest.raises(ValueError):
        bank.deposit(5, "a", 0)  # a value error, also a stale timestamp
    assert bank.deposit(9, "a", 1) == 12


def test_a_call_that_returns_none_or_false_still_moves_the_time(new_bank):
    for failing in (
        lambda bank: bank.create_account(50, "a"),
        lambda bank: bank.deposit(50, "missing", 1),
        lambda bank: bank.transfer(50, "a", "a", 1),
        lambda bank: bank.transfer(50, "a", "b", 1_000),
    ):
        bank = bank_with(new_bank, a=10, b=0)
        assert failing(bank) in (None, False)
        with pytest.raises(ValueError):
            bank.deposit(49, "a", 1)  # 50 was accepted, whatever it returned
        assert bank.deposit(50, "a", 1) == 11


def test_a_rejected_call_does_not_move_the_time(new_bank):
    bank = bank_with(new_bank, a=10, b=0)
    with pytest.raises(ValueError):
        bank.deposit(100, "a", 0)
    with pytest.raises(TypeError):
        bank.transfer(200, "a", "b", "1")
    assert bank.deposit(1, "a", 1) == 11, "the time is still 0: 1 is accepted"


def test_operations_with_equal_timestamps_apply_in_call_order(new_bank):
    bank = new_bank()
    assert bank.create_account(7, "a") is True
    assert bank.create_account(7, "b") is True
    assert bank.deposit(7, "a", 10) == 10
    assert bank.transfer(7, "a", "b", 10) == 0
    assert bank.transfer(7, "b", "a", 4) == 6
    assert bank.transfer(7, "a", "b", 5) is None, "a holds 4 after the calls before it"


def test_two_banks_share_nothing(new_bank):
    first, second = new_bank(), new_bank()
    assert first.create_account(100, "a") is True
    assert second.create_account(1, "a") is True, "each bank has its own accounts and time"
    assert second.deposit(1, "a", 5) == 5
    assert first.deposit(100, "a", 1) == 1
