"""Recording a complete learner run: progress, the attempt, then unlocking.

Runs only when the run was complete under the kit's own settings (see
``dojo.practice`` and ``dojo.tally``). Everything happens under the state
lock, on files read inside it, so a concurrent run or ``kata`` command loses
nothing. A run that started before ``kata start`` or ``kata reset`` reset its
family (the family's ``since`` changed) records nothing: it tested code that
is no longer the workspace's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dojo.gate import Gate
from dojo.layout import LAST_STAGE
from dojo.state import Attempt, Attempts, Progress, locked
from dojo.tally import Tally


@dataclass(frozen=True)
class Recorded:
    """What recording a run did, for the lines after the table."""

    passed: bool  # every test of stages 1..N passed
    passed_before: bool  # stage N had passed in an earlier run
    unlocked: int | None  # the stage this run unlocked, if any
    overtime: bool  # an attempt is on and its deadline has passed
    attempt: Attempt | None  # the attempt after this run, if one is on


def record(home: Path, family: str, gate: Gate, tally: Tally, moment: datetime) -> Recorded | str:
    """Record the run; returns what it did, or the sentence saying why it recorded nothing."""
    with locked(home):
        progress, attempts = Progress(home), Attempts(home)
        if progress.since(family) != gate.since:
            return (
                f"`kata start` or `kata reset` reset {family} during this run, so it "
                "recorded nothing"
            )
        stage = gate.stage
        passed_before = progress.passed(family, stage)
        counts = tally.counts()
        attempt = attempts.get(family)
        ours = attempt is not None and attempt["start"] == gate.attempt_start
        in_time = True
        for k in range(1, stage + 1):
            count = counts[k]
            progress.record(family, k, count.passed, count.total, moment)
            if ours:
                in_time = attempts.record(family, k, count.passed, count.total, moment)
        passed = tally.all_passed()
        unlocked = None
        if passed and progress.unlock(family, stage + 1) and stage < LAST_STAGE:
            unlocked = stage + 1
        progress.save()
        if ours:
            attempts.save()
        return Recorded(
            passed,
            passed_before,
            unlocked,
            ours and not in_time,
            attempts.get(family) if ours else None,
        )
