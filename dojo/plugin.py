"""The pytest plugin: the path names the code under test; stages gate the run.

``pytest --stage N katas/F`` runs the tests of stages 1..N in ``tests/F``
against the learner's ``katas/F`` and records progress; ``solutions/F`` runs
them against the reference; any other path is a plain run against the
reference. This module only wires pytest's hooks to the modules that do the
work; ``docs/DESIGN.md`` draws the whole route of a result:

- ``dojo.target``: which code a run tests;
- ``dojo.gate``: locked stages, the workspace, the state a run starts from;
- ``dojo.profiles``: hypothesis settings;
- ``dojo.timeout`` and ``dojo.watchdog``: the per-test limit and its backstop;
- ``dojo.faults``: one-line reasons for the faults of code under test;
- ``dojo.tally``: every test's result, from its reports, in one place;
- ``dojo.practice``: whether the run is under the kit's own settings;
- ``dojo.record``: progress, attempt and unlocking, under the state lock;
- ``dojo.summary``: the table and its lines.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from dojo import profiles
from dojo.clock import now
from dojo.faults import TIMEOUT, KataExit, fault
from dojo.gate import Gate, gate
from dojo.layout import LAST_STAGE, STAGES, Repo, Target, parse_stage, stage_span
from dojo.loader import Implementation
from dojo.practice import canonical_args, differences
from dojo.record import Recorded, record
from dojo.report import Failure, RunReport, write_report
from dojo.state import Progress, kata_home, splits
from dojo.summary import StageRow, attempt_line, split_text, stage_table
from dojo.tally import Tally
from dojo.target import resolve
from dojo.timeout import Limits, Timer, add_ini, perf_of
from dojo.watchdog import Watchdog

STAGE_FILE = re.compile(r"test_stage(\d+)\.py")


_parser: pytest.Parser | None = None  # this run's parser, to compute the kit's own options
_runs: list[Run] = []  # runs configured and not yet unconfigured (pytester nests them)


def pytest_addoption(parser: pytest.Parser) -> None:
    global _parser
    _parser = parser
    add_ini(parser)
    group = parser.getgroup("kata", "kata dojo")
    group.addoption(
        "--stage",
        type=parse_stage,
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
    group.addoption(
        "--kata-report",
        default=None,
        metavar="FILE",
        help="write the run's per-stage counts and failures to FILE as JSON (kata compare, watch).",
    )


@dataclass
class Run:
    """Per-session state of the plugin, kept in ``config.stash``."""

    repo: Repo
    target: Target | None
    stage: int | None
    worker: bool  # a pytest-xdist worker: runs tests, records nothing
    nested: bool  # a run inside another (pytester): no watchdog, no hard exit
    practice: list[str] = field(default_factory=list)  # why this run records nothing
    derandomize: bool = False  # hypothesis runs derandomized (an attempt is on)
    gate: Gate | None = None
    tally: Tally | None = None
    limits: Limits | None = None
    timer: Timer | None = None
    watchdog: Watchdog | None = None
    deadline: float = 0.0  # monotonic deadline of the running test
    limit: float = 0.0  # the running test's limit
    implementations: dict[Target, Implementation] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # printed after the table
    exitstatus: int = 0

    def implementation(self, family: str) -> Implementation:
        """The code under test for ``family`` tests: the learner's or the reference."""
        learner = self.target is not None and self.target.learner and self.target.family == family
        target = Target(family, learner)
        if target not in self.implementations:
            self.implementations[target] = Implementation(
                target.folder(self.repo), target.module, target.label
            )
        return self.implementations[target]

    def command(self, config: pytest.Config, stage: int) -> str:
        assert self.target is not None
        return self.repo.command(self.target.family, stage, config.invocation_params.dir)


RUN = pytest.StashKey[Run]()
STAGE = pytest.StashKey[int]()
TIMED = pytest.StashKey[bool]()  # whether the test's limit was shortened
PLAIN_TIMER = pytest.StashKey[Timer]()


