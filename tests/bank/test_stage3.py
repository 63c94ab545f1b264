"""Stage 3: payments with a cashback one day later (spec: stages/bank/stage3.md)."""

from __future__ import annotations

import pytest

from dojo.testing import check_result, example_tables, replay

pytestmark = pytest.mark.stage(3)

DAY = 86_400_000  # ms from a payment to its cashback


@pytest.mark.parametrize("table", example_tables("bank", 3), ids=lambda table: table.id)
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"bank": impl.Bank()})


def test_pay_withdraws_and_returns_numbered_payment_ids(bank_with):
    bank = bank_with(a=100, b=100)
    check_result(bank.pay, (1, "a", 10), "payment1", "payment ids count from 1")
    check_result(bank.pay, (1, "b", 10), "payment2", "one counter for the whole bank")
    check_result(bank.pay, (2, "a", 10), "payment3", "one counter for the whole bank")
    check_result(bank.deposit, (3, "a", 1), 81, "pay withdraws the amount")


def test_a_failed_payment_returns_none_and_uses_no_number(bank_with):
    bank = bank_with(a=100)
    check_result(bank.pay, (1, "a", 101), None, "insufficient funds: None")
    check_result(bank.pay, (1, "missing", 1), None, "no such account: None")
    check_result(bank.deposit, (2, "a", 1), 101, "a failed payment withdraws nothing")
    check_result(bank.pay, (3, "a", 101), "payment1", "failed payments use up no number")
    check_result(bank.pay, (3, "a", 1), None, "a holds 0 now")


def test_a_payment_of_the_whole_balance_succeeds(bank_with):
    bank = bank_with(a=40)
    check_result(bank.pay, (1, "a", 40), "payment1", "paying the whole balance is fine")
    check_result(bank.pay, (1, "a", 1), None, "a holds 0 now")


@pytest.mark.parametrize(
    ("amount", "cashback"), [(49, 0), (50, 1), (99, 1), (100, 2), (12_345, 246)]
)
def test_the_cashback_is_two_percent_rounded_down(bank_with, amount, cashback):
    bank = bank_with(a=20_000)
    check_result(bank.pay, (10, "a", amount), "payment1", "setting up")
    check_result(
        bank.deposit,
        (10 + 2 * DAY, "a", 1),
        20_000 - amount + cashback + 1,
        f"a payment of {amount} earns {amount} * 2 // 100 == {cashback}",
    )


def test_the_cashback_arrives_exactly_one_day_after_the_payment(bank_with):
    bank = bank_with(a=1_000)
    check_result(bank.pay, (5, "a", 1_000), "payment1", "setting up")
    early = "not credited a millisecond before payment time + 86,400,000"
    check_result(bank.deposit, (5 + DAY - 1, "a", 1), 1, early)
    check_result(bank.get_payment_status, (5 + DAY - 1, "a", "payment1"), "IN_PROGRESS", early)
    on_time = "credited at exactly payment time + 86,400,000"
    check_result(bank.deposit, (5 + DAY, "a", 1), 22, on_time)
    check_result(bank.get_payment_status, (5 + DAY, "a", "payment1"), "CASHBACK_RECEIVED", on_time)


def test_the_cashback_is_credited_before_the_operation_at_its_due_time(bank_with):
    bank = bank_with(a=500, b=0)
    check_result(bank.pay, (0, "a", 500), "payment1", "a holds 0; cashback 10 due at DAY")
    rule = "the cashback due at DAY is credited before the call at DAY does its work"
    check_result(bank.transfer, (DAY, "a", "b", 10), 0, rule)
    check_result(bank.pay, (DAY, "b", 10), "payment2", "b received the cashback's 10")


def test_a_status_query_at_the_due_time_sees_the_cashback(bank_with):
    bank = bank_with(a=100)
    check_result(bank.pay, (7, "a", 100), "payment1", "setting up")
    rule = "a call at exactly the due time sees the cashback"
    check_result(bank.get_payment_status, (7 + DAY, "a", "payment1"), "CASHBACK_RECEIVED", rule)
    check_result(bank.deposit, (7 + DAY, "a", 1), 3, "the cashback of 2 was credited once")


def test_every_due_cashback_is_credited_by_one_later_call(bank_with):
    bank = bank_with(a=1_000, b=1_000)
    for args, payment in (((1, "a", 100), "payment1"), ((2, "b", 200), "payment2")):
        check_result(bank.pay, args, payment, "setting up")
    check_result(bank.pay, (3, "a", 300), "payment3", "setting up")
    rule = "the first call after the due times credits every cashback due by then"
    check_result(bank.deposit, (3 * DAY, "a", 1), 1_000 - 400 + 2 + 6 + 1, rule)
    check_result(bank.deposit, (3 * DAY, "b", 1), 1_000 - 200 + 4 + 1, rule)
    for account, payment in (("a", "payment1"), ("b", "payment2"), ("a", "payment3")):
        check_result(
            bank.get_payment_status, (3 * DAY, account, payment), "CASHBACK_RECEIVED", rule
        )


