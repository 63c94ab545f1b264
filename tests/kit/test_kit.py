"""The kit checks itself, for every family found under ``stages/``.

Every spec, starter, reference and test file exists; every test belongs to
exactly one stage; the starter shows exactly the stage-1 API with the
reference's signatures and fails every test (stage 1 as "not implemented");
no spec or starter mentions a name a later stage adds.
"""

from __future__ import annotations

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

REPO = Repo(Path(__file__).resolve().parents[2])
FAMILIES = REPO.families()

Api = dict[int, dict[str, frozenset[str]]]


def stage_api(family: str) -> Api:
    """``STAGE_API`` of ``tests/F/api.py``: the public names each stage adds."""
    return importlib.import_module(f"tests.{family}.api").STAGE_API


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


@pytest.mark.parametrize("family", FAMILIES)
def test_every_test_belongs_to_exactly_one_stage(family: str) -> None:
    collector = Collector()
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", str(REPO.tests(family))]
    assert pytest.main(args, plugins=[collector]) == pytest.ExitCode.OK
    assert collector.items, f"no tests collected in tests/{family}"
    for item in collector.items:
        marks = [m.args for m in item.iter_markers("stage")]
        assert len(marks) == 1, f"{item.nodeid} has {len(marks)} stage markers, expected 1"
        assert item_stage(item) in STAGES, f"{item.nodeid}: stage {marks[0]} is not 1-4"
        in_file = STAGE_FILE.fullmatch(item.path.name)
        if in_file:
            assert item_stage(item) == int(in_file.group(1)), f"{item.nodeid} is in another file"
    assert {item_stage(i) for i in collector.items} == set(STAGES), "a stage has no tests"


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
    api = stage_api(family)
    def names(stages: list[int]) -> set[str]:
        return {n for s in stages for name, added in api[s].items() for n in (name, *added)}

    for stage in STAGES:
        later = names([s for s in STAGES if s > stage]) - names([s for s in STAGES if s <= stage])
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
