"""Stage 3: payments with a cashback one day later (spec: stages/bank/stage3.md)."""

from __future__ import annotations

import pytest

from tests.bank.helpers import bank_with

pytestmark = pytest.mark.stage(3)

DAY = 86_400_000  # ms from a payment to its cashback

# The example table of stage3.md, row by row.
EXAMPLE = [
    ("create_account", (0, "a"), True),
    ("deposit", (0, "a", 1000), 1000),
    ("pay", (1000, "a", 300), "payment1"),
    ("pay", (2000, "a", 701), None),
    ("pay", (2000, "b", 1), None),
    ("pay", (3000, "a", 49), "payment2"),
    ("get_payment_status", (4000, "a", "payment1"), "IN_PROGRESS"),
    ("top_spenders", (4000, 1), [("a", 349)]),
    ("deposit", (86_400_999, "a", 1), 652),
    ("deposit", (86_401_000, "a", 1), 659),
    ("get_payment_status", (86_401_000, "a", "payment1"), "CASHBACK_RECEIVED"),
    ("get_payment_status", (86_401_000, "a", "payment2"), "IN_PROGRESS"),
    ("pay", (86_402_000, "a", 0), ValueError),
    ("get_payment_status", (86_403_000, "a", "payment2"), "CASHBACK_RECEIVED"),
    ("create_account", (86_403_000, "b"), True),
    ("get_payment_status", (86_403_000, "b", "payment1"), None),
    ("get_payment_status", (86_403_000, "a", "payment3"), None),
    ("get_payment_status", (86_403_000, "c", "payment1"), None),
    ("get_payment_status", (86_403_000, "a", 1), TypeError),
    ("pay", (86_403_000, "a", 659), "payment3"),
    ("top_spenders", (86_403_000, 2), [("a", 1008), ("b", 0)]),
]


def test_the_example_table_replays_row_by_row(new_bank, replay):
    replay(new_bank(), EXAMPLE)


def test_pay_withdraws_and_returns_numbered_payment_ids(new_bank):
    bank = bank_with(new_bank, a=100, b=100)
    assert bank.pay(1, "a", 10) == "payment1"
    assert bank.pay(1, "b", 10) == "payment2", "one counter for the whole bank"
    assert bank.pay(2, "a", 10) == "payment3"
    assert bank.deposit(3, "a", 1) == 81, "pay withdraws the amount"


def test_a_failed_payment_returns_none_and_uses_no_number(new_bank):
    bank = bank_with(new_bank, a=100)
    assert bank.pay(1, "a", 101) is None, "insufficient funds: None"
    assert bank.pay(1, "missing", 1) is None, "no such account: None"
    assert bank.deposit(2, "a", 1) == 101, "nothing was withdrawn"
    assert bank.pay(3, "a", 101) == "payment1", "failed payments do not advance the counter"
    assert bank.pay(3, "a", 1) is None, "a holds 0 now"


def test_a_payment_of_the_whole_balance_succeeds(new_bank):
    bank = bank_with(new_bank, a=40)
    assert bank.pay(1, "a", 40) == "payment1"
    assert bank.pay(1, "a", 1) is None


@pytest.mark.parametrize(
    ("amount", "cashback"), [(49, 0), (50, 1), (99, 1), (100, 2), (12_345, 246)]
)
def test_the_cashback_is_two_percent_rounded_down(new_bank, amount, cashback):
    bank = bank_with(new_bank, a=20_000)
    bank.pay(10, "a", amount)
    assert bank.deposit(10 + DAY, "a", 1) == 20_000 - amount + cashback + 1


def test_the_cashback_arrives_exactly_one_day_after_the_payment(new_bank):
    bank = bank_with(new_bank, a=1_000)
    bank.pay(5, "a", 1_000)
    assert bank.deposit(5 + DAY - 1, "a", 1) == 1, "not credited a millisecond early"
    assert bank.get_payment_status(5 + DAY - 1, "a", "payment1") == "IN_PROGRESS"
    assert bank.deposit(5 + DAY, "a", 1) == 22, "credited at exactly payment time + 86,400,000"
    assert bank.get_payment_status(5 + DAY, "a", "payment1") == "CASHBACK_RECEIVED"


def test_the_cashback_is_credited_before_the_operation_at_its_due_time(new_bank):
    bank = bank_with(new_bank, a=500, b=0)
    bank.pay(0, "a", 500)  # a: 0, cashback 10 due at DAY
    assert bank.transfer(DAY, "a", "b", 10) == 0, "the cashback is there before the transfer runs"
    assert bank.pay(DAY, "b", 10) == "payment2"


def test_a_status_query_at_the_due_time_sees_the_cashback(new_bank):
    bank = bank_with(new_bank, a=100)
    bank.pay(7, "a", 100)
    assert bank.get_payment_status(7 + DAY, "a", "payment1") == "CASHBACK_RECEIVED"
    assert bank.deposit(7 + DAY, "a", 1) == 3


