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
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from types import ModuleType
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
            f"{row.where}: {call} returned {actual!r}; the spec expects {expected.__name__}{why}",
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


def all_example_tables(family: str, stages: tuple[int, ...] = (1, 2, 3, 4)) -> list[Any]:
    """``pytest.param(table, marks=stage(k), id=...)`` for every table of the
    given stages, to parametrize one replay test per table (in a file with no
    stage mark of its own; :func:`example_params` is for the others). A list,
    not a generator: a second collection in one process (mutmut) sees it too."""
    return [
        pytest.param(table, marks=pytest.mark.stage(stage), id=table.id)
        for stage in stages
        for table in example_tables(family, stage)
    ]


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


def run_machine(factory: Callable[[], RuleBasedStateMachine], *, examples: int, steps: int) -> None:
    """Run a hypothesis state machine ``examples`` times, ``steps`` steps each.

    The kit's hypothesis profile (derandomized in CI and during an attempt)
    supplies everything else.
    """
    run_state_machine_as_test(
        factory, settings=settings(max_examples=examples, stateful_step_count=steps)
    )


# --- messages that name the call and show lists in full --------------------------


def short(value: object) -> str:
    """A one-line repr: a dataclass instance as ``Name(field, field, ...)``
    without the field names (``Event('start', 0, 'a', 0, 0)``); containers of
    them alike; an object without a repr of its own as ``<ClassName>``;
    anything else as ``repr``."""
    if is_dataclass(value) and not isinstance(value, type):
        values = ", ".join(short(getattr(value, f.name)) for f in fields(value))
        return f"{type(value).__name__}({values})"
    if isinstance(value, list):
        return f"[{', '.join(map(short, value))}]"
    if isinstance(value, tuple):
        return f"({', '.join(map(short, value))}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{short(k)}: {short(v)}" for k, v in value.items()) + "}"
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__  # a function or a class: its name, not its address
    if type(value).__repr__ is object.__repr__:
        return f"<{type(value).__name__}>"  # never a memory address
    return repr(value)


def render_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """How a message names a call: ``TraceBuilder.feed(Sample(1, ('a',), 0))``.

    A bound method is named after its class (``Class.method``), except
    ``__contains__`` and ``__len__``, written as the learner writes them
    (``'a' in <LRUCache>``, ``len(<LRUCache>)``); arguments are rendered by
    :func:`short`, never with a memory address.
    """
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", repr(function))
    if name == "__contains__" and owner is not None and len(args) == 1 and not kwargs:
        return f"{short(args[0])} in {short(owner)}"
    if name == "__len__" and owner is not None and not args and not kwargs:
        return f"len({short(owner)})"
    if owner is not None and not isinstance(owner, ModuleType):
        name = f"{type(owner).__name__}.{name}"
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _items(count: int) -> str:
    return f"{count} item" + ("" if count == 1 else "s")


def list_difference(actual: object, expected: list[Any], rule: str = "") -> str | None:
    """None if ``actual`` is a list equal to ``expected`` item by item (:func:`same`);
    otherwise what differs: both lists in full, one short line per item, the
    first difference marked with ``>``."""
    why = f" ({rule})" if rule else ""
    if not isinstance(actual, list):
        return f"a {type(actual).__name__}, not a list{why}: {short(actual)}"
    first = next(
        (i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if not same(a, e)),
        min(len(actual), len(expected)),
    )
    if first == len(actual) == len(expected):
        return None

    def listing(items: list[Any]) -> list[str]:
        lines = [
            f"  {'>' if i == first else ' '} [{i}] {short(item)}" for i, item in enumerate(items)
        ]
        if first == len(items):
            lines.append(f"  > [{first}] (nothing)")
        return lines

    return "\n".join(
        [
            f"{_items(len(actual))}, expected {_items(len(expected))}{why}; "
            f"first difference at [{first}], marked >",
            "returned:",
            *listing(actual),
            "expected:",
            *listing(expected),
        ]
    )


def assert_same_list(actual: object, expected: list[Any], what: str, rule: str = "") -> None:
    """Fail unless ``actual`` is a list of the same items as ``expected``.

    ``what`` names the call with its arguments, ``rule`` the rule the list
    shows. The message lists both in full, one short line per item (see
    :func:`short`), the first difference marked, never truncated::

        convert_to_trace([Sample(0, ('a',)), Sample(1, ())]) returned 1 item,
        expected 2 (an empty stack ends every frame); first difference at [1], marked >
        returned:
            [0] Event('start', 0, 'a', 0)
          > [1] (nothing)
        expected:
            [0] Event('start', 0, 'a', 0)
          > [1] Event('end', 1, 'a', 0)
    """
    __tracebackhide__ = True
    difference = list_difference(actual, expected, rule)
    if difference is not None:
        raise AssertionError(f"{what} returned {difference}")


