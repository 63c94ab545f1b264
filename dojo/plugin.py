"""The pytest plugin: the path names the code under test; stages gate the run.

``pytest --stage N katas/F`` runs the tests of stages 1..N in ``tests/F``
against the learner's ``katas/F`` and records progress; ``solutions/F`` runs
them against the reference; any other path is a plain run against the
reference. See DESIGN.md, "The path names the code under test" and "Stage
runs". Learner faults (syntax errors, stubs, infinite loops, ``sys.exit``)
fail their own tests with a one-line reason and never stop the run.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dojo.layout import LAST_STAGE, STAGES, Repo, locked_sentence
from dojo.loader import Implementation, ImplementationError, KataTimeout, MissingName
from dojo.state import Attempts, Progress, kata_home, parse_stamp, splits
from dojo.summary import StageRow, attempt_line, render_table, split_text

STAGE_FILE = re.compile(r"test_stage(\d+)\.py")

# Options that run a subset of a stage's tests: such a run records nothing.
NARROWING = {
    "keyword": "-k",
    "markexpr": "-m",
    "deselect": "--deselect",
    "lf": "--lf",
    "stepwise": "--sw",
    "maxfail": "-x/--maxfail",
    "ignore": "--ignore",
    "ignore_glob": "--ignore-glob",
}


def stage_number(text: str) -> int:
    """argparse type of ``--stage``: an int from the first to the last stage."""
    try:
        stage = int(text)
    except ValueError:
        stage = 0
    if stage not in STAGES:
        raise argparse.ArgumentTypeError(
            f"expected a stage number from {STAGES[0]} to {LAST_STAGE}, got {text!r}"
        )
    return stage


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata", "kata dojo")
    group.addoption(
        "--stage",
        type=stage_number,
        default=None,
        metavar="N",
        help="run the tests of stages 1..N (a stage unlocks when the one before it passes).",
    )
    group.addoption(
        "--ignore-lock",
        action="store_true",
        default=False,
        help="run a locked stage anyway, as practice: such a run records nothing.",
    )


@dataclass(frozen=True)
class Target:
    """What a run is about: one family, as learner code or as the reference."""

    family: str
    learner: bool

    @property
    def label(self) -> str:
        return f"{'katas' if self.learner else 'solutions'}/{self.family}"


@dataclass
class Outcome:
    """One test's result, folded over its setup, call and teardown reports."""

    stage: int
    state: str = "not run"  # passed | failed | not implemented | skipped | not run


@dataclass
class Dojo:
    """Per-session state of the plugin, kept in ``config.stash``."""

    repo: Repo
    target: Target | None
    stage: int | None
    ignore_lock: bool
    narrowed: list[str]
    progress: Progress | None = None
    attempts: Attempts | None = None  # set when a timed attempt on the family is on
    notices: list[str] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    implementations: dict[tuple[str, bool], Implementation] = field(default_factory=dict)
    result: list[str] = field(default_factory=list)

    def implementation(self, family: str) -> Implementation:
        """The code under test for ``family`` tests: learner's or reference."""
        learner = self.target is not None and self.target.learner and self.target.family == family
        key = (family, learner)
        if key not in self.implementations:
            if learner:
                folder, name = self.repo.workspace(family), f"katas.{family}"
            else:
                folder, name = self.repo.solution(family), f"solutions.{family}"
            self.implementations[key] = Implementation(folder, name, self.repo.relative(folder))
        return self.implementations[key]


RETIMEOUT = 1.0  # seconds between repeated timeouts of a test that swallows them
DOJO = pytest.StashKey[Dojo]()
TIMER = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    repo = Repo(config.rootpath)
    target, selection = _target(config, repo)
    dojo = Dojo(
        repo=repo,
        target=target,
        stage=config.getoption("stage"),
        ignore_lock=config.getoption("ignore_lock"),
        narrowed=[flag for opt, flag in NARROWING.items() if config.getoption(opt, None)]
        + (["naming tests"] if selection else []),
    )
    config.stash[DOJO] = dojo
    if target is None:
        _load_hypothesis_profile(config, derandomize=False)
        return
    config.args = selection or [str(repo.tests(target.family))]
    if target.learner:
        _gate(config, dojo)
    _load_hypothesis_profile(config, derandomize=dojo.attempts is not None)
    if target.learner:
        if config.option.tbstyle == "auto":
            config.option.tbstyle = "short"
    elif dojo.stage is None:
        dojo.stage = LAST_STAGE
    for arg in selection:
        match = STAGE_FILE.fullmatch(Path(arg.partition("::")[0]).name)
        if match and int(match.group(1)) > dojo.stage:
            raise pytest.UsageError(
                f"{arg} belongs to stage {match.group(1)}, and this run is stage {dojo.stage}: "
                f"add --stage {match.group(1)}"
            )


