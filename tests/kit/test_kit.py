"""The kit checks itself, for every family found under ``stages/``.

Every spec, starter, reference and test file exists; every test belongs to
exactly one stage; the starter shows exactly the stage-1 API with the
reference's signatures and fails every test (stage 1 as "not implemented");
no spec or starter mentions a name a later stage adds (tests/kit/test_hints.py
checks hints and debriefs). Every spec follows the template, and each of its
example tables parses and is replayed by exactly one test of its stage; every
performance test declares its figures; each family's workload runs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from dojo.layout import STAGES, Repo
from dojo.loader import load_package
from dojo.plugin import STAGE_FILE, item_stage
from dojo.testing import ExampleTable, SpecTableError, example_tables
from tests.kit.stage_api import later_names, stage_api

REPO = Repo(Path(__file__).resolve().parents[2])
FAMILIES = REPO.families()



def public_names(module: ModuleType) -> set[str]:
    return set(getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")]))


def members(cls: type) -> set[str]:
    """Public attributes a class defines itself, dunder methods included."""
    return {
        name
        for name, value in vars(cls).items()
        if not name.startswith("_") or (name.endswith("__") and callable(value))
    }


def test_there_is_at_least_one_family() -> None:
    assert "inmem_db" in FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_its_specs_starter_reference_and_tests(family: str) -> None:
    expected = [REPO.spec(family, s) for s in STAGES]
    expected += [REPO.starter(family) / "__init__.py", REPO.solution(family) / "__init__.py"]
    expected += [REPO.tests(family) / f"test_stage{s}.py" for s in STAGES]
    expected += [REPO.tests(family) / name for name in ("test_model.py", "api.py")]
    missing = [REPO.relative(p) for p in expected if not p.is_file()]
    assert not missing, f"missing kit files: {missing}"


class Collector:
    """A plugin that keeps the collected items of an in-process pytest run."""

    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


@functools.cache
def collected(family: str) -> tuple[pytest.Item, ...]:
    """The tests of ``tests/F``, collected once (in process) for every check that reads them."""
    collector = Collector()
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", str(REPO.tests(family))]
    assert pytest.main(args, plugins=[collector]) == pytest.ExitCode.OK, f"tests/{family}"
    return tuple(collector.items)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_test_belongs_to_exactly_one_stage(family: str) -> None:
    items = collected(family)
    assert items, f"no tests collected in tests/{family}"
    for item in items:
        marks = [m.args for m in item.iter_markers("stage")]
        assert len(marks) == 1, f"{item.nodeid} has {len(marks)} stage markers, expected 1"
        assert item_stage(item) in STAGES, f"{item.nodeid}: stage {marks[0]} is not 1-4"
        in_file = STAGE_FILE.fullmatch(item.path.name)
        if in_file:
            assert item_stage(item) == int(in_file.group(1)), f"{item.nodeid} is in another file"
    assert {item_stage(i) for i in items} == set(STAGES), "a stage has no tests"


@pytest.mark.parametrize("family", FAMILIES)
def test_no_test_id_holds_a_memory_address(family: str) -> None:
    """pytest-xdist workers must collect the same ids: an address differs per process."""
    found = [
        item.nodeid for item in collected(family) if re.search(r" at 0x[0-9a-f]+", item.nodeid)
    ]
    assert not found, f"give these parameters an id (pytest.param(..., id=...)): {found}"


@pytest.mark.parametrize("family", FAMILIES)
def test_the_starter_has_exactly_the_stage_one_api_with_the_reference_signatures(
    family: str,
) -> None:
    api = stage_api(family)
    starter = load_package(REPO.starter(family), f"kit_starter.{family}", "starter")
    reference = load_package(REPO.solution(family), f"kit_reference.{family}", "reference")
    assert public_names(starter) == set(api[1]), "the starter must show the stage-1 API only"
    everything: dict[str, set[str]] = {}
    for added in api.values():
        for name, names in added.items():
            everything.setdefault(name, set()).update(names)
    assert public_names(reference) == set(everything), "the reference has undeclared names"
    for name, declared in api[1].items():
        ours, theirs = getattr(starter, name), getattr(reference, name)
        if not inspect.isclass(ours):
            assert_prefix_signature(name, ours, theirs)
            continue
        assert members(ours) == declared, f"starter {name} must define exactly {declared}"
        assert members(theirs) == everything[name], f"reference {name} has undeclared members"
        for member in declared:
            assert_prefix_signature(
                f"{name}.{member}", getattr(ours, member), getattr(theirs, member)
            )


def assert_prefix_signature(name: str, starter: object, reference: object) -> None:
    """The starter's parameters are the reference's first ones; the rest default."""
    if not callable(starter):
        return
    ours = list(inspect.signature(starter).parameters.values())
    theirs = list(inspect.signature(reference).parameters.values())
    assert ours == theirs[: len(ours)], f"{name}: starter {ours} vs reference {theirs}"
    later = theirs[len(ours) :]
    assert all(p.default is not p.empty for p in later), f"{name}: later parameters need defaults"


@pytest.mark.parametrize("family", FAMILIES)
def test_no_spec_or_starter_mentions_a_name_a_later_stage_adds(family: str) -> None:
    for stage in STAGES:
        later = later_names(family, stage)
        texts = {REPO.relative(REPO.spec(family, stage)): REPO.spec(family, stage).read_text()}
        if stage == 1:
            starter = REPO.starter(family) / "__init__.py"
            texts[REPO.relative(starter)] = starter.read_text()
        for where, text in texts.items():
            for name in later:
                pattern = rf"`{re.escape(name)}\b|\b{re.escape(name)}\("
                assert not re.search(pattern, text), f"{where} mentions {name!r} from a later stage"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("family", FAMILIES)
def test_the_starter_fails_every_test_and_stage_one_as_not_implemented(
    family: str, tmp_path: Path
) -> None:
    for part in ("pyproject.toml", "conftest.py", "stages", "solutions", "tests"):
        source = REPO.root / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    report = tmp_path / "report.xml"
    env = {**os.environ, "KATA_HOME": str(tmp_path / ".kata")}
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--stage", "4", "--ignore-lock", f"katas/{family}"),
            *("-q", "-p", "no:cacheprovider", f"--junitxml={report}"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=55,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout[-3000:] + run.stderr
    failures = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        stage = case.find("properties/property[@name='stage']")
        failures[name] = (stage.get("value") if stage is not None else None, case.find("failure"))
    passed = [name for name, (_, failure) in failures.items() if failure is None]
    assert not passed, f"tests that pass (or error) against the starter: {passed}"
    for name, (stage, failure) in failures.items():
        assert stage is not None, f"{name} has no stage"
        if stage == "1":
            message = failure.get("message", "")
            assert "not implemented: TODO(stage 1)" in message, f"{name}: {message}"


# --- specs: the template and the example tables ----------------------------------------

TEMPLATE = (
    "API",
    "Conventions",
    "Rules",
    "Example",
    "Still holds from earlier rounds",
    "Performance",
)


def template(stage: int) -> list[str]:
    """The ``##`` headings every spec of ``stage`` has, in this order (Conventions: stage 1)."""
    return [h for h in TEMPLATE if h != "Conventions" or stage == 1]


