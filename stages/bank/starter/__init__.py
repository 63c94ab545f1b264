"""The bank kata, round 1: accounts and money.

Spec: stages/bank/stage1.md. Write the bodies below, then run:

    pytest --stage 1 katas/bank
"""

from __future__ import annotations

__all__ = ["Bank"]


class Bank:
    """Accounts holding whole amounts of money, driven by millisecond timestamps.

    Every method takes ``timestamp`` first: a non-negative int, never smaller
    than the last accepted one. Arguments are checked in this order: types
    (TypeError), values (ValueError), then the timestamp's order (ValueError);
    a rejected call changes nothing. A business failure (a missing account,
    insufficient funds) returns None or False instead of raising.
    """

    def __init__(self) -> None:
        """Create a bank with no accounts whose time has not started."""
        raise NotImplementedError("TODO(stage 1): Bank.__init__")

    def create_account(self, timestamp: int, account_id: str) -> bool:
        """Open an account with balance 0; False if an account with that id exists.

        Raises TypeError / ValueError as the class docstring says (an empty
        ``account_id`` is a ValueError).
        """
        raise NotImplementedError("TODO(stage 1): Bank.create_account")

    def deposit(self, timestamp: int, account_id: str, amount: int) -> int | None:
        """Add ``amount`` (> 0) to the account; return its new balance, None if it is missing."""
        raise NotImplementedError("TODO(stage 1): Bank.deposit")

    def transfer(self, timestamp: int, source_id: str, target_id: str, amount: int) -> int | None:
        """Move ``amount`` from source to target; return the source's new balance.

        None (and nothing changes) if either account is missing, both ids are
        the same, or the source holds less than ``amount``.
        """
        raise NotImplementedError("TODO(stage 1): Bank.transfer")