def now() -> datetime:
    """Wall time in UTC, which attempt deadlines are measured in.

    Testing hook: when the environment variable ``KATA_NOW`` holds an ISO 8601
    time, that is the time instead, so tests of timed attempts need not sleep.
    """
    fixed = os.environ.get("KATA_NOW")
    return parse_stamp(fixed) if fixed else datetime.now(timezone.utc)


def _load_hypothesis_profile(config: pytest.Config, derandomize: bool) -> None:
    """No deadline (machines are noisy), bounded examples; derandomized under CI
    and during a timed attempt (a rerun must not pass by luck).

    Hypothesis profiles cannot be written in ``pyproject.toml``, so they live
    here; ``--hypothesis-profile`` still overrides.
    """
    if config.getoption("hypothesis_profile", None):
        return
    from hypothesis import Phase, settings

    # One bug at a time: a learner reads one shrunk counterexample, and
    # shrinking several distinct failures multiplies the time it takes. No
    # explain phase: on a stub that always fails it costs seconds per test.
    # The parent is hypothesis' default, not the profile loaded now, which may
    # be dojo-ci from an earlier in-process run.
    settings.register_profile(
        "dojo",
        settings.get_profile("default"),
        deadline=None,
        max_examples=50,
        print_blob=False,
        report_multiple_bugs=False,
        phases=[p for p in Phase if p is not Phase.explain],
    )
    settings.register_profile("dojo-ci", settings.get_profile("dojo"), derandomize=True)
    settings.load_profile("dojo-ci" if derandomize or os.environ.get("CI") else "dojo")


def _target(config: pytest.Config, repo: Repo) -> tuple[Target | None, list[str]]:
    """The family path among the arguments, if any, and the tests it selects.

    Beside ``katas/F`` or ``solutions/F`` the arguments may name tests of the
    same family (``tests/F/test_stage1.py::test_x``) to run only those; with
    none, the run is the whole of ``tests/F``. Raises ``pytest.UsageError`` for
    a path that names no known family, a node id on a family path, two family
    paths, or a family path beside anything else.
    """
    families = repo.families()
    known = ", ".join(families) or "none"
    targets: set[Target] = set()
    others: dict[str, tuple[str, ...]] = {}
    for arg in config.args:
        path_part, _, node = arg.partition("::")
        path = Path(config.invocation_params.dir, path_part).resolve()
        try:
            parts = path.relative_to(repo.root).parts
        except ValueError:
            parts = ()
        if not parts or parts[0] not in ("katas", "solutions"):
            others[arg] = parts
            continue
        if len(parts) == 1:
            raise pytest.UsageError(
                f"Name one family: pytest {parts[0]}/{families[0] if families else 'F'} "
                f"(families: {known})"
            )
        if parts[1] not in families:
            raise pytest.UsageError(f"Unknown family {parts[1]!r} in {arg!r}; families: {known}")
        target = Target(parts[1], parts[0] == "katas")
        if node:
            raise pytest.UsageError(
                f"{arg!r}: a family path takes no node id. To run some tests, add -k "
                f"NAME, or name them: pytest {target.label} tests/{target.family}/FILE::TEST"
            )
        targets.add(target)
    if not targets:
        return None, []
    target = min(targets, key=str)
    stray = [arg for arg, parts in others.items() if parts[:2] != ("tests", target.family)]
    if len(targets) > 1 or stray:
        named = ", ".join(sorted(config.args))
        raise pytest.UsageError(
            f"One family path per run, beside only tests of that family: got {named}. "
            f"Run each family separately, e.g. pytest --stage 1 {target.label}"
        )
    return target, list(others)