def check_returns(
    expected: Any, rule: str, function: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Call ``function(*args, **kwargs)``; it must return ``expected`` exactly
    (:func:`same`; a list is compared item by item by :func:`assert_same_list`).

    On failure (an AssertionError, so that hypothesis adds its falsifying
    example below it) the message names the call with its arguments, what came
    back (or what it raised), what was expected and ``rule``: ``get('a')
    returned None; expected '1' (a key lives while clock() < set time + ttl)``.
    Returns the value.
    """
    __tracebackhide__ = True
    call = render_call(function, *args, **kwargs)
    why = f" ({rule})" if rule else ""
    try:
        actual = function(*args, **kwargs)
    except NotImplementedError:
        raise  # a stub still to write: the runner reports it as "not implemented"
    except Exception as exc:
        raise AssertionError(
            f"{call} raised {type(exc).__name__}({exc}); expected {short(expected)}{why}"
        ) from exc
    if isinstance(expected, list):
        assert_same_list(actual, expected, call, rule)
    elif not same(actual, expected):
        raise AssertionError(f"{call} returned {short(actual)}; expected {short(expected)}{why}")
    return actual


def check_raises(
    error: type[BaseException], rule: str, function: Callable[..., Any], *args: Any, **kwargs: Any
) -> BaseException:
    """Call ``function(*args, **kwargs)``; it must raise ``error`` with a message.

    On failure the message names the call with its arguments, what it returned
    (or raised instead), the expected exception and ``rule``:
    ``expire('missing', -1) returned False; expected ValueError (arguments are
    checked before the key is looked up)``. A ``NotImplementedError`` passes
    through, so that a stub still reads as "not implemented". Returns the
    exception, for a test to check what its message names.
    """
    __tracebackhide__ = True
    call = render_call(function, *args, **kwargs)
    why = f" ({rule})" if rule else ""
    try:
        actual = function(*args, **kwargs)
    except error as exc:
        if not str(exc):
            message = f"{call} raised {error.__name__} with no message{why}"
            raise AssertionError(message) from exc
        return exc
    except NotImplementedError:
        raise  # a stub still to write: the runner reports it as "not implemented"
    except Exception as exc:
        raise AssertionError(
            f"{call} raised {type(exc).__name__}({exc}); expected {error.__name__}{why}"
        ) from exc
    raise AssertionError(f"{call} returned {short(actual)}; expected {error.__name__}{why}")


def replay_lists(
    table: ExampleTable,
    namespace: dict[str, Any],
    before: Callable[[Example], None] | None = None,
) -> None:
    """:func:`replay`, except that a row whose expected result is a list is
    checked by :func:`assert_same_list`: both lists in full, one line per item,
    the first difference marked, with the spec line and the row's rule."""
    __tracebackhide__ = True
    for row in table.rows:
        if before is not None:
            before(row)
        call, expected = row.code("call"), expect(row, namespace)
        if isinstance(expected, list):
            assert_same_list(_run(call, namespace), expected, f"{row.where}: {call}", row.rule())
        else:
            check_call(row, call, expected, namespace)


def example_params(family: str, stage: int) -> list[Any]:
    """``pytest.param(table, id=table.id)`` for each example table of one stage,
    without a stage mark: for a ``test_stageN.py`` whose ``pytestmark`` already
    marks the stage (:func:`all_example_tables` would add a second mark)."""
    return [pytest.param(table, id=table.id) for table in example_tables(family, stage)]


class ModelMachine(RuleBasedStateMachine):
    """A state machine whose failing example lists its rules only.

    Hypothesis prints every invariant after every step of a falsifying
    example; a learner needs the operations. Each invariant's assertion
    message names what it checks, so the listing can leave them out.
    """

    def check_invariants(self, settings: Any, output: Callable[[str], None], *args: Any) -> None:
        super().check_invariants(settings, lambda step: None, *args)


def check_result(
    method: Callable[..., Any], args: tuple[Any, ...], expected: Any, rule: str = ""
) -> Any:
    """Call ``method(*args)`` and check what it does, as a spec row would:
    ``expected`` is the exact result (:func:`check_returns`) or an exception
    class the call must raise with a message (:func:`check_raises`). Returns
    the call's result (None when it raised as expected).
    """
    __tracebackhide__ = True
    if isinstance(expected, type) and issubclass(expected, BaseException):
        check_raises(expected, rule, method, *args)
        return None
    return check_returns(expected, rule, method, *args)
