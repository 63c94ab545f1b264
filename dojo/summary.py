"""Text for the terminal: the per-stage table of a kata run, durations, attempt lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dojo.state import parse_stamp, score


@dataclass(frozen=True)
class StageRow:
    """One stage's line: counts of this run (None when the stage did not run)."""

    stage: int
    passed: int | None = None
    failed: int | None = None
    not_implemented: int | None = None
    total: int | None = None
    state: str = ""
    split: str | None = None  # during a timed attempt only


HEADER = ("stage", "passed", "failed", "not impl", "total", "state")


def render_table(rows: list[StageRow]) -> list[str]:
    """Fixed-width lines: a header, then one line per stage; '-' for no count.

    A ``split`` column comes before the state when any row has a split.
    """
    with_split = any(r.split is not None for r in rows)
    header = (*HEADER[:-1], "split", HEADER[-1]) if with_split else HEADER
    cells = [header]
    for r in rows:
        counts = tuple(
            "-" if n is None else str(n) for n in (r.passed, r.failed, r.not_implemented, r.total)
        )
        split = (r.split or "-",) if with_split else ()
        cells.append((str(r.stage), *counts, *split, r.state))
    return align(cells)


def align(cells: list[tuple[str, ...]]) -> list[str]:
    """Rows of cells as lines: every column right-aligned but the last."""
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    return [
        "  ".join([*(c.rjust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in cells
    ]


def clock_text(seconds: int) -> str:
    """A duration as ``m:ss``, or ``h:mm:ss`` from an hour on."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def split_text(split: tuple[int, int] | None) -> str:
    """``12:34 (+5:00)``: since the start, then on the stage; '-' if not passed."""
    return "-" if split is None else f"{clock_text(split[0])} (+{clock_text(split[1])})"


def attempt_line(attempt: dict[str, Any], moment: datetime) -> str:
    """``12:34 of 90 min used, 77:26 left; score so far 150/1000`` (or overtime)."""
    start, deadline = parse_stamp(attempt["start"]), parse_stamp(attempt["deadline"])
    elapsed = int((min(moment, deadline) - start).total_seconds())
    left = int((deadline - moment).total_seconds())
    clock = f"{clock_text(left)} left" if left >= 0 else f"overtime by {clock_text(-left)}"
    return (
        f"{clock_text(elapsed)} of {attempt['minutes']} min used, {clock}; "
        f"score so far {score(attempt['stages'])}/1000"
    )
