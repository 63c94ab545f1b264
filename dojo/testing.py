"""What every family's tests share: spec examples replayed as tests, the fake
clock, the state-machine runner and the marks the runner reads.

A family's test files import from here and hold only the family's own rules.

Spec examples
-------------
Every stage spec has a section whose heading starts with ``## Example``; each
markdown table in it is an :class:`ExampleTable`. A table has a ``call``
column and a ``result`` column; the first code span of each is the Python
text of the call and of its expected result. The result may name an
exception class (``ValueError``, ``TransactionError``): the call must raise
it. Text after the code span of a result (``: amounts are positive``) is the
rule the row shows, and failure messages quote it. Other columns belong to
the family (``time`` sets a fake clock before the row, say); a ``note``
column is free text. :func:`replay` runs a table against the code under test,
so a spec and the code can never disagree on an example.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from dojo.layout import Repo

REPO = Repo(Path(__file__).resolve().parents[1])

# A state machine that finds a bug spends its time shrinking it: give it room
# beyond the kit's per-test limit, so the learner reads the counterexample.
shrinks = pytest.mark.timeout(30)

CODE_SPAN = re.compile(r"`([^`]*)`")


class SpecTableError(ValueError):
    """A spec's example table cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One row of a spec's example table."""

    spec: str  # the spec file, relative to the kit: stages/F/stageN.md
    line: int  # the row's line in the spec
    number: int  # 1 for the table's first row
    cells: dict[str, str]  # column header (lowercase) -> the cell's markdown text

    @property
    def where(self) -> str:
        return f"{self.spec}:{self.line} (row {self.number})"

    def code(self, column: str) -> str:
        """The first code span of ``column``; SpecTableError if the cell has none."""
        found = CODE_SPAN.search(self.cells.get(column, ""))
        if found is None:
            raise SpecTableError(f"{self.where}: the {column!r} cell has no `code`")
        return found.group(1)

    def codes(self, column: str) -> list[str]:
        """Every code span of ``column``, in order."""
        return CODE_SPAN.findall(self.cells.get(column, ""))

    def rule(self, column: str = "result") -> str:
        """The text after the first code span of ``column``, without its leading ``:``."""
        text = self.cells.get(column, "")
        found = CODE_SPAN.search(text)
        rest = text[found.end() :] if found else text
        return rest.strip().lstrip(":").strip()


@dataclass(frozen=True)
class ExampleTable:
    """One markdown table of a spec's example section."""

    spec: str
    line: int
    heading: str
    columns: tuple[str, ...]
    rows: tuple[Example, ...] = field(default=())

    @property
    def id(self) -> str:
        """A test id: ``stage2.md:71``."""
        return f"{Path(self.spec).name}:{self.line}"


