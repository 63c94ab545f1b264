"""A stand-in for the runner's ``--kata-report=FILE`` until the runner has it.

Loaded into the stage runs of ``kata watch`` by the tests (``PYTEST_PLUGINS``),
it writes the report ``dojo.watch.read_report`` reads, from what the runner
plugin kept in its stash. When the runner defines the option itself, this
module does nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dojo
from dojo.layout import STAGES
from dojo.plugin import DOJO, _state_of_unrun
from dojo.state import Progress, kata_home

ACTIVE = pytest.StashKey[bool]()
REASONS = pytest.StashKey[dict[str, str]]()
EXIT = pytest.StashKey[int]()
_registered = False
_reasons: dict[str, str] = {}  # node id -> one-line reason (a report has no config)


def _runner_has_it() -> bool:
    """Whether the runner defines ``--kata-report`` itself (then it writes the report)."""
    runner = Path(dojo.__file__).parent
    return any(
        "--kata-report" in p.read_text(encoding="utf-8")
        for p in runner.glob("*.py")
        if p.name != "watch.py"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    global _registered
    _registered = not _runner_has_it()
    if _registered:
        parser.addoption("--kata-report", default=None, metavar="FILE")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ACTIVE] = _registered and bool(config.getoption("kata_report"))
    config.stash[REASONS] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        text = report.longreprtext.strip().splitlines()
        errors = [line[2:].strip() for line in text if line.startswith("E ")]
        reason = errors[0] if errors else (text[-1] if text else "failed")
        _reasons.setdefault(report.nodeid, reason)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[EXIT] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not config.stash.get(ACTIVE, False):
        return
    dojo = config.stash[DOJO]
    if dojo.target is None or dojo.stage is None:
        return
    family = dojo.target.family
    why_not = next((r for r in dojo.result if "nothing" in r), None)
    rows = []
    for stage in STAGES:
        mine = [o for o in dojo.outcomes.values() if o.stage == stage]
        if mine:
            passed = sum(o.state == "passed" for o in mine)
            not_impl = sum(o.state == "not implemented" for o in mine)
            rows.append(
                {
                    "stage": stage,
                    "passed": passed,
                    "failed": len(mine) - passed - not_impl,
                    "not_implemented": not_impl,
                    "total": len(mine),
                    "state": "passed" if passed == len(mine) else "failing",
                }
            )
        else:
            rows.append(
                {
                    "stage": stage,
                    "passed": None,
                    "failed": None,
                    "not_implemented": None,
                    "total": None,
                    "state": _state_of_unrun(dojo, stage),
                }
            )
    failures = [
        {"test": nodeid, "stage": o.stage, "kind": o.state, "reason": _reasons.get(nodeid, "")}
        for nodeid, o in dojo.outcomes.items()
        if o.state != "passed"
    ]
    report = {
        "family": family,
        "stage": dojo.stage,
        "recorded": why_not is None and config.stash.get(EXIT, 1) in (0, 1),
        "why_not": why_not,
        "passed": bool(dojo.outcomes) and all(o.state == "passed" for o in dojo.outcomes.values()),
        "unlocked": Progress(kata_home(dojo.repo.root)).unlocked(family),
        "stages": rows,
        "failures": failures,
    }
    Path(config.getoption("kata_report")).write_text(json.dumps(report, indent=2))
