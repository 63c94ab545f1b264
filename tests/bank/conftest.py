"""Fixtures of the bank tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dojo.testing import check_result


@pytest.fixture
def bank_with(impl) -> Callable[..., object]:
    """Makes a bank (time 0) with one account per keyword, holding that balance.

    ``bank_with(a=100, b=0)``. Tests call it in their body, so that a
    constructor that raises fails the test itself rather than its setup.
    """

    def make(**balances: int) -> object:
        bank = impl.Bank()
        for account_id, balance in balances.items():
            check_result(bank.create_account, (0, account_id), True, "setting up: a new id")
            if balance:
                check_result(bank.deposit, (0, account_id, balance), balance, "setting up")
        return bank

    return make