def pytest_configure(config: pytest.Config) -> None:
    # The marks every kit's tests use, known to the plugin itself.
    config.addinivalue_line("markers", "stage(n): the stage (1-4) of the kata a test belongs to")
    config.addinivalue_line(
        "markers",
        "perf(workload, reference, naive): a performance or memory test: what it does at "
        "which size, the reference's cost, and the naive design with its estimated cost",
    )
    repo = Repo(config.rootpath)
    target, selection = resolve(config, repo)
    worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
    run = Run(repo, target, config.getoption("stage"), worker_input is not None, bool(_runs))
    config.stash[RUN] = run
    _runs.append(run)
    if target is None:
        profiles.load(config, derandomize=False)
        return
    config.args = selection or [str(repo.tests(target.family))]
    if worker_input is not None:
        run.stage, run.derandomize = worker_input["kata_stage"], worker_input["kata_derandomize"]
    elif target.learner:
        run.gate = gate(
            repo, target, run.stage, config.getoption("ignore_lock"), config.invocation_params.dir
        )
        run.stage, run.derandomize = run.gate.stage, run.gate.attempt_start is not None
        run.practice = _practice(config, run, selection)
    elif run.stage is None:
        run.stage = LAST_STAGE
    profiles.load(config, run.derandomize)
    run.tally = Tally(run.stage)
    run.limits = Limits(config)
    run.timer = Timer(target.folder(repo))
    if target.learner and config.option.tbstyle == "auto":
        config.option.tbstyle = "short"
    for arg in selection:
        match = STAGE_FILE.fullmatch(Path(arg.partition("::")[0]).name)
        if match and int(match.group(1)) > run.stage:
            raise pytest.UsageError(
                f"{arg} belongs to stage {match.group(1)}, and this run is stage {run.stage}: "
                f"add --stage {match.group(1)}"
            )


def _practice(config: pytest.Config, run: Run, selection: list[str]) -> list[str]:
    """Why a learner run cannot record, known before it starts (empty: it may)."""
    assert run.target is not None and _parser is not None
    if config.getoption("ignore_lock"):
        return ["--ignore-lock"]
    found = ["naming tests"] if selection else []
    canonical = canonical_args(config, run.target.label, config.getoption("stage"))
    return found + differences(config, _parser, canonical)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: each worker runs the controller's stage with its hypothesis profile."""
    run = node.config.stash[RUN]
    node.workerinput["kata_stage"] = run.stage
    node.workerinput["kata_derandomize"] = run.derandomize


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist: the controller learns the collected ids from its workers."""
    run = node.config.stash[RUN]
    if run.tally is not None:
        run.tally.expect(ids)


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = config.stash[RUN]
    if run.target is None or run.stage is None:
        return []
    who = "your code" if run.target.learner else "the reference"
    line = (
        f"kata: {run.target.family}, {stage_span(run.stage)}, testing {who} in {run.target.label}/"
    )
    if run.practice:
        line += f" (practice run: {', '.join(run.practice)}; nothing is recorded)"
    assert run.limits is not None
    limits = (
        f"kata limits (these, not pytest-timeout's): {run.limits.plain:g} s a test, "
        f"{run.limits.perf:g} s a performance test, a state machine as marked"
    )
    return [line, limits]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Print the notices of configure (workspace created, state set aside), even with -q."""
    run = session.config.stash[RUN]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and run.gate is not None:
        for notice in run.gate.notices:
            reporter.write_line(notice, yellow=True, bold=True)
    runs_tests = run.worker or not _distributed(session.config)
    if run.target is not None and runs_tests and not run.nested and not _collect_only(session):
        run.watchdog = Watchdog()


def _collect_only(session: pytest.Session) -> bool:
    return bool(session.config.option.collectonly)


def _distributed(config: pytest.Config) -> bool:
    """Whether this is a pytest-xdist controller (its workers run the tests)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip the test files of stages after the one being run, unseen."""
    run = config.stash[RUN]
    match = STAGE_FILE.fullmatch(collection_path.name)
    if run.stage is not None and match and int(match.group(1)) > run.stage:
        return True
    return None


def item_stage(item: pytest.Item) -> int | None:
    """The stage a test belongs to (its ``stage`` marker), or None."""
    marker = item.get_closest_marker("stage")
    return int(marker.args[0]) if marker else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests of stages 1..N (unstaged tests only in plain runs).

    Tests of later stages count as deselected, so pytest's "collected" line
    agrees with the table. In a family run the stage tests come before the
    model tests: the first failure a learner reads is the plainest one. The
    kept ids are what the run must see to the end: a test removed later
    (``-k``, ``--lf``, a plugin) shows as not run, and the run records nothing.
    """
    run = config.stash[RUN]
    if run.stage is None:
        return
    kept, later = [], []
    for item in items:
        stage = item_stage(item)
        if stage is None and run.target is None:
            kept.append(item)
        elif stage is not None and stage <= run.stage:
            kept.append(item)
            item.stash[STAGE] = stage
            item.user_properties.append(("stage", stage))  # for --junitxml readers
        else:
            later.append(item)
    if run.target is not None:
        kept.sort(key=lambda item: STAGE_FILE.fullmatch(item.path.name) is None)
    items[:] = kept
    if later:
        config.hook.pytest_deselected(items=later)
    if run.tally is not None:
        run.tally.expect(item.nodeid for item in kept)


@pytest.fixture(scope="module")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The family package under test, by the path given to pytest.

    Tests write ``impl.InMemoryDB(...)``: learner code for a ``katas/F`` run,
    the reference otherwise. The family is the folder under ``tests/``.
    """
    run = request.config.stash[RUN]
    try:
        family = request.path.relative_to(run.repo.root / "tests").parts[0]
    except ValueError:
        raise pytest.UsageError(
            f"the impl fixture serves tests under tests/F, not {request.path}"
        ) from None
    return run.implementation(family)


