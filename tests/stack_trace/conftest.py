"""Fixtures of the stack_trace tests: short ways to write samples and events,
and the replay of the specs' example tables.

The sample and event makers are module-scoped (they only wrap ``impl``), so
hypothesis tests can use them. A stack is written as one string of
space-separated names, outermost first: ``"main parse"`` is ``("main",
"parse")`` and ``""`` the empty stack.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dojo.testing import Example, ExampleTable, SpecTableError, replay_lists


@pytest.fixture(scope="module")
def samples(impl) -> Callable[..., list]:
    """``samples((0, "a b"), (1, "c", 2))``: Samples of ``(ts, stack[, thread])`` rows.

    The thread is passed only when a row gives one, so rows without it work
    against a round-1 ``Sample``.
    """

    def make(*rows: tuple) -> list:
        return [impl.Sample(row[0], row[1].split(), *row[2:]) for row in rows]

    return make


def _event(impl, kind: str) -> Callable[..., object]:
    def make(ts: float, name: str, depth: int, thread: int | None = None) -> object:
        return impl.Event(kind, ts, name, depth, *([] if thread is None else [thread]))

    return make


@pytest.fixture(scope="module")
def start(impl) -> Callable[..., object]:
    """``start(ts, name, depth[, thread])``: a start ``Event`` of the code under test."""
    return _event(impl, "start")


@pytest.fixture(scope="module")
def end(impl) -> Callable[..., object]:
    """``end(ts, name, depth[, thread])``: an end ``Event`` of the code under test."""
    return _event(impl, "end")


@pytest.fixture
def replay_example(impl) -> Callable[[ExampleTable], None]:
    """Replays a spec's example table against the code under test.

    The calls see the module's public names (``Sample``, ``convert_to_trace``,
    ...) and ``samples``: the ``sample`` cells of this row and of the rows
    above it, in order. A ``#`` cell must be the row's index in ``samples``.
    """

    def run(table: ExampleTable) -> None:
        module = vars(impl.module)
        namespace = {name: value for name, value in module.items() if not name.startswith("_")}
        fed: list = []
        namespace["samples"] = fed

        def take_sample(row: Example) -> None:
            if "sample" not in row.cells:
                return
            if "#" in row.cells and row.cells["#"] != str(len(fed)):
                raise SpecTableError(f"{row.where}: # is {row.cells['#']}, expected {len(fed)}")
            fed.append(eval(row.code("sample"), namespace))

        replay_lists(table, namespace, before=take_sample)

    return run