def _gate(config: pytest.Config, dojo: Dojo) -> None:
    """Refuse a locked stage; pick the stage; create the workspace if missing."""
    assert dojo.target is not None
    family, repo = dojo.target.family, dojo.repo
    dojo.progress = Progress(kata_home(repo.root))
    if dojo.progress.warning:
        dojo.notices.append(f"Warning: {dojo.progress.warning}")
    attempts = Attempts(kata_home(repo.root))
    if attempts.warning:
        dojo.notices.append(f"Warning: {attempts.warning}")
    if attempts.get(family) is not None:
        dojo.attempts = attempts
    unlocked = dojo.progress.unlocked(family)
    if dojo.stage is None:
        dojo.stage = unlocked
    elif dojo.stage > unlocked and not dojo.ignore_lock:
        raise pytest.UsageError(
            locked_sentence(family, dojo.stage, unlocked, _command(config, repo, family, unlocked))
        )
    if not repo.workspace(family).exists():
        try:
            repo.create_workspace(family)
        except OSError as exc:
            raise pytest.UsageError(
                f"Cannot create {dojo.target.label}/ from {repo.relative(repo.starter(family))}/: "
                f"{exc}"
            ) from None
        dojo.notices.append(
            f"Created {dojo.target.label}/ from the stage-1 starter: write your code in "
            f"{dojo.target.label}/__init__.py"
        )


def _command(config: pytest.Config, repo: Repo, family: str, stage: int) -> str:
    """The command that runs ``stage`` of ``family``, from where pytest was run."""
    return repo.command(family, stage, config.invocation_params.dir)


def pytest_report_header(config: pytest.Config) -> list[str]:
    dojo = config.stash[DOJO]
    if dojo.target is None:
        return []
    t = dojo.target
    who = "your code" if t.learner else "the reference"
    stages = f"stage {dojo.stage}"
    if dojo.stage > 1:
        stages += f" (with stages 1-{dojo.stage - 1})"
    line = f"kata: {t.family}, {stages}, testing {who} in {t.label}/"
    if t.learner and dojo.ignore_lock:
        line += " (practice run: --ignore-lock, nothing is recorded)"
    return [line]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Print the notices of configure (workspace created, state set aside), even with -q."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for notice in session.config.stash[DOJO].notices:
            reporter.write_line(notice, yellow=True, bold=True)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip the test files of stages after the one being run, unseen."""
    dojo = config.stash[DOJO]
    match = STAGE_FILE.fullmatch(collection_path.name)
    if dojo.stage is not None and match and int(match.group(1)) > dojo.stage:
        return True
    return None


def item_stage(item: pytest.Item) -> int | None:
    """The stage a test belongs to (its ``stage`` marker), or None."""
    marker = item.get_closest_marker("stage")
    return int(marker.args[0]) if marker else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests of stages 1..N (unstaged tests only in plain runs)."""
    dojo = config.stash[DOJO]
    if dojo.stage is None:
        return
    kept = []
    for item in items:
        stage = item_stage(item)
        if stage is None and dojo.target is None:
            kept.append(item)
        elif stage is not None and stage <= dojo.stage:
            kept.append(item)
            dojo.outcomes[item.nodeid] = Outcome(stage)
            item.user_properties.append(("stage", stage))  # for --junitxml readers
    items[:] = kept


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Tests deselected by -k, -m or --deselect do not count in the table."""
    if items:
        outcomes = items[0].config.stash[DOJO].outcomes
        for item in items:
            outcomes.pop(item.nodeid, None)


@pytest.fixture(scope="module")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The family package under test, by the path given to pytest.

    Tests write ``impl.InMemoryDB(...)``: learner code for a ``katas/F`` run,
    the reference otherwise. The family is the folder under ``tests/``.
    """
    dojo = request.config.stash[DOJO]
    try:
        family = request.path.relative_to(dojo.repo.root / "tests").parts[0]
    except ValueError:
        raise pytest.UsageError(
            f"the impl fixture serves tests under tests/F, not {request.path}"
        ) from None
    return dojo.implementation(family)


