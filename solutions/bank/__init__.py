"""Reference solution of the bank kata, final round (every earlier round's API works).

Data layout::

    _accounts   id -> _Account            the live accounts, one per id
    _spenders   SortedList[(-outgoing, id)]  live accounts, in top_spenders order
    _payments   payment id -> _Payment    every successful payment, by id
    _pending    deque[_Payment]           cashbacks not credited yet, in payment order
    _holders    id -> [_Account]          every account that ever had the id, in order

Every operation first checks its arguments, then moves the bank's time and
credits the cashbacks due by then (``_advance``). Cashbacks fall due exactly one
day after their payment and payments come in time order, so the deque is also
in due order: crediting is a pop from the left, never a search.

History is a timeline per account: ``(time, balance)`` after each change, the
last change at a given time overwriting the entry of that time. A cashback is
written at its due time, not at the time of the operation that credits it; that
keeps the timeline sorted because cashbacks are credited before any operation
at or after their due time. ``get_balance`` is then two bisections: one for the
account that had the id, one in its timeline.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque

from sortedcontainers import SortedList

__all__ = ["Bank"]

DAY_MS = 86_400_000  # a cashback falls due this long after its payment
CASHBACK_PERCENT = 2


class _Account:
    __slots__ = ("balance", "balances", "closed", "created", "id", "into", "outgoing", "times")

    def __init__(self, account_id: str, created: int) -> None:
        self.id = account_id
        self.balance = 0
        self.outgoing = 0
        self.created = created
        self.closed: int | None = None  # the time it was merged into ``into``
        self.into: _Account | None = None
        self.times = [created]
        self.balances = [0]

    def record(self, time: int) -> None:
        """Append the balance at ``time`` to the timeline (replacing an entry of that time)."""
        if self.times[-1] == time:
            self.balances[-1] = self.balance
        else:
            self.times.append(time)
            self.balances.append(self.balance)

    def balance_at(self, time: int) -> int:
        return self.balances[bisect_right(self.times, time) - 1]


class _Payment:
    __slots__ = ("_owner", "cashback", "due", "received")

    def __init__(self, owner: _Account, amount: int, due: int) -> None:
        self._owner = owner
        self.cashback = amount * CASHBACK_PERCENT // 100
        self.due = due
        self.received = False

    @property
    def owner(self) -> _Account:
        """The live account the payment answers to: its payer, or where merges took the payer."""
        # A merge only links the second account to the first, so it costs O(1)
        # however many payments move; the chain is walked here and shortened.
        owner = self._owner
        while owner.into is not None:
            owner = owner.into
        self._owner = owner
        return owner


class Bank:
    """Accounts holding whole amounts of money, driven by millisecond timestamps.

    Every method takes ``timestamp`` first: a non-negative int, never smaller
    than the last accepted one. Arguments are checked in this order: types
    (TypeError), values (ValueError), then the timestamp's order (ValueError);
    a rejected call changes nothing. A business failure (a missing account,
    insufficient funds) returns None or False instead of raising.

    >>> bank = Bank()
    >>> bank.create_account(1, "alice"), bank.deposit(2, "alice", 500)
    (True, 500)
    """

    def __init__(self) -> None:
        """Create a bank with no accounts whose time has not started.

        Runtime complexity: O(1)
        """
        self._time = -1
        self._accounts: dict[str, _Account] = {}
        self._spenders = SortedList()
        self._payments: dict[str, _Payment] = {}
        self._pending: deque[_Payment] = deque()
        self._holders: dict[str, list[_Account]] = {}

    # -- stage 1: accounts and money -----------------------------------------

    def create_account(self, timestamp: int, account_id: str) -> bool:
        """Open an account with balance 0; False if an account with that id exists.

        Raises TypeError / ValueError as the class docstring says (an empty
        ``account_id`` is a ValueError).

        Runtime complexity: O(log n), n the number of accounts

        >>> bank = Bank()
        >>> bank.create_account(1, "a"), bank.create_account(2, "a")
        (True, False)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id", account_id)
        _require_time("timestamp", timestamp)
        _require_id("account_id", account_id)
        self._advance(timestamp)
        if account_id in self._accounts:
            return False
        account = _Account(account_id, timestamp)
        self._accounts[account_id] = account
        self._spenders.add((0, account_id))
        self._holders.setdefault(account_id, []).append(account)
        return True

    def deposit(self, timestamp: int, account_id: str, amount: int) -> int | None:
        """Add ``amount`` (> 0) to the account; return its new balance, None if it is missing.

        Runtime complexity: O(1) amortised (plus the cashbacks credited)

        >>> bank = Bank()
        >>> bank.create_account(1, "a"), bank.deposit(2, "a", 10), bank.deposit(3, "b", 10)
        (True, 10, None)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id", account_id)
        _require_int("amount", amount)
        _require_time("timestamp", timestamp)
        _require_id("account_id", account_id)
        _require_positive("amount", amount)
        self._advance(timestamp)
        account = self._accounts.get(account_id)
        if account is None:
            return None
        account.balance += amount
        account.record(timestamp)
        return account.balance

    def transfer(self, timestamp: int, source_id: str, target_id: str, amount: int) -> int | None:
        """Move ``amount`` from source to target; return the source's new balance.

        None (and nothing changes) if either account is missing, both ids are
        the same, or the source holds less than ``amount``.

        Runtime complexity: O(log n)

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "a"), bank.create_account(1, "b"), bank.deposit(1, "a", 10)
        >>> bank.transfer(2, "a", "b", 4), bank.transfer(3, "a", "b", 7)
        (6, None)
        """
        _require_int("timestamp", timestamp)
        _require_str("source_id", source_id)
        _require_str("target_id", target_id)
        _require_int("amount", amount)
        _require_time("timestamp", timestamp)
        _require_id("source_id", source_id)
        _require_id("target_id", target_id)
        _require_positive("amount", amount)
        self._advance(timestamp)
        source = self._accounts.get(source_id)
        target = self._accounts.get(target_id)
        if source is None or target is None or source is target or source.balance < amount:
            return None
        self._spend(source, amount)
        target.balance += amount
        source.record(timestamp)
        target.record(timestamp)
        return source.balance

    # -- stage 2: ranking ------------------------------------------------------

    def top_spenders(self, timestamp: int, n: int) -> list[tuple[str, int]]:
        """The ``n`` (>= 1) live accounts with the largest outgoing totals.

        ``(account_id, total)`` pairs, total descending then id ascending;
        accounts that never spent are included; all accounts if fewer than n.

        Runtime complexity: O(log n + k), k the number of pairs returned

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "b"), bank.create_account(1, "a")
        >>> bank.top_spenders(2, 5)
        [('a', 0), ('b', 0)]
        """
        _require_int("timestamp", timestamp)
        _require_int("n", n)
        _require_time("timestamp", timestamp)
        _require_positive("n", n)
        self._advance(timestamp)
        return [(account_id, -negated) for negated, account_id in self._spenders.islice(0, n)]

    # -- stage 3: payments with cashback ----------------------------------------

    def pay(self, timestamp: int, account_id: str, amount: int) -> str | None:
        """Withdraw ``amount``; return the new payment's id ("payment1", "payment2", ...).

        The payment's cashback, 2% of ``amount`` rounded down, is credited
        exactly one day (86,400,000 ms) later. None (and no id is used up) if
        the account is missing or holds less than ``amount``.

        Runtime complexity: O(log n)

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "a"), bank.deposit(1, "a", 100)
        >>> bank.pay(2, "a", 50), bank.pay(3, "a", 51)
        ('payment1', None)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id", account_id)
        _require_int("amount", amount)
        _require_time("timestamp", timestamp)
        _require_id("account_id", account_id)
        _require_positive("amount", amount)
        self._advance(timestamp)
        account = self._accounts.get(account_id)
        if account is None or account.balance < amount:
            return None
        self._spend(account, amount)
        account.record(timestamp)
        payment_id = f"payment{len(self._payments) + 1}"
        payment = _Payment(account, amount, timestamp + DAY_MS)
        self._payments[payment_id] = payment
        self._pending.append(payment)
        return payment_id

    def get_payment_status(self, timestamp: int, account_id: str, payment_id: str) -> str | None:
        """The payment's status: "IN_PROGRESS", then "CASHBACK_RECEIVED" once credited.

        None if the account or the payment does not exist, or the payment
        belongs to another account.

        Runtime complexity: O(1) (plus the cashbacks credited)

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "a"), bank.deposit(1, "a", 100), bank.pay(1, "a", 50)
        >>> bank.get_payment_status(2, "a", "payment1"), bank.get_payment_status(2, "a", "x")
        ('IN_PROGRESS', None)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id", account_id)
        _require_str("payment_id", payment_id)
        _require_time("timestamp", timestamp)
        _require_id("account_id", account_id)
        self._advance(timestamp)
        account = self._accounts.get(account_id)
        payment = self._payments.get(payment_id)
        if account is None or payment is None or payment.owner is not account:
            return None
        return "CASHBACK_RECEIVED" if payment.received else "IN_PROGRESS"

    # -- stage 4: merges and history ----------------------------------------------

    def merge_accounts(self, timestamp: int, account_id_1: str, account_id_2: str) -> bool:
        """Fold the second account into the first and remove it; False if not possible.

        The first account takes the second's balance, outgoing total and
        payments (so their pending cashbacks land in it). The second id is
        free from now on. False if either account is missing or both ids are
        the same.

        Runtime complexity: O(log n)

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "a"), bank.create_account(1, "b"), bank.deposit(1, "b", 5)
        >>> bank.merge_accounts(2, "a", "b"), bank.deposit(3, "a", 1), bank.deposit(3, "b", 1)
        (True, 6, None)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id_1", account_id_1)
        _require_str("account_id_2", account_id_2)
        _require_time("timestamp", timestamp)
        _require_id("account_id_1", account_id_1)
        _require_id("account_id_2", account_id_2)
        self._advance(timestamp)
        first = self._accounts.get(account_id_1)
        second = self._accounts.get(account_id_2)
        if first is None or second is None or first is second:
            return False
        self._spenders.remove((-first.outgoing, first.id))
        self._spenders.remove((-second.outgoing, second.id))
        first.outgoing += second.outgoing
        self._spenders.add((-first.outgoing, first.id))
        first.balance += second.balance
        first.record(timestamp)
        # Payments reach their account through .owner, which follows ``into``:
        # this one link moves the second's payments, status queries and
        # pending cashbacks to the first.
        second.into = first
        second.closed = timestamp
        del self._accounts[second.id]
        return True

    def get_balance(self, timestamp: int, account_id: str, time_at: int) -> int | None:
        """The balance of the account known as ``account_id`` at ``time_at``.

        That is its balance after every operation at ``time_at``, a cashback
        counting from its due time. None if no account had that id at
        ``time_at`` (not yet created, or merged away by then). Raises
        ValueError if ``time_at`` is negative or greater than ``timestamp``.

        Runtime complexity: O(log h), h the length of the account's history

        >>> bank = Bank()
        >>> _ = bank.create_account(1, "a"), bank.deposit(5, "a", 10), bank.deposit(9, "a", 1)
        >>> bank.get_balance(10, "a", 7), bank.get_balance(10, "a", 0)
        (10, None)
        """
        _require_int("timestamp", timestamp)
        _require_str("account_id", account_id)
        _require_int("time_at", time_at)
        _require_time("timestamp", timestamp)
        _require_id("account_id", account_id)
        _require_time("time_at", time_at)
        if time_at > timestamp:
            raise ValueError(f"time_at must not be after timestamp, got {time_at} > {timestamp}")
        self._advance(timestamp)
        holders = self._holders.get(account_id, [])
        index = bisect_right(holders, time_at, key=_created) - 1
        if index < 0:
            return None
        account = holders[index]
        if account.closed is not None and account.closed <= time_at:
            return None
        return account.balance_at(time_at)

    # -- internals ------------------------------------------------------------------

    def _advance(self, timestamp: int) -> None:
        """Accept ``timestamp`` as the bank's time and credit the cashbacks due by then."""
        if timestamp < self._time:
            raise ValueError(
                f"timestamp must not be smaller than the last accepted one ({self._time}), "
                f"got {timestamp}"
            )
        self._time = timestamp
        pending = self._pending
        while pending and pending[0].due <= timestamp:
            payment = pending.popleft()
            payment.received = True
            owner = payment.owner
            owner.balance += payment.cashback
            owner.record(payment.due)

    def _spend(self, account: _Account, amount: int) -> None:
        """Take ``amount`` out of ``account`` and count it as outgoing."""
        self._spenders.remove((-account.outgoing, account.id))
        account.outgoing += amount
        account.balance -= amount
        self._spenders.add((-account.outgoing, account.id))

    def _check(self) -> None:
        """Assert the internal invariants, in O(everything): the model tests call it."""
        self._spenders._check()
        live = self._accounts.values()
        assert list(self._spenders) == sorted((-a.outgoing, a.id) for a in live)
        for account_id, account in self._accounts.items():
            assert account.id == account_id and account.closed is None
            assert account.balance >= 0 and account.outgoing >= 0
            assert account.balances[-1] == account.balance, "the timeline ends at the balance"
            assert account.times == sorted(set(account.times)), "one entry per time, in order"
            assert account.times[-1] <= self._time
            assert self._holders[account_id][-1] is account, "the live holder is the last"
        for holders in self._holders.values():
            created = [a.created for a in holders]
            assert created == sorted(created)
            assert all(a.closed is not None for a in holders[:-1]), "one live holder at most"
            assert all((a.into is None) == (a.closed is None) for a in holders)
        assert all(p.owner.closed is None for p in self._payments.values()), "owners are live"
        assert list(self._payments) == [f"payment{i}" for i in range(1, len(self._payments) + 1)]
        dues = [p.due for p in self._pending]
        assert dues == sorted(dues) and all(d > self._time for d in dues), "due ones are credited"
        assert sum(not p.received for p in self._payments.values()) == len(self._pending)


def _created(account: _Account) -> int:
    return account.created


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")


def _require_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")


def _require_time(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be a non-negative number of milliseconds, got {value}")


def _require_id(name: str, value: str) -> None:
    if not value:
        raise ValueError(f"{name} must not be empty")


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be positive, got {value}")
