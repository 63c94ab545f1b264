"""Stage 1: accounts, deposits and transfers (spec: stages/bank/stage1.md)."""

from __future__ import annotations

import pytest

from dojo.testing import check_result, example_tables, replay

pytestmark = pytest.mark.stage(1)

NOT_INT = [True, False, 1.0, "1", None, b"1"]
NOT_STR = [1, None, b"a", ("a",)]


@pytest.mark.parametrize("table", example_tables("bank", 1), ids=lambda table: table.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"bank": impl.Bank()})


def test_create_account_returns_true_then_false_for_an_existing_id(impl):
    bank = impl.Bank()
    check_result(bank.create_account, (0, "a"), True, "a new id opens an account")
    check_result(bank.create_account, (1, "a"), False, "an id that exists cannot be created again")
    check_result(bank.create_account, (1, "b"), True, "another id is another account")


def test_create_account_of_an_existing_id_keeps_its_balance(bank_with):
    bank = bank_with(a=70)
    check_result(bank.create_account, (1, "a"), False, "the id exists")
    check_result(bank.deposit, (2, "a", 1), 71, "a failed create_account changes nothing")


def test_deposit_returns_the_new_balance(bank_with):
    bank = bank_with(a=0)
    for t, balance in ((1, 25), (2, 50), (3, 75)):
        check_result(bank.deposit, (t, "a", 25), balance, "deposit returns the balance after it")


def test_deposit_to_a_missing_account_returns_none_and_creates_nothing(bank_with):
    bank = bank_with(a=5)
    check_result(bank.deposit, (1, "b", 10), None, "a missing account: None")
    check_result(bank.create_account, (2, "b"), True, "deposit must not create the account")
    check_result(bank.deposit, (3, "b", 1), 1, "the failed deposit left nothing in b")


def test_transfer_moves_the_amount_and_returns_the_source_balance(bank_with):
    bank = bank_with(a=100, b=10)
    check_result(bank.transfer, (1, "a", "b", 30), 70, "transfer returns the source's new balance")
    check_result(bank.deposit, (2, "b", 1), 41, "the target received the amount")
    check_result(bank.deposit, (2, "a", 1), 71, "the source gave the amount")


def test_a_transfer_may_empty_the_source(bank_with):
    bank = bank_with(a=100, b=0)
    check_result(bank.transfer, (1, "a", "b", 100), 0, "a transfer of the whole balance is fine")
    check_result(bank.deposit, (2, "b", 1), 101, "the target received the whole balance")


def test_a_transfer_beyond_the_balance_returns_none_and_moves_nothing(bank_with):
    bank = bank_with(a=100, b=10)
    check_result(bank.transfer, (1, "a", "b", 101), None, "insufficient funds: None")
    check_result(bank.transfer, (1, "b", "a", 11), None, "insufficient funds: None")
    check_result(bank.deposit, (2, "a", 1), 101, "a failed transfer moves nothing")
    check_result(bank.deposit, (2, "b", 1), 11, "a failed transfer moves nothing")


@pytest.mark.parametrize(
    ("source", "target"), [("a", "zz"), ("zz", "a"), ("zz", "yy")], ids=["target", "source", "both"]
)
def test_a_transfer_with_a_missing_account_returns_none(bank_with, source, target):
    bank = bank_with(a=100)
    check_result(bank.transfer, (1, source, target, 10), None, "a missing account: None")
    check_result(bank.deposit, (2, "a", 1), 101, "a failed transfer moves nothing")
    check_result(bank.deposit, (2, "zz", 1), None, "a failed transfer creates no account")


def test_a_transfer_to_the_same_account_returns_none(bank_with):
    bank = bank_with(a=100)
    check_result(bank.transfer, (1, "a", "a", 10), None, "source and target are the same account")
    check_result(bank.transfer, (1, "zz", "zz", 10), None, "the same id, even a missing one")
    check_result(bank.deposit, (2, "a", 1), 101, "a failed transfer moves nothing")


def test_ids_are_compared_exactly(impl):
    bank = impl.Bank()
    ids = ["a", "A", "a ", "é"]
    for account_id in ids:
        check_result(bank.create_account, (0, account_id), True, "a, A, 'a ' and é are four ids")
    for amount, account_id in enumerate(ids, 1):
        check_result(bank.deposit, (1, account_id, amount), amount, "four separate balances")


def test_subclasses_of_str_and_int_are_accepted(impl):
    class Name(str):
        pass

    class Millis(int):
        pass

    bank = impl.Bank()
    rule = "instances of subclasses of str and int are accepted"
    check_result(bank.create_account, (Millis(1), Name("a")), True, rule)
    check_result(bank.deposit, (Millis(2), "a", Millis(5)), 5, rule)
    check_result(bank.deposit, (3, Name("a"), 1), 6, "a str subclass names the same account")


def test_timestamp_zero_is_accepted(impl):
    bank = impl.Bank()
    check_result(bank.create_account, (0, "a"), True, "0 is a valid timestamp")
    check_result(bank.deposit, (0, "a", 1), 1, "0 is a valid timestamp")


@pytest.mark.parametrize("bad", NOT_INT, ids=repr)
def test_a_timestamp_or_amount_that_is_not_an_int_raises_type_error_and_changes_nothing(
    bank_with, bad
):
    bank = bank_with(a=10, b=0)
    rule = "timestamps and amounts are int, bool refused"
    for method, args in (
        (bank.create_account, (bad, "c")),
        (bank.deposit, (bad, "a", 1)),
        (bank.deposit, (1, "a", bad)),
        (bank.transfer, (bad, "a", "b", 1)),
        (bank.transfer, (1, "a", "b", bad)),
    ):
        check_result(method, args, TypeError, rule)
    check_result(bank.create_account, (0, "c"), True, "the rejected calls created nothing")
    check_result(bank.transfer, (0, "a", "b", 10), 0, "the rejected calls moved no money, no time")


