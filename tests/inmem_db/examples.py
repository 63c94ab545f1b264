"""Replaying the spec's example tables against an ``InMemoryDB`` reading a fake clock."""

from __future__ import annotations

import math

from dojo.testing import Example, ExampleTable, FakeClock, replay


def replay_with_clock(impl, table: ExampleTable, *names: str) -> None:
    """Replay a table of stages 2-4: ``db`` reads a clock set to each row's ``time``.

    ``names`` are further public names of the code under test the table uses
    (``TransactionError``).
    """
    clock = FakeClock()
    namespace = {"db": impl.InMemoryDB(clock=clock), "math": math}
    namespace.update({name: getattr(impl, name) for name in names})

    def before(row: Example) -> None:
        time = float(row.cells["time"])
        assert time >= clock.now, f"{row.where}: the time goes backwards"
        clock.now = time

    replay(table, namespace, before)