def example_tables(family: str, stage: int, repo: Repo = REPO) -> list[ExampleTable]:
    """The example tables of ``stages/F/stageN.md``, in order.

    Raises SpecTableError when the spec has no example section, the section
    has no table, or a row's cells do not match the header.
    """
    path = repo.spec(family, stage)
    spec = repo.relative(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    tables: list[ExampleTable] = []
    in_examples = False
    heading = ""
    number = 0
    while number < len(lines):
        text = lines[number].strip()
        if text.startswith("## "):
            in_examples = text.removeprefix("## ").lower().startswith("example")
            heading = text.removeprefix("## ")
        elif text.startswith("#"):
            heading = text.lstrip("#").strip() if in_examples else heading
        elif in_examples and text.startswith("|"):
            block = []
            while number < len(lines) and lines[number].strip().startswith("|"):
                block.append((number + 1, lines[number].strip()))
                number += 1
            tables.append(_table(spec, heading, block))
            continue
        number += 1
    if not tables:
        raise SpecTableError(f"{spec}: no table under a '## Example' heading")
    return tables


def _table(spec: str, heading: str, block: list[tuple[int, str]]) -> ExampleTable:
    if len(block) < 3 or not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", block[1][1].replace(" ", "")):
        raise SpecTableError(f"{spec}:{block[0][0]}: a table needs a header, a --- line and rows")
    columns = tuple(c.lower() for c in _cells(block[0][1]))
    rows = []
    for number, (line, text) in enumerate(block[2:], 1):
        cells = _cells(text)
        if len(cells) != len(columns):
            raise SpecTableError(
                f"{spec}:{line}: {len(cells)} cells in a table of {len(columns)} columns"
            )
        rows.append(Example(spec, line, number, dict(zip(columns, cells, strict=True))))
    return ExampleTable(spec, block[0][0], heading, columns, tuple(rows))


def _cells(row: str) -> list[str]:
    """A table row's cells; a ``|`` inside a code span does not split."""
    cells, current, in_code = [], [], False
    for char in row.strip().removeprefix("|").removesuffix("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells


def same(actual: object, expected: object) -> bool:
    """Equal, and of the same types all the way down (``1`` is not ``True``, a
    list is not a tuple, ``6`` is not ``6.0``)."""
    if type(actual) is not type(expected) or actual != expected:
        return False
    if isinstance(expected, list | tuple):
        return all(same(a, e) for a, e in zip(actual, expected, strict=True))  # type: ignore[arg-type]
    if isinstance(expected, dict):
        return all(same(actual[k], v) for k, v in expected.items())  # type: ignore[index]
    return True


def expect(row: Example, namespace: dict[str, Any]) -> Any:
    """The row's expected result, evaluated in ``namespace``."""
    return eval(row.code("result"), namespace)


def replay(
    table: ExampleTable,
    namespace: dict[str, Any],
    before: Callable[[Example], None] | None = None,
) -> None:
    """Make every call of ``table`` in order and check its result exactly.

    ``namespace`` holds the objects the calls name (``{"db": db, "math":
    math}``); ``before(row)`` runs first for each row (to move a clock to the
    row's ``time``, say). A failure names the spec line, the call, what came
    back and what the spec says, with the row's rule.
    """
    for row in table.rows:
        if before is not None:
            before(row)
        check_call(row, row.code("call"), expect(row, namespace), namespace)


def check_call(row: Example, call: str, expected: Any, namespace: dict[str, Any]) -> None:
    """Evaluate ``call`` and compare it with ``expected`` (a value, or an exception class)."""
    why = f" ({row.rule()})" if row.rule() else ""
    if isinstance(expected, type) and issubclass(expected, BaseException):
        try:
            actual = _run(call, namespace)
        except expected as exc:
            assert str(exc), f"{row.where}: {call} raised {expected.__name__} with no message"
            return
        pytest.fail(
            f"{row.where}: {call} returned {actual!r}; the spec expects "
            f"{expected.__name__}{why}",
            pytrace=False,
        )
    actual = _run(call, namespace)
    if not same(actual, expected):
        pytest.fail(
            f"{row.where}: {call} returned {actual!r}; the spec expects {expected!r}{why}",
            pytrace=False,
        )


def _run(call: str, namespace: dict[str, Any]) -> Any:
    """Evaluate an expression, or execute statements (the last one's value is returned)."""
    tree = ast.parse(call, mode="exec")
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<spec example>", "exec"), namespace)
        return eval(compile(last, "<spec example>", "eval"), namespace)
    exec(compile(tree, "<spec example>", "exec"), namespace)
    return None


def all_example_tables(family: str, stages: tuple[int, ...] = (1, 2, 3, 4)) -> Iterator[Any]:
    """``pytest.param(table, marks=stage(k), id=...)`` for every table of the
    given stages, to parametrize one replay test per table."""
    for stage in stages:
        for table in example_tables(family, stage):
            yield pytest.param(table, marks=pytest.mark.stage(stage), id=table.id)


# --- clocks and state machines ----------------------------------------------------


class FakeClock:
    """A clock that stands still until the test moves it.

    ``clock()`` returns the time in seconds and counts the read in ``calls``,
    so a test can check how often an operation reads it. It starts at 1000.0
    (not 0, so an expiry mistaken for a duration shows).
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "the clock never goes backwards"
        self.now += seconds


class ModelMachine(RuleBasedStateMachine):
    """A state machine whose falsifying example lists the operations only.

    Hypothesis checks the invariants after every step as usual but prints no
    ``state.invariant()`` line for each of them, so the shrunk sequence a
    learner reads is the operations; an invariant's failure message names it.
    """

    def check_invariants(self, settings: Any, output: Any, *rest: Any) -> None:
        super().check_invariants(settings, _silent, *rest)


def _silent(line: str) -> None:
    """An output for lines nobody should read."""


def run_machine(
    factory: Callable[[], RuleBasedStateMachine], *, examples: int, steps: int
) -> None:
    """Run a hypothesis state machine ``examples`` times, ``steps`` steps each.

    The kit's hypothesis profile (derandomized in CI and during an attempt)
    supplies everything else.
    """
    run_state_machine_as_test(
        factory, settings=settings(max_examples=examples, stateful_step_count=steps)
    )


# --- calls checked with a message that names them ------------------------------------


def render_call(method: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """``deposit(1, 'a', 0)``: the method's name and the arguments it was given."""
    name = getattr(method, "__name__", repr(method))
    return f"{name}({', '.join(map(repr, args))})"


def check_result(
    method: Callable[..., Any], args: tuple[Any, ...], expected: Any, rule: str = ""
) -> Any:
    """Call ``method(*args)`` and check what it does, as a spec row would.

    ``expected`` is the exact result (compared with :func:`same`) or an
    exception class the call must raise, with a message. A failure names the
    call, what came back, what was expected and the rule:
    ``deposit(1, 'a', 0) returned 10; expected ValueError (amounts are
    positive)``. A stub's NotImplementedError goes through untouched, so the
    runner reports it as "not implemented". Returns the call's result (None
    when it raised as expected).
    """
    __tracebackhide__ = True
    raising = isinstance(expected, type) and issubclass(expected, BaseException)

    def failure(outcome: str) -> str:
        wanted = expected.__name__ if raising else repr(expected)
        why = f" ({rule})" if rule else ""
        return f"{render_call(method, args)} {outcome}; expected {wanted}{why}"

    try:
        actual = method(*args)
    except NotImplementedError:
        raise
    except Exception as exc:
        if raising and isinstance(exc, expected):
            if not str(exc):
                raise AssertionError(
                    f"{render_call(method, args)} raised {expected.__name__} with no message; "
                    "an exception says what was wrong"
                ) from exc
            return None
        raise AssertionError(failure(f"raised {type(exc).__name__}: {exc}")) from exc
    if raising or not same(actual, expected):
        raise AssertionError(failure(f"returned {actual!r}"))
    return actual