# --- per-test timeout ------------------------------------------------------
# pytest-timeout resolves the timeout (ini, marker, --timeout); we only change
# what it raises: KataTimeout, a BaseException hypothesis does not catch.


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: object) -> bool | None:
    method, seconds = getattr(settings, "method", None), getattr(settings, "timeout", 0)
    if method != "signal" or threading.current_thread() is not threading.main_thread():
        return None

    def on_alarm(signum: int, frame: object) -> None:
        raise KataTimeout(seconds)

    signal.signal(signal.SIGALRM, on_alarm)
    # Fire again every second until cancelled: code that swallows the first
    # KataTimeout (a bare `except:` in a loop) still cannot hang the run.
    signal.setitimer(signal.ITIMER_REAL, seconds, RETIMEOUT)
    item.stash[TIMER] = True
    return True


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool | None:
    if not item.stash.get(TIMER, False):
        return None
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    del item.stash[TIMER]
    return True


# --- one-line reasons for learner faults -----------------------------------


def fault(exc: BaseException) -> tuple[str, str] | None:
    """``(kind, reason)`` for a fault with a one-line explanation, else None.

    Hypothesis may report several failures as an exception group; it is one
    fault when all of them are the same kind.
    """
    inner = getattr(exc, "exceptions", None)
    if inner:
        kinds = {fault(e) for e in inner}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(exc, NotImplementedError):
        return "not implemented", f"not implemented: {exc}" if str(exc) else "not implemented"
    if isinstance(exc, KataTimeout):
        return "failed", (
            f"timed out after {exc.args[0]:g} s: an infinite loop, or a design far too "
            "slow for this size"
        )
    if isinstance(exc, SystemExit):
        return "failed", f"the code under test called sys.exit({exc.code!r})"
    if isinstance(exc, (ImplementationError, MissingName)):
        return "failed", str(exc)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    if call.excinfo is not None and call.excinfo.errisinstance(KataTimeout):
        signal.setitimer(signal.ITIMER_REAL, 0)  # no repeat while pytest reports
    found = fault(call.excinfo.value) if call.excinfo is not None else None
    if found is not None:
        # Report a pytest.fail(reason, pytrace=False) instead: one line, no
        # traceback through the runner or hypothesis internals.
        try:
            pytest.fail(found[1], pytrace=False)
        except pytest.fail.Exception:
            call.excinfo = pytest.ExceptionInfo.from_current()
    report = yield
    outcome = item.config.stash[DOJO].outcomes.get(item.nodeid)
    if outcome is not None:
        if report.failed:
            if outcome.state != "not implemented":
                outcome.state = found[0] if found else "failed"
        elif report.skipped and outcome.state == "not run":
            outcome.state = "skipped"
        elif report.when == "call" and report.passed and outcome.state == "not run":
            outcome.state = "passed"
    return report


# --- end of run: record, then summarise --------------------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    dojo = session.config.stash[DOJO]
    t = dojo.target
    if t is None or not t.learner or session.config.option.collectonly:
        return
    assert dojo.stage is not None and dojo.progress is not None
    unrun = [o for o in dojo.outcomes.values() if o.state == "not run"]
    command = _command(session.config, dojo.repo, t.family, dojo.stage)
    if dojo.ignore_lock:
        dojo.result.append("Practice run (--ignore-lock): nothing recorded.")
        return
    if dojo.narrowed or unrun or exitstatus not in (0, 1):
        why = f"narrowed by {', '.join(dojo.narrowed)}" if dojo.narrowed else "incomplete"
        dojo.result.append(
            f"This run was {why}, so it recorded nothing; `{command}` runs the whole stage."
        )
        return
    moment, in_time = now(), True
    for stage in range(1, dojo.stage + 1):
        mine = [o for o in dojo.outcomes.values() if o.stage == stage]
        passed = sum(o.state == "passed" for o in mine)
        dojo.progress.record(t.family, stage, passed, len(mine))
        if dojo.attempts is not None:
            in_time = dojo.attempts.record(t.family, stage, passed, len(mine), moment)
    if dojo.attempts is not None:
        _save_attempt(dojo, in_time)
    if all(o.state == "passed" for o in dojo.outcomes.values()):
        dojo.result.extend(_passed_banner(session.config, dojo))
    else:
        spec = dojo.repo.relative(dojo.repo.spec(t.family, dojo.stage))
        if dojo.progress.passed(t.family, dojo.stage):
            dojo.result.append(f"Stage {dojo.stage} passed before but fails now. Spec: {spec}")
        else:
            dojo.result.append(f"Stage {dojo.stage} is not passed yet. Spec: {spec}")
    try:
        dojo.progress.save()
    except OSError as exc:
        dojo.result.append(f"Warning: could not save progress to {dojo.progress.path}: {exc}")


