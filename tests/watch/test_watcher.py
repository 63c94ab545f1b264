"""The watcher's parts without a terminal: the report, the file filter, the clock, the limit."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dojo.layout import Repo
from dojo.report import read_report
from dojo.state import Attempts, kata_home
from dojo.watch import Line, Watcher, is_source
from tests.watch.conftest import ToyKit

REPORT = {
    "family": "toy",
    "stage": 1,
    "recorded": True,
    "why_not": None,
    "passed": False,
    "unlocked": 1,
    "stages": [
        {"stage": 1, "passed": 1, "failed": 1, "not_implemented": 0, "total": 2, "state": "failing"}
    ],
    "failures": [
        {
            "test": "tests/toy/test_stage1.py::test_add_adds",
            "stage": 1,
            "kind": "failed",
            "reason": "add(2, 3) returned 6; expected 5",
        }
    ],
}


class Screen:
    """A screen that keeps what it was told."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.panel: list[Line] = []

    def draw(self, lines: list[Line], new: str) -> None:
        self.panel = lines

    def say(self, text: str, style: str = "") -> None:
        self.said.append(text)

    markdown = output = say


def test_the_report_is_read_and_a_missing_or_malformed_one_is_a_value_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report.json"
    with pytest.raises(ValueError, match="the run wrote no report"):
        read_report(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="unreadable"):
        read_report(path)
    path.write_text(json.dumps({**REPORT, "stage": "1"}))
    with pytest.raises(ValueError, match="expected int, got '1'"):
        read_report(path)
    path.write_text(json.dumps(REPORT))
    report = read_report(path)
    assert report.rows[0].passed == 1 and report.failures[0].reason.startswith("add(2, 3)")


@pytest.mark.parametrize(
    ("name", "runs"),
    [
        ("__init__.py", True),
        ("helpers.py", True),
        (".__init__.py.swp", False),  # vim
        ("__init__.py~", False),  # backups
        (".#__init__.py", False),  # emacs lock
        ("#__init__.py#", False),  # emacs autosave
        ("__init__.py___jb_tmp___", False),  # JetBrains
        ("4913", False),  # vim's probe
        ("notes.txt", False),
    ],
)
def test_only_saves_of_python_files_run_the_stage(name: str, runs: bool) -> None:
    assert is_source(f"/kit/katas/toy/{name}") is runs


def test_the_deadline_is_said_once_and_the_clock_shows_overtime(
    toy: ToyKit,
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    attempts = Attempts(kata_home(toy.root))
    attempts.start("toy", start, 1)
    attempts.save()
    now = [start + timedelta(seconds=59)]
    screen = Screen()
    watcher = Watcher(Repo(toy.root), "toy", screen, clock=lambda: now[0])
    watcher.tick()
    assert any(
        text.startswith("Attempt: 59 s of 1 min used, 1 s left") for text, _ in screen.panel
    )
    assert screen.said == []
    now[0] += timedelta(seconds=2)
    watcher.tick()
    watcher.tick()
    assert [s for s in screen.said if s.startswith("The time is up")] == [
        "The time is up: runs from now on are overtime and earn nothing. "
        "`kata finish toy` closes the attempt."
    ]
    assert any("overtime by 1 s" in text for text, _ in screen.panel)


def test_a_run_over_the_time_limit_is_stopped_and_says_so(toy: ToyKit) -> None:
    screen = Screen()
    watcher = Watcher(Repo(toy.root), "toy", screen, limit=0.01)
    watcher.start_run("started")
    while watcher.run is not None:
        time.sleep(0.01)
        watcher.poll_run()
    assert (
        "No result: the run took more than 0.01 s and was stopped; it recorded nothing",
        "red",
    ) in screen.panel
    assert not (toy.root / ".kata/progress.json").exists()
