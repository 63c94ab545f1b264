"""The bank performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` does n operations on n/10 accounts, a mix of the
operations of stages 1..stages, and returns how many it did. Time moves 100 s
per operation, so cashbacks (due a day after their payment) fall due along
the way.
"""

from __future__ import annotations

import random

STAGE_OPERATIONS = {
    1: "create_account, deposit, transfer",
    2: "top_spenders",
    3: "pay, get_payment_status (cashbacks fall due)",
    4: "merge_accounts, get_balance at a past time",
}
STEP_MS = 100_000


def workload(impl: object, n: int, stages: int) -> int:
    """n operations of stages 1..stages on ``impl.Bank``; returns the count."""
    rng = random.Random(n)
    bank = impl.Bank()
    t = 0
    ids = [f"acct{i:07d}" for i in range(max(2, n // 10))]
    for account_id in ids:
        bank.create_account(t, account_id)
        bank.deposit(t, account_id, 1_000_000)
    ops = 2 * len(ids)
    payments: list[tuple[str, str]] = []
    while ops < n:
        t += STEP_MS
        a, b = rng.sample(ids, 2)
        step = ops % 20
        if stages >= 2 and step == 0:
            bank.top_spenders(t, 10)
        elif stages >= 3 and step in (1, 2):
            payment = bank.pay(t, a, rng.randrange(1, 500))
            if payment is not None:
                payments.append((a, payment))
        elif stages >= 3 and step == 3 and payments:
            bank.get_payment_status(t, *rng.choice(payments))
        elif stages >= 4 and step == 4:
            bank.merge_accounts(t, a, b)
            bank.create_account(t, b)  # the id is free again: keep the population
            ops += 1
        elif stages >= 4 and step in (5, 6):
            bank.get_balance(t, a, rng.randrange(t + 1))
        elif step < 12:
            bank.transfer(t, a, b, rng.randrange(1, 1000))
        else:
            bank.deposit(t, a, rng.randrange(1, 1000))
        ops += 1
    return ops