def _save_attempt(dojo: Dojo, in_time: bool) -> None:
    assert dojo.attempts is not None and dojo.target is not None
    if not in_time:
        dojo.result.append(
            f"Overtime: the attempt's deadline has passed, so this run earns nothing. "
            f"`kata finish {dojo.target.family}` closes it."
        )
    try:
        dojo.attempts.save()
    except OSError as exc:
        dojo.result.append(f"Warning: could not save the attempt to {dojo.attempts.path}: {exc}")


def _passed_banner(config: pytest.Config, dojo: Dojo) -> list[str]:
    assert dojo.target is not None and dojo.progress is not None and dojo.stage is not None
    family, stage, repo = dojo.target.family, dojo.stage, dojo.repo
    if stage == LAST_STAGE:
        dojo.progress.unlock(family, stage)
        return [
            f"Stage {stage} passed: {family} is complete! Compare your code with the "
            f"reference in {repo.relative(repo.solution(family))}/"
        ]
    if dojo.progress.unlock(family, stage + 1):
        return [
            f"Stage {stage} passed! Stage {stage + 1} is unlocked: read "
            f"{repo.relative(repo.spec(family, stage + 1))},",
            f"then run `{_command(config, repo, family, stage + 1)}`.",
        ]
    passing = "Stage 1 passes" if stage == 1 else f"Stages 1-{stage} pass"
    return [f"{passing} (stage {stage + 1} was already unlocked)."]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    dojo = terminalreporter.config.stash[DOJO]
    t = dojo.target
    if t is None or dojo.stage is None or terminalreporter.config.option.collectonly:
        return
    rows = []
    for stage in STAGES:
        mine = [o for o in dojo.outcomes.values() if o.stage == stage]
        if mine:
            counts = {s: sum(o.state == s for o in mine) for s in ("passed", "not implemented")}
            failed = len(mine) - counts["passed"] - counts["not implemented"]
            if counts["passed"] < len(mine):
                state = "failing"
            else:
                state = "passing (narrowed run)" if dojo.narrowed else "passed"
            rows.append(
                StageRow(
                    stage, counts["passed"], failed, counts["not implemented"], len(mine), state
                )
            )
        else:
            rows.append(StageRow(stage, state=_state_of_unrun(dojo, stage)))
    attempt = dojo.attempts.get(t.family) if dojo.attempts is not None else None
    if attempt is not None:
        rows = _with_splits(rows, attempt)
    terminalreporter.section(f"kata {t.family}: {t.label}/", sep="=")
    for line in render_table(rows):
        terminalreporter.write_line(line)
    if attempt is not None:
        terminalreporter.write_line(f"Attempt: {attempt_line(attempt, now())}", bold=True)
    for line in dojo.result:
        terminalreporter.write_line(line, bold=True)


def _with_splits(rows: list[StageRow], attempt: dict[str, object]) -> list[StageRow]:
    """The rows with each stage's split: time since the start (time on the stage)."""
    split = splits(attempt)
    return [replace(r, split=split_text(split[r.stage])) for r in rows]


def _state_of_unrun(dojo: Dojo, stage: int) -> str:
    """State of a stage this run did not include."""
    assert dojo.target is not None
    if not dojo.target.learner or dojo.progress is None:
        return "not run"
    family = dojo.target.family
    if dojo.progress.passed(family, stage):
        return "passed"
    return "not started" if stage <= dojo.progress.unlocked(family) else "locked"