def test_a_zero_cashback_still_changes_the_status(bank_with):
    bank = bank_with(a=10)
    check_result(bank.pay, (0, "a", 10), "payment1", "a cashback of 10 * 2 // 100 == 0")
    check_result(bank.get_payment_status, (DAY - 1, "a", "payment1"), "IN_PROGRESS", "not due")
    check_result(
        bank.get_payment_status,
        (DAY + 1, "a", "payment1"),
        "CASHBACK_RECEIVED",
        "the status changes once due, even for a cashback of 0",
    )
    check_result(bank.deposit, (DAY + 1, "a", 1), 1, "a cashback of 0 adds nothing")


def test_get_payment_status_is_none_for_another_accounts_payment(bank_with):
    bank = bank_with(a=100, b=100)
    check_result(bank.pay, (1, "a", 10), "payment1", "setting up")
    check_result(bank.get_payment_status, (2, "b", "payment1"), None, "payment1 belongs to a")
    check_result(bank.get_payment_status, (2, "a", "payment1"), "IN_PROGRESS", "a's own payment")


@pytest.mark.parametrize(
    ("account", "payment"),
    [("missing", "payment1"), ("a", "payment2"), ("a", "payment0"), ("a", "Payment1"), ("a", "")],
)
def test_get_payment_status_is_none_for_an_unknown_account_or_payment(bank_with, account, payment):
    bank = bank_with(a=100)
    check_result(bank.pay, (1, "a", 10), "payment1", "setting up")
    check_result(
        bank.get_payment_status, (2, account, payment), None, "no such account or payment: None"
    )


def test_payments_count_as_outgoing_and_cashback_does_not(bank_with):
    bank = bank_with(a=1_000, b=1_000, c=0)
    check_result(bank.pay, (1, "a", 100), "payment1", "setting up")
    check_result(bank.transfer, (1, "b", "c", 60), 940, "setting up")
    check_result(bank.pay, (1, "b", 50), "payment2", "setting up")
    ranking = [("b", 110), ("a", 100), ("c", 0)]
    check_result(bank.top_spenders, (2, 3), ranking, "a payment counts in the outgoing total")
    check_result(bank.pay, (2, "a", 10_000), None, "insufficient funds")
    check_result(
        bank.top_spenders, (DAY + 1, 3), ranking, "failed payments, cashbacks: not outgoing"
    )


@pytest.mark.parametrize("bad", [True, 1.0, "1", None], ids=repr)
def test_pay_with_a_timestamp_or_amount_not_an_int_raises_type_error_and_changes_nothing(
    bank_with, bad
):
    bank = bank_with(a=100)
    for args in ((bad, "a", 1), (1, "a", bad)):
        check_result(bank.pay, args, TypeError, "timestamps and amounts are int, bool refused")
    check_result(bank.pay, (0, "a", 1), "payment1", "the rejected calls used no number, no time")


@pytest.mark.parametrize("bad", [1, None, b"payment1"], ids=repr)
def test_ids_that_are_not_str_raise_type_error_and_change_nothing(
    bank_with, bad
):
    bank = bank_with(a=100)
    check_result(bank.pay, (0, "a", 10), "payment1", "setting up")
    for method, args in (
        (bank.pay, (1, bad, 1)),
        (bank.get_payment_status, (1, bad, "payment1")),
        (bank.get_payment_status, (1, "a", bad)),
        (bank.get_payment_status, (-1, "a", bad)),  # types before values
    ):
        check_result(method, args, TypeError, "account and payment ids are str, checked first")
    check_result(
        bank.get_payment_status, (0, "a", "payment1"), "IN_PROGRESS", "rejected: no change"
    )


def test_pay_and_status_check_their_values_and_change_nothing(bank_with):
    bank = bank_with(a=100)
    for method, args, rule in (
        (bank.pay, (1, "a", 0), "amounts are positive"),
        (bank.pay, (1, "a", -5), "amounts are positive"),
        (bank.pay, (1, "", 5), "account ids are not empty"),
        (bank.pay, (-1, "a", 5), "timestamps are not negative"),
        (bank.get_payment_status, (1, "", "payment1"), "account ids are not empty"),
        (bank.get_payment_status, (-1, "a", "payment1"), "timestamps are not negative"),
    ):
        check_result(method, args, ValueError, rule)
    check_result(bank.pay, (0, "a", 100), "payment1", "the rejected calls changed nothing")


def test_a_rejected_call_credits_no_cashback(bank_with):
    bank = bank_with(a=100)
    check_result(bank.pay, (0, "a", 100), "payment1", "setting up")
    check_result(bank.deposit, (DAY + 10, "a", 0), ValueError, "amounts are positive")
    check_result(bank.get_payment_status, (DAY + 10, "a", None), TypeError, "payment ids are str")
    check_result(
        bank.get_payment_status,
        (1, "a", "payment1"),
        "IN_PROGRESS",
        "a rejected call neither moves the time nor credits the cashback",
    )


def test_pay_and_status_move_the_time(bank_with):
    bank = bank_with(a=100)
    check_result(bank.pay, (10, "a", 1_000), None, "insufficient funds")
    rule = "an accepted call moves the time, whatever it returns"
    check_result(bank.get_payment_status, (9, "a", "payment1"), ValueError, rule)
    check_result(bank.get_payment_status, (20, "a", "payment9"), None, "no such payment")
    check_result(bank.pay, (19, "a", 1), ValueError, rule)
