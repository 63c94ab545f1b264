"""Replaying the spec's example tables against an ``InMemoryDB`` reading a fake clock."""

from __future__ import annotations

import math

import pytest

from dojo.testing import Example, ExampleTable, FakeClock, example_tables, replay


def spec_tables(stage: int) -> pytest.MarkDecorator:
    """Parametrize a test with each example table of ``stages/inmem_db/stageN.md``.

    Not ``all_example_tables``: it marks each table with its stage, and the
    test file's ``pytestmark`` already does (the kit allows one stage mark).
    """
    tables = example_tables("inmem_db", stage)
    return pytest.mark.parametrize("table", tables, ids=[table.id for table in tables])


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
