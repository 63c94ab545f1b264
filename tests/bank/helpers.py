"""Helpers shared by the bank tests."""

from __future__ import annotations


def bank_with(new_bank, **balances: int):
    """A bank (time 0) with one account per keyword, holding that balance."""
    bank = new_bank()
    for account_id, balance in balances.items():
        assert bank.create_account(0, account_id) is True
        if balance:
            assert bank.deposit(0, account_id, balance) == balance
    return bank