def headings(path: Path, level: str = "## ") -> list[str]:
    """The headings of one level in a markdown file, outside fenced code blocks."""
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith(level):
            found.append(line.removeprefix(level).strip())
    return found


def is_heading(text: str, name: str) -> bool:
    """``## Rules`` is the Rules heading, and so are ``## Rules: save and load`` and
    ``## Conventions (they hold in every round)`` for theirs."""
    return text == name or (text.startswith(name) and text[len(name)] in " :(")


SPECS = [(family, stage) for family in FAMILIES for stage in STAGES]


@pytest.mark.parametrize(("family", "stage"), SPECS)
def test_every_spec_follows_the_template(family: str, stage: int) -> None:
    spec = REPO.spec(family, stage)
    title = spec.read_text(encoding="utf-8").partition("\n")[0]
    assert re.fullmatch(rf"# {re.escape(family)}, round {stage} of 4: \S.*", title), (
        f"{REPO.relative(spec)}: the first line is {title!r}; expected "
        f"'# {family}, round {stage} of 4: <title>'"
    )
    found = headings(spec)
    position = 0
    for name in template(stage):
        at = next((i for i in range(position, len(found)) if is_heading(found[i], name)), None)
        assert at is not None, (
            f"{REPO.relative(spec)} has the sections {found}; expected '## {name}' after "
            f"{found[:position]}: the template is {template(stage)}, in this order (other "
            "sections may sit between)"
        )
        position = at + 1


@pytest.mark.parametrize(("family", "stage"), SPECS)
def test_every_spec_example_table_parses_and_its_calls_have_a_result(
    family: str, stage: int
) -> None:
    try:
        tables = example_tables(family, stage, REPO)
    except SpecTableError as exc:
        spec = REPO.relative(REPO.spec(family, stage))
        pytest.fail(f"the example tables of {spec} cannot be read: {exc}")
    calls = [table for table in tables if "call" in table.columns]
    assert calls, (
        f"{REPO.relative(REPO.spec(family, stage))}: no example table has a 'call' column; "
        "an example is calls and their results, so that it can be replayed"
    )
    for table in calls:
        assert "result" in table.columns, (
            f"{table.spec}:{table.line}: the columns are {list(table.columns)}; a table of "
            "calls needs a 'result' column, so that it can be replayed"
        )
        for row in table.rows:
            row.code("call"), row.code("result")  # SpecTableError names a cell without code