@pytest.mark.parametrize("bad", NOT_STR, ids=repr)
def test_an_account_id_that_is_not_a_str_raises_type_error_and_changes_nothing(
    bank_with, bad
):
    bank = bank_with(a=10)
    for method, args in (
        (bank.create_account, (1, bad)),
        (bank.deposit, (1, bad, 1)),
        (bank.transfer, (1, bad, "a", 1)),
        (bank.transfer, (1, "a", bad, 1)),
    ):
        check_result(method, args, TypeError, "account ids are str")
    check_result(bank.deposit, (0, "a", 1), 11, "the rejected calls changed nothing, time included")


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_an_amount_that_is_not_positive_raises_value_error_and_changes_nothing(bank_with, amount):
    bank = bank_with(a=10, b=0)
    for method, args in ((bank.deposit, (1, "a", amount)), (bank.transfer, (1, "a", "b", amount))):
        check_result(method, args, ValueError, "amounts are positive")
    check_result(bank.deposit, (0, "a", 1), 11, "the rejected calls changed nothing, time included")


def test_an_empty_account_id_raises_value_error_and_changes_nothing(bank_with):
    bank = bank_with(a=10)
    for method, args in (
        (bank.create_account, (1, "")),
        (bank.deposit, (1, "", 1)),
        (bank.transfer, (1, "", "a", 1)),
        (bank.transfer, (1, "a", "", 1)),
        (bank.transfer, (1, "", "", 1)),
    ):
        check_result(method, args, ValueError, "account ids are not empty")
    check_result(bank.deposit, (0, "a", 1), 11, "the rejected calls changed nothing, time included")


def test_a_negative_timestamp_raises_value_error_and_creates_nothing(impl):
    bank = impl.Bank()
    check_result(bank.create_account, (-1, "a"), ValueError, "timestamps are not negative")
    check_result(bank.create_account, (0, "a"), True, "the rejected call created nothing")
    check_result(bank.deposit, (-5, "a", 1), ValueError, "timestamps are not negative")


def test_a_timestamp_before_the_last_accepted_one_raises_value_error_and_an_equal_one_is_fine(
    bank_with,
):
    bank = bank_with(a=10, b=0)
    check_result(bank.deposit, (100, "a", 1), 11, "a later timestamp is accepted")
    for method, args in (
        (bank.create_account, (99, "c")),
        (bank.deposit, (99, "a", 1)),
        (bank.transfer, (99, "a", "b", 1)),
    ):
        check_result(method, args, ValueError, "99 is before 100, the last accepted timestamp")
    check_result(bank.deposit, (100, "a", 1), 12, "an equal timestamp is fine; nothing changed")
    check_result(bank.create_account, (100, "c"), True, "the rejected create_account made nothing")


def test_types_are_checked_before_values_and_before_the_time_order(bank_with):
    bank = bank_with(a=10)
    check_result(bank.deposit, (9, "a", 1), 11, "the last accepted timestamp is 9")
    for method, args, error in (
        (bank.deposit, (5, "", "1"), TypeError),  # stale time, empty id, amount not an int
        (bank.deposit, (-1, "a", 1.5), TypeError),
        (bank.transfer, (5, "", "a", None), TypeError),
        (bank.deposit, (5, "a", 0), ValueError),  # an amount of 0, and a stale time
    ):
        check_result(method, args, error, "types first, then values, then the time order")


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("create_account", (50, "a")),
        ("deposit", (50, "missing", 1)),
        ("transfer", (50, "a", "a", 1)),
        ("transfer", (50, "a", "b", 1_000)),
    ],
    ids=["existing id", "missing account", "same account", "insufficient funds"],
)
def test_a_call_that_returns_none_or_false_still_moves_the_time(bank_with, method, args):
    bank = bank_with(a=10, b=0)
    failed = False if method == "create_account" else None
    check_result(getattr(bank, method), args, failed, "a business failure")
    check_result(bank.deposit, (49, "a", 1), ValueError, "50 was accepted, whatever it returned")
    check_result(bank.deposit, (50, "a", 1), 11, "an equal timestamp is fine")


def test_a_rejected_call_does_not_move_the_time(bank_with):
    bank = bank_with(a=10, b=0)
    check_result(bank.deposit, (100, "a", 0), ValueError, "amounts are positive")
    check_result(bank.transfer, (200, "a", "b", "1"), TypeError, "amounts are int")
    check_result(bank.deposit, (1, "a", 1), 11, "rejected calls left the time at 0")


def test_operations_with_equal_timestamps_apply_in_call_order(impl):
    bank = impl.Bank()
    rule = "calls with equal timestamps apply in call order"
    check_result(bank.create_account, (7, "a"), True, rule)
    check_result(bank.create_account, (7, "b"), True, rule)
    check_result(bank.deposit, (7, "a", 10), 10, rule)
    check_result(bank.transfer, (7, "a", "b", 10), 0, rule)
    check_result(bank.transfer, (7, "b", "a", 4), 6, rule)
    check_result(bank.transfer, (7, "a", "b", 5), None, "a holds 4 after the calls before it")


def test_two_banks_share_nothing(impl):
    first, second = impl.Bank(), impl.Bank()
    check_result(first.create_account, (100, "a"), True, "a new bank")
    check_result(second.create_account, (1, "a"), True, "each bank has its own accounts and time")
    check_result(second.deposit, (1, "a", 5), 5, "each bank has its own balances")
    check_result(first.deposit, (100, "a", 1), 1, "each bank has its own balances")