# --- the per-test limit ------------------------------------------------------------
# In a family run the kit's own limit applies, phase by phase, so the timer is
# never armed while pytest reports. Other runs keep pytest-timeout's limit,
# with the kit's exception (which hypothesis does not catch).


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    run = item.config.stash[RUN]
    if run.limits is None or STAGE not in item.stash:
        return (yield)
    seconds = run.limit = run.limits.seconds(item)
    run.deadline = time.monotonic() + seconds
    item.stash[TIMED] = run.limits.shortened(item)
    if run.watchdog is not None:
        run.watchdog.start(seconds, item.nodeid)
    return (yield)


def _phase(item: pytest.Item) -> Iterator[None]:
    """Arm the timer for what is left of the test's limit; ``os._exit`` raises meanwhile."""
    run = item.config.stash[RUN]
    if run.target is None or STAGE not in item.stash or run.timer is None:
        return (yield)
    run.timer.start(max(0.001, run.deadline - time.monotonic()), run.limit, item.stash[TIMED])
    real_exit = os._exit

    def exit_raises(status: int) -> None:
        raise KataExit(status)

    os._exit = exit_raises  # type: ignore[assignment]
    try:
        return (yield)
    finally:
        os._exit = real_exit
        run.timer.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    return (yield from _phase(item))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's timer: the kit's own in family runs, the kit's exception elsewhere."""
    run = item.config.stash[RUN]
    if run.target is not None:
        return True  # the phase timer above owns the limit
    if getattr(settings, "method", None) != "signal":
        return None
    timer = Timer(None)
    timer.start(settings.timeout, settings.timeout, False)
    item.stash[PLAIN_TIMER] = timer
    return True


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool | None:
    timer = item.stash.get(PLAIN_TIMER, None)
    if timer is None:
        return None
    timer.stop()
    del item.stash[PLAIN_TIMER]
    return True


# --- reports: one line per fault, and the test's stage, kind and reason on each --------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    run = item.config.stash[RUN]
    found = fault(call.excinfo.value, perf_of(item)) if call.excinfo is not None else None
    if found is not None:
        # Report a pytest.fail(reason, pytrace=False) instead: one line, no
        # traceback through the runner or hypothesis internals.
        try:
            pytest.fail(found[1], pytrace=False)
        except pytest.fail.Exception:
            call.excinfo = pytest.ExceptionInfo.from_current()
        if found[0] == TIMEOUT and run.limits is not None:
            run.limits.timeouts += 1
    report = yield
    stage = item.stash.get(STAGE, None)
    if stage is not None:
        report.kata_stage = stage
        if report.failed:
            report.kata_kind = found[0] if found else ""
            report.kata_reason = found[1] if found else ""
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Every report of the run, the workers' too under xdist: into the one tally."""
    run = _runs[-1] if _runs else None
    if run is None or run.tally is None:
        return
    run.tally.add(report)
    if report.when == "teardown" and run.watchdog is not None:
        result = run.tally.results.get(report.nodeid)
        if result is not None:
            run.watchdog.end(result.stage, result.state, report.nodeid)


# --- end of run: record, then the table, last of all ---------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """After every other plugin has finished (the summary, the stats line): record and print."""
    result = yield
    config = session.config
    run = config.stash[RUN]
    run.exitstatus = int(session.exitstatus)
    if run.watchdog is not None:
        run.watchdog.close()
    if run.target is None or run.worker or run.tally is None or config.option.collectonly:
        return result
    outcome = _record(config, run) if run.target.learner else None
    # Read after recording, once: the table and the report show the state it left.
    progress = Progress(kata_home(run.repo.root)) if run.target.learner else None
    rows = _rows(run, progress)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section(f"kata {run.target.family}: {run.target.label}/", sep="=")
        for line in _table_lines(rows, outcome):
            reporter.write_line(line)
        for line in run.lines:
            reporter.write_line(line, bold=True)
    path = config.getoption("kata_report")
    if path:
        write_report(Path(path), _report(run, rows, progress, outcome))
    return result


