"""Random operation sequences against a plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. Three account ids
("a", "b", "c") make calls collide; time moves by separate steps, often 0 so
that equal timestamps are frequent, and from stage 3 by up to a day and a
millisecond so that cashbacks fall due, some exactly at a call. Calls rejected
for their types, values or a stale timestamp are part of the mix. Each rule
makes one call; the invariants compare whole states after every step.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from dojo.testing import ModelMachine, check_result, run_machine, shrinks

DAY = 86_400_000
FAR = 3 * DAY  # the timestamp of rejected calls: far ahead, so a moved clock shows
IDS = st.sampled_from(["a", "b", "c"])
AMOUNTS = st.sampled_from([1, 49, 50, 100, 300])
DEPOSITS = st.sampled_from([1, 50, 300, 1_000])
SMALL_STEPS = st.sampled_from([0, 0, 0, 1, 2])
DAY_STEPS = st.sampled_from([0, 1, DAY // 2, DAY - 1, DAY, DAY + 1])


class Model:
    """The spec, written as plainly as possible.

    Balances and outgoing totals are dicts of the live ids. Every change
    appends a snapshot ``(time, balances)`` to ``history``, so a balance in the
    past is read from the last snapshot at or before that time. A payment is
    ``[owner id, cashback, due time, received]``; crediting walks them all in
    payment order.
    """

    def __init__(self) -> None:
        self.last = -1
        self.balance: dict[str, int] = {}
        self.outgoing: dict[str, int] = {}
        self.payments: dict[str, list] = {}
        self.history: list[tuple[int, dict[str, int]]] = []

    def accept(self, time: int) -> None:
        """An operation at ``time``: credit the cashbacks due by then, in payment order."""
        for payment in self.payments.values():
            owner, cashback, due, received = payment
            if not received and due <= time:
                self.balance[owner] += cashback
                payment[3] = True
                self.snapshot(due)
        self.last = time

    def snapshot(self, time: int) -> None:
        self.history.append((time, dict(self.balance)))

    def create_account(self, t: int, account: str) -> bool:
        if account in self.balance:
            return False
        self.balance[account] = self.outgoing[account] = 0
        self.snapshot(t)
        return True

    def deposit(self, t: int, account: str, amount: int) -> int | None:
        if account not in self.balance:
            return None
        self.balance[account] += amount
        self.snapshot(t)
        return self.balance[account]

    def transfer(self, t: int, source: str, target: str, amount: int) -> int | None:
        if source == target or target not in self.balance:
            return None
        if self.balance.get(source, 0) < amount:
            return None
        self.balance[source] -= amount
        self.balance[target] += amount
        self.outgoing[source] += amount
        self.snapshot(t)
        return self.balance[source]

    def top_spenders(self, t: int, n: int) -> list[tuple[str, int]]:
        return sorted(self.outgoing.items(), key=lambda pair: (-pair[1], pair[0]))[:n]

    def pay(self, t: int, account: str, amount: int) -> str | None:
        if self.balance.get(account, 0) < amount:
            return None
        self.balance[account] -= amount
        self.outgoing[account] += amount
        payment_id = f"payment{len(self.payments) + 1}"
        self.payments[payment_id] = [account, amount * 2 // 100, t + DAY, False]
        self.snapshot(t)
        return payment_id

    def get_payment_status(self, t: int, account: str, payment_id: str) -> str | None:
        payment = self.payments.get(payment_id)
        if account not in self.balance or payment is None or payment[0] != account:
            return None
        return "CASHBACK_RECEIVED" if payment[3] else "IN_PROGRESS"

    def merge_accounts(self, t: int, first: str, second: str) -> bool:
        if first == second or first not in self.balance or second not in self.balance:
            return False
        self.balance[first] += self.balance.pop(second)
        self.outgoing[first] += self.outgoing.pop(second)
        for payment in self.payments.values():
            if payment[0] == second:
                payment[0] = first
        self.snapshot(t)
        return True

    def get_balance(self, t: int, account: str, time_at: int) -> int | None:
        balances: dict[str, int] = {}
        for time, snapshot in self.history:
            if time > time_at:
                break
            balances = snapshot
        return balances.get(account)


# What each operation must do, quoted when the code under test disagrees with the model.
RULES = {
    "create_account": "True for a new id, False for an id that exists",
    "deposit": "the new balance; None for a missing account",
    "transfer": "the source's new balance; None for a missing account, the same id "
    "or insufficient funds",
    "top_spenders": "outgoing totals descending, then id ascending, accounts at 0 included",
    "pay": "the next payment id; None for a missing account or insufficient funds",
    "get_payment_status": "IN_PROGRESS until the cashback is due, then CASHBACK_RECEIVED; "
    "None for a missing account, payment or another account's payment",
    "merge_accounts": "True and the second account folded into the first; False for a "
    "missing account or the same id",
    "get_balance": "the balance after every operation at time_at, a cashback from its due "
    "time; None if no account had the id then",
}


class AccountsMachine(ModelMachine):
    """Stage 1: create_account, deposit, transfer, rejected calls."""

    steps = SMALL_STEPS
    # (method, arguments after the timestamp, expected exception, the rule)
    bad_calls = (
        ("create_account", ("",), ValueError, "account ids are not empty"),
        ("create_account", (1,), TypeError, "account ids are str"),
        ("deposit", ("a", 0), ValueError, "amounts are positive"),
        ("deposit", ("", 5), ValueError, "account ids are not empty"),
        ("deposit", ("a", True), TypeError, "amounts are int, bool refused"),
        ("deposit", (None, 0), TypeError, "types are checked before values"),
        ("transfer", ("a", "b", -1), ValueError, "amounts are positive"),
        ("transfer", ("a", b"b", 1), TypeError, "account ids are str"),
    )
    good_calls = (("create_account", ("a",)), ("deposit", ("a", 1)), ("transfer", ("a", "b", 1)))

    def __init__(self, impl) -> None:
        super().__init__()
        self.bank = impl.Bank()
        self.model = Model()
        self.time = 0

    def call(self, method: str, *args, at: int | None = None):
        """Make the same accepted call on both, at the current time; compare the results."""
        time = self.time if at is None else at
        self.model.accept(time)
        expected = getattr(self.model, method)(time, *args)
        rule = RULES[method] if at is None else f"checked after the step: {RULES[method]}"
        check_result(getattr(self.bank, method), (time, *args), expected, rule)

    def call_at_last(self, method: str, *args) -> None:
        """A call at the last accepted time: it credits nothing new and moves no time.

        Invariants use it, so that time can still pass with no call at all.
        """
        self.call(method, *args, at=self.model.last)

    # Setup, two calls each: an account with money from the start makes
    # transfers, payments and merges of money common. "c" stays missing until a
    # rule creates it: both cases stay common.
    @initialize()
    def open_a_with_500(self):
        self.call("create_account", "a")
        self.call("deposit", "a", 500)

    @initialize()
    def open_b_with_500(self):
        self.call("create_account", "b")
        self.call("deposit", "b", 500)

    @rule(step=st.runner().flatmap(lambda machine: machine.steps))
    def advance_time(self, step):
        self.time += step

    @rule(account=IDS)
    def create_account(self, account):
        self.call("create_account", account)

    @rule(account=IDS, amount=DEPOSITS)
    def deposit(self, account, amount):
        self.call("deposit", account, amount)

    @rule(source=IDS, destination=IDS, amount=AMOUNTS)  # rule() reserves the name "target"
    def transfer(self, source, destination, amount):
        self.call("transfer", source, destination, amount)

    @rule(data=st.data())
    def reject_a_bad_call(self, data):
        # Far ahead, so that a rejected call that moved the time shows at the next call.
        method, args, error, why = data.draw(st.sampled_from(self.bad_calls))
        check_result(getattr(self.bank, method), (self.time + FAR, *args), error, why)

    @rule(data=st.data())
    def reject_a_bad_call_with_a_negative_timestamp(self, data):
        method, args, error, why = data.draw(st.sampled_from(self.bad_calls))
        rule = f"{why}; types are checked before the timestamp's value"
        check_result(getattr(self.bank, method), (-1, *args), error, rule)

    @precondition(lambda self: self.model.last > 0)
    @rule(data=st.data())
    def reject_a_stale_timestamp(self, data):
        method, args = data.draw(st.sampled_from(self.good_calls))
        stale = self.model.last - 1
        rule = f"{stale} is before {self.model.last}, the last accepted timestamp"
        check_result(getattr(self.bank, method), (stale, *args), ValueError, rule)

    @invariant()
    def verify_internal_invariants(self):
        # Named to run after the invariants above (hypothesis runs them in name
        # order), so a behaviour that differs from the model shows first.
        check = getattr(self.bank, "_check", None)  # the reference's; a learner's may have none
        if check is None:
            return
        try:
            check()
        except AssertionError as exc:
            raise AssertionError(f"after the last step, _check() found: {exc}") from exc


class RankingMachine(AccountsMachine):
    """Stage 2: adds top_spenders, also checked in full after every step."""

    bad_calls = (
        *AccountsMachine.bad_calls,
        ("top_spenders", (0,), ValueError, "n is at least 1"),
        ("top_spenders", (True,), TypeError, "n is an int, bool refused"),
    )
    good_calls = (*AccountsMachine.good_calls, ("top_spenders", (1,)))

    @rule(n=st.integers(1, 4))
    def top_spenders(self, n):
        self.call("top_spenders", n)

    @invariant()
    def same_ranking(self):
        self.call_at_last("top_spenders", 3)


class PaymentMachine(RankingMachine):
    """Stage 3: adds pay and get_payment_status; time moves by up to a day."""

    steps = DAY_STEPS
    bad_calls = (
        *RankingMachine.bad_calls,
        ("pay", ("a", 0), ValueError, "amounts are positive"),
        ("pay", ("a", 1.0), TypeError, "amounts are int"),
        ("get_payment_status", ("", "payment1"), ValueError, "account ids are not empty"),
        ("get_payment_status", ("a", None), TypeError, "payment ids are str"),
    )
    good_calls = (*RankingMachine.good_calls, ("pay", ("a", 1)))

    @rule(account=IDS, amount=AMOUNTS)
    def pay(self, account, amount):
        self.call("pay", account, amount)

    @rule(account=IDS, number=st.integers(1, 6))
    def get_payment_status(self, account, number):
        self.call("get_payment_status", account, f"payment{number}")

    @invariant()
    def same_payment_statuses(self):
        for account in ("a", "b", "c"):
            for number in range(1, len(self.model.payments) + 2):
                self.call_at_last("get_payment_status", account, f"payment{number}")


class HistoryMachine(PaymentMachine):
    """Stage 4: adds merge_accounts and get_balance at times where things happened."""

    bad_calls = (
        *PaymentMachine.bad_calls,
        ("merge_accounts", ("a", ""), ValueError, "account ids are not empty"),
        ("merge_accounts", ("a", 2), TypeError, "account ids are str"),
        ("get_balance", ("a", -1), ValueError, "time_at is not negative"),
        ("get_balance", ("a", True), TypeError, "time_at is an int, bool refused"),
    )
    good_calls = (*PaymentMachine.good_calls, ("merge_accounts", ("a", "b")))

    @rule(first=IDS, second=IDS)
    def merge_accounts(self, first, second):
        self.call("merge_accounts", first, second)

    @precondition(lambda self: any(not p[3] for p in self.model.payments.values()))
    @rule(first=IDS, data=st.data())
    def merge_away_an_account_with_a_pending_cashback(self, first, data):
        # The merge that matters most, made common: the cashback must follow.
        pending = sorted({p[0] for p in self.model.payments.values() if not p[3]})
        self.call("merge_accounts", first, data.draw(st.sampled_from(pending)))

    @rule(account=IDS, data=st.data())
    def get_balance(self, account, data):
        moments = {0, self.time} | {t + d for t, _ in self.model.history for d in (-1, 0)}
        time_at = data.draw(st.sampled_from(sorted(m for m in moments if 0 <= m <= self.time)))
        self.call("get_balance", account, time_at)

    @rule(account=IDS)
    def reject_a_future_time_at(self, account):
        check_result(
            self.bank.get_balance,
            (self.time, account, self.time + 1),
            ValueError,
            "time_at is not after timestamp: the future is unknown",
        )

    @invariant()
    def same_balances_now_and_around_each_cashback(self):
        for account in ("a", "b", "c"):
            self.call_at_last("get_balance", account, self.model.last)
            for _, _, due, received in self.model.payments.values():
                if received:  # the moment it counts from, and the one before
                    self.call_at_last("get_balance", account, due)
                    self.call_at_last("get_balance", account, due - 1)


@shrinks
@pytest.mark.stage(1)
def test_random_deposits_and_transfers_agree_with_the_model(impl):
    run_machine(lambda: AccountsMachine(impl), examples=10, steps=20)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_rankings_agree_with_the_model(impl):
    run_machine(lambda: RankingMachine(impl), examples=40, steps=30)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_payments_agree_with_the_model(impl):
    run_machine(lambda: PaymentMachine(impl), examples=50, steps=40)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_merges_and_history_agree_with_the_model(impl):
    run_machine(lambda: HistoryMachine(impl), examples=50, steps=50)
