"""Every test's result of a kit run, tallied in one place.

The route of a result: the process that runs a test (the main one, or a
pytest-xdist worker) puts the test's stage, fault kind and one-line reason on
each of its reports (``dojo.plugin.pytest_runtest_makereport``);
``pytest_runtest_logreport``, which xdist forwards to the controller, adds
every report to the :class:`Tally` here. At the end of the run the tally says
whether the run saw exactly the expected tests, each once, each passing or
failing (:meth:`Tally.problems`), and its counts feed the record, the
attempt, the table and ``--kata-report`` (which ``kata compare`` and ``kata
watch`` read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from dojo.faults import NOT_IMPLEMENTED
from dojo.layout import STAGES

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"


@dataclass
class Result:
    """One test's outcome, folded over its setup, call and teardown reports."""

    nodeid: str
    stage: int
    state: str = NOT_RUN  # passed | failed | not implemented | skipped | not run
    kind: str = ""  # the fault kind of a failure (dojo.faults), "" for an assertion
    reason: str = ""  # one line: why it failed
    phases: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.phases["teardown"] > 0


@dataclass(frozen=True)
class StageCount:
    """One stage's counts in a run."""

    stage: int
    passed: int
    failed: int
    not_implemented: int
    total: int

    @property
    def all_passed(self) -> bool:
        """Every test passed, and there was at least one: an empty stage never passes."""
        return self.total > 0 and self.passed == self.total


def one_line(report: pytest.TestReport) -> str:
    """The first line of a failure: the fault's reason, or the assertion's message."""
    text = getattr(report, "kata_reason", "") or report.longreprtext or ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("E "):
            return line.removeprefix("E").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "failed"


class Tally:
    """The results of one run's tests of stages 1..``stage``."""

    def __init__(self, stage: int) -> None:
        self.stage = stage
        self.expected: list[str] | None = None  # the ids collected, in order
        self.results: dict[str, Result] = {}
        self.duplicates: list[str] = []

    def expect(self, ids: Iterable[str]) -> None:
        """The ids this run collected (the same from every xdist worker)."""
        self.expected = list(ids)

    def add(self, report: pytest.TestReport) -> None:
        """Fold one phase's report into its test's result."""
        stage = getattr(report, "kata_stage", None)
        if stage is None:
            return
        result = self.results.setdefault(report.nodeid, Result(report.nodeid, stage))
        result.phases[report.when] += 1
        if result.phases[report.when] > 1 and report.nodeid not in self.duplicates:
            self.duplicates.append(report.nodeid)
        if report.failed:
            if result.state not in (FAILED, NOT_IMPLEMENTED):
                result.kind = getattr(report, "kata_kind", "")
                result.state = NOT_IMPLEMENTED if result.kind == NOT_IMPLEMENTED else FAILED
                result.reason = one_line(report)
        elif report.skipped or hasattr(report, "wasxfail"):
            if result.state == NOT_RUN:
                result.state = SKIPPED
        elif report.when == "call" and result.state == NOT_RUN:
            result.state = PASSED

    def ordered(self) -> list[Result]:
        """The results in collection order (xdist reports arrive in any order)."""
        order = {nodeid: i for i, nodeid in enumerate(self.expected or [])}
        return sorted(self.results.values(), key=lambda r: order.get(r.nodeid, len(order)))

    def counts(self) -> dict[int, StageCount]:
        """Per stage that ran, its counts; a test not finished counts as failed."""
        found: dict[int, StageCount] = {}
        for k in STAGES:
            mine = [r for r in self.results.values() if r.stage == k]
            if not mine:
                continue
            passed = sum(r.state == PASSED for r in mine)
            not_impl = sum(r.state == NOT_IMPLEMENTED for r in mine)
            found[k] = StageCount(k, passed, len(mine) - passed - not_impl, not_impl, len(mine))
        return found

    def failures(self) -> list[Result]:
        return [r for r in self.ordered() if r.state in (FAILED, NOT_IMPLEMENTED)]

    def all_passed(self) -> bool:
        """Every stage 1..N ran at least one test and every test passed."""
        counts = self.counts()
        return all(k in counts and counts[k].all_passed for k in range(1, self.stage + 1))

    def problems(self) -> list[str]:
        """Why this run is not a complete run of the kit's tests (empty if it is)."""
        if self.expected is None:
            return ["no tests were collected"]
        found = []
        expected = set(self.expected)
        unfinished = [
            i for i in self.expected if i not in self.results or not self.results[i].finished
        ]
        if unfinished:
            found.append(f"{_count(unfinished)} did not run to the end (first: {unfinished[0]})")
        skipped = [r.nodeid for r in self.ordered() if r.state == SKIPPED]
        if skipped:
            found.append(f"{_count(skipped)} skipped (first: {skipped[0]})")
        if self.duplicates:
            found.append(f"{_count(self.duplicates)} ran more than once ({self.duplicates[0]})")
        stray = [i for i in self.results if i not in expected]
        if stray:
            found.append(f"{_count(stray)} ran that were not collected ({stray[0]})")
        counts = self.counts()
        empty = [k for k in range(1, self.stage + 1) if k not in counts]
        if empty:
            found.append(f"stage {empty[0]} has no tests in this run")
        return found


def _count(items: list[str]) -> str:
    return "1 test" if len(items) == 1 else f"{len(items)} tests"