def _record(config: pytest.Config, run: Run) -> Recorded | None:
    """Record a complete learner run; otherwise say in one line why it recorded nothing."""
    assert run.target is not None and run.tally is not None and run.gate is not None
    family, stage = run.target.family, run.gate.stage
    whole = f"`{run.command(config, stage)}` runs the whole stage"
    problems = list(run.practice)
    if not problems and run.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        problems.append(f"it ended with {pytest.ExitCode(run.exitstatus).name.lower()}")
    if not problems:
        problems = run.tally.problems()
    if problems:
        run.lines.append(f"Practice run ({'; '.join(problems)}): nothing recorded. {whole}.")
        return None
    outcome = record(kata_home(run.repo.root), family, run.gate, run.tally, now())
    if isinstance(outcome, str):
        run.lines.append(f"This run recorded nothing: {outcome}. {whole}.")
        return None
    run.lines.extend(_result_lines(config, run, outcome))
    return outcome


def _result_lines(config: pytest.Config, run: Run, outcome: Recorded) -> list[str]:
    assert run.target is not None and run.gate is not None
    family, stage, repo = run.target.family, run.gate.stage, run.repo
    lines = []
    if outcome.overtime:
        lines.append(
            f"Overtime: the attempt's deadline has passed, so this run earns nothing. "
            f"`kata finish {family}` closes it."
        )
    spec = repo.relative(repo.spec(family, stage))
    if not outcome.passed:
        if outcome.passed_before:
            lines.append(f"Stage {stage} passed before but fails now. Spec: {spec}")
        else:
            lines.append(f"Stage {stage} is not passed yet. Spec: {spec}")
    elif stage == LAST_STAGE:
        lines.append(
            f"Stage {stage} passed: {family} is complete! `kata compare {family}` shows your "
            "code beside the reference, in tests and in speed."
        )
    elif outcome.unlocked is not None:
        lines.append(
            f"Stage {stage} passed! Stage {stage + 1} is unlocked: read "
            f"{repo.relative(repo.spec(family, stage + 1))},"
        )
        lines.append(f"then run `{run.command(config, stage + 1)}`.")
    else:
        passing = "Stage 1 passes" if stage == 1 else f"Stages 1-{stage} pass"
        lines.append(f"{passing} (stage {stage + 1} was already unlocked).")
    return lines


def _rows(run: Run, progress: Progress | None) -> list[StageRow]:
    """One row per stage: this run's counts, or the stage's state in ``progress``."""
    assert run.target is not None and run.tally is not None
    counts = run.tally.counts()
    rows = []
    for k in STAGES:
        if k in counts:
            c = counts[k]
            state = "passed" if c.all_passed else "failing"
            if c.all_passed and run.practice:
                state = "passing (practice run)"
            rows.append(StageRow(k, c.passed, c.failed, c.not_implemented, c.total, state))
        elif progress is None:
            rows.append(StageRow(k, state="not run"))
        elif progress.passed(run.target.family, k):
            rows.append(StageRow(k, state="passed"))
        elif k <= progress.unlocked(run.target.family):
            rows.append(StageRow(k, state="not started"))
        else:
            rows.append(StageRow(k, state="locked"))
    return rows


def _table_lines(rows: list[StageRow], outcome: Recorded | None) -> list[str]:
    """The per-stage table, with splits and the attempt line during an attempt."""
    attempt = outcome.attempt if outcome is not None else None
    if attempt is None:
        return stage_table(rows)
    split = splits(attempt)
    rows = [replace(r, split=split_text(split[r.stage])) for r in rows]
    return [*stage_table(rows), f"Attempt: {attempt_line(attempt, now())}"]


def _report(
    run: Run, rows: list[StageRow], progress: Progress | None, outcome: Recorded | None
) -> RunReport:
    """The run as ``--kata-report`` gives it to ``kata compare`` and ``kata watch``."""
    assert run.target is not None and run.tally is not None and run.stage is not None
    return RunReport(
        family=run.target.family,
        stage=run.stage,
        recorded=outcome is not None,
        why_not=None if outcome is not None else (run.lines[0] if run.lines else None),
        passed=run.tally.all_passed() and not run.tally.problems(),
        unlocked=progress.unlocked(run.target.family) if progress else None,
        rows=[row for row in rows if row.total is not None],
        failures=[Failure(r.nodeid, r.stage, r.kind, r.reason) for r in run.tally.failures()],
    )


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the process if the code under test left threads that would keep it alive."""
    run = _runs.pop() if _runs else None
    if run is None or run.target is None or run.nested or run.worker:
        return
    stray = [
        t
        for t in threading.enumerate()
        if t.is_alive() and not t.daemon and t is not threading.main_thread()
    ]
    if not stray:
        return
    names = ", ".join(
        f"{name} (x{n})" if n > 1 else name for name, n in Counter(t.name for t in stray).items()
    )
    sys.stdout.flush()
    sys.stderr.write(
        f"kata: the code under test left {len(stray)} thread(s) running ({names}); "
        "the run ends anyway.\n"
    )
    sys.stderr.flush()
    os._exit(run.exitstatus)