def replays(item: pytest.Item) -> list[ExampleTable]:
    """The example tables among a collected test's parameters (or inside a tuple parameter)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    values = [
        v for value in params.values() for v in (value if isinstance(value, tuple) else (value,))
    ]
    return [value for value in values if isinstance(value, ExampleTable)]


@pytest.mark.parametrize(("family", "stage"), SPECS)
def test_every_spec_example_table_is_replayed_by_one_test_of_its_stage(
    family: str, stage: int
) -> None:
    own_file = f"test_stage{stage}.py"
    # A table without a 'call' column is data the calls read (a web of pages, say):
    # the replay of the call tables uses it, and a changed cell changes their results.
    for table in [t for t in example_tables(family, stage, REPO) if "call" in t.columns]:
        replayed_by = [
            item.nodeid
            for item in collected(family)
            for seen in replays(item)
            if (seen.spec, seen.line) == (table.spec, table.line)
        ]
        assert len(replayed_by) == 1, (
            f"the table at {table.spec}:{table.line} is replayed by {replayed_by}; expected "
            f"exactly one test of tests/{family}/{own_file}, parametrized with "
            f"dojo.testing.example_params({family!r}, {stage})"
        )
        assert f"/{own_file}::" in replayed_by[0], (
            f"the table at {table.spec}:{table.line} is replayed by {replayed_by[0]}, not by a "
            f"test of {own_file}"
        )


# --- performance tests and workloads -----------------------------------------------------

PERF_FIGURES = ("workload", "reference", "naive")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_performance_test_declares_its_workload_and_figures(family: str) -> None:
    for item in collected(family):
        marks = list(item.iter_markers("perf"))
        source = inspect.getsource(item.function) if isinstance(item, pytest.Function) else ""
        if "tracemalloc" in source:
            assert marks, f"{item.nodeid} measures memory: it needs a perf mark with its figures"
        if not marks:
            continue
        assert len(marks) == 1 and not marks[0].args, (
            f"{item.nodeid}: one perf mark, with keywords only"
        )
        figures = marks[0].kwargs
        assert set(figures) == set(PERF_FIGURES), (
            f"{item.nodeid}: the perf mark has {sorted(figures)}; expected {list(PERF_FIGURES)}"
        )
        empty = [k for k in PERF_FIGURES if not isinstance(figures[k], str) or not figures[k]]
        assert not empty, f"{item.nodeid}: the perf mark's {empty} must be non-empty strings"


def workload_module(family: str) -> ModuleType:
    return importlib.import_module(f"tests.{family}.workload")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_workload_declares_its_operations_and_baselines(family: str) -> None:
    module = workload_module(family)
    where = f"tests/{family}/workload.py"
    workload = getattr(module, "workload", None)
    assert callable(workload), f"{where} defines no workload(impl, n, stages)"
    parameters = list(inspect.signature(workload).parameters)
    assert parameters == ["impl", "n", "stages"], (
        f"{where}: workload{tuple(parameters)}; expected workload(impl, n, stages)"
    )
    operations = getattr(module, "STAGE_OPERATIONS", None)
    assert isinstance(operations, dict) and set(operations) == set(STAGES), (
        f"{where}: STAGE_OPERATIONS must map every stage {list(STAGES)} to its operations"
    )
    blank = [s for s in STAGES if not isinstance(operations[s], str) or not operations[s].strip()]
    assert not blank, f"{where}: STAGE_OPERATIONS of stages {blank} say nothing"
    baselines = getattr(module, "BASELINES", {})
    assert isinstance(baselines, dict) and all(
        isinstance(name, str) and callable(run) for name, run in baselines.items()
    ), f"{where}: BASELINES must be a dict of names to callables (impl, n) -> int"


@pytest.mark.parametrize(("family", "stage"), SPECS)
def test_every_workload_runs_on_the_reference(family: str, stage: int) -> None:
    module = workload_module(family)
    reference = load_package(REPO.solution(family), f"kit_reference.{family}", "reference")
    done = module.workload(reference, 30, stage)
    assert type(done) is int and done > 0, (
        f"tests/{family}/workload.py: workload(reference, 30, {stage}) returned {done!r}; "
        "expected the number of operations done, a positive int"
    )