def test_every_due_cashback_is_credited_by_one_later_call(new_bank):
    bank = bank_with(new_bank, a=1_000, b=1_000)
    ids = [bank.pay(t, account, 100 * t) for t, account in ((1, "a"), (2, "b"), (3, "a"))]
    assert ids == ["payment1", "payment2", "payment3"]
    assert bank.deposit(3 * DAY, "a", 1) == 1_000 - 400 + 2 + 6 + 1
    assert bank.deposit(3 * DAY, "b", 1) == 1_000 - 200 + 4 + 1
    statuses = [bank.get_payment_status(3 * DAY, a, p) for a, p in zip("aba", ids, strict=True)]
    assert statuses == ["CASHBACK_RECEIVED"] * 3


def test_a_zero_cashback_still_changes_the_status(new_bank):
    bank = bank_with(new_bank, a=10)
    bank.pay(0, "a", 10)
    assert bank.get_payment_status(DAY - 1, "a", "payment1") == "IN_PROGRESS"
    assert bank.get_payment_status(DAY, "a", "payment1") == "CASHBACK_RECEIVED"
    assert bank.deposit(DAY, "a", 1) == 1, "2% of 10, rounded down, is 0"


def test_get_payment_status_is_none_for_another_accounts_payment(new_bank):
    bank = bank_with(new_bank, a=100, b=100)
    bank.pay(1, "a", 10)
    assert bank.get_payment_status(2, "b", "payment1") is None, "payment1 belongs to a"
    assert bank.get_payment_status(2, "a", "payment1") == "IN_PROGRESS"


@pytest.mark.parametrize(
    ("account", "payment"),
    [("missing", "payment1"), ("a", "payment2"), ("a", "payment0"), ("a", "Payment1"), ("a", "")],
)
def test_get_payment_status_is_none_for_an_unknown_account_or_payment(new_bank, account, payment):
    bank = bank_with(new_bank, a=100)
    bank.pay(1, "a", 10)
    assert bank.get_payment_status(2, account, payment) is None


def test_payments_count_as_outgoing_and_cashback_does_not(new_bank):
    bank = bank_with(new_bank, a=1_000, b=1_000, c=0)
    bank.pay(1, "a", 100)
    bank.transfer(1, "b", "c", 60)
    bank.pay(1, "b", 50)
    assert bank.top_spenders(2, 3) == [("b", 110), ("a", 100), ("c", 0)]
    assert bank.pay(2, "a", 10_000) is None
    assert bank.top_spenders(DAY + 1, 3) == [("b", 110), ("a", 100), ("c", 0)], (
        "a failed payment and the cashback change no outgoing total"
    )


@pytest.mark.parametrize("bad", [True, 1.0, "1", None], ids=repr)
def test_pay_with_a_timestamp_or_amount_not_an_int_raises_type_error(new_bank, bad):
    bank = bank_with(new_bank, a=100)
    for call in (lambda: bank.pay(bad, "a", 1), lambda: bank.pay(1, "a", bad)):
        with pytest.raises(TypeError) as excinfo:
            call()
        assert str(excinfo.value), "the TypeError must say what was wrong"
    assert bank.pay(0, "a", 1) == "payment1", "the rejected calls used no number"


@pytest.mark.parametrize("bad", [1, None, b"payment1"], ids=repr)
def test_ids_that_are_not_str_raise_type_error(new_bank, bad):
    bank = bank_with(new_bank, a=100)
    bank.pay(0, "a", 10)
    for call in (
        lambda: bank.pay(1, bad, 1),
        lambda: bank.get_payment_status(1, bad, "payment1"),
        lambda: bank.get_payment_status(1, "a", bad),
        lambda: bank.get_payment_status(-1, "a", bad),  # types before values
    ):
        with pytest.raises(TypeError):
            call()
    assert bank.get_payment_status(0, "a", "payment1") == "IN_PROGRESS"


def test_pay_and_status_check_their_values(new_bank):
    bank = bank_with(new_bank, a=100)
    for call in (
        lambda: bank.pay(1, "a", 0),
        lambda: bank.pay(1, "a", -5),
        lambda: bank.pay(1, "", 5),
        lambda: bank.pay(-1, "a", 5),
        lambda: bank.get_payment_status(1, "", "payment1"),
        lambda: bank.get_payment_status(-1, "a", "payment1"),
    ):
        with pytest.raises(ValueError) as excinfo:
            call()
        assert str(excinfo.value), "the ValueError must say what was wrong"
    assert bank.pay(0, "a", 100) == "payment1"


def test_a_rejected_call_credits_no_cashback(new_bank):
    bank = bank_with(new_bank, a=100)
    bank.pay(0, "a", 100)
    with pytest.raises(ValueError):
        bank.deposit(DAY + 10, "a", 0)
    with pytest.raises(TypeError):
        bank.get_payment_status(DAY + 10, "a", None)
    assert bank.get_payment_status(1, "a", "payment1") == "IN_PROGRESS", (
        "a rejected call neither moves the time nor credits the cashback"
    )


def test_pay_and_status_move_the_time(new_bank):
    bank = bank_with(new_bank, a=100)
    assert bank.pay(10, "a", 1_000) is None
    with pytest.raises(ValueError):
        bank.get_payment_status(9, "a", "payment1")
    assert bank.get_payment_status(20, "a", "payment9") is None
    with pytest.raises(ValueError):
        bank.pay(19, "a", 1)
