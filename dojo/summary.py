"""Text for the terminal: the one table renderer, the per-stage table, durations, attempt lines.

The runner's end-of-run table, every ``kata`` table and ``kata compare`` all
go through :func:`align`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from dojo.clock import duration, parse_stamp
from dojo.state import Attempt, score


def align(cells: Sequence[Sequence[str]], left: Collection[int] = (0,)) -> list[str]:
    """Rows of cells as lines; the columns in ``left`` left-aligned, the others right-aligned.

    ``left=range(n)`` aligns every column left. Trailing spaces are removed.
    """
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


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


def stage_table(rows: list[StageRow]) -> list[str]:
    """A header, then one line per stage; '-' for no count.

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
    return align(cells, left={len(header) - 1})


def split_text(split: tuple[int, int] | list[int] | None) -> str:
    """``20 min (+5 min)``: since the start, then on the stage; '-' if not passed."""
    return "-" if split is None else f"{duration(split[0])} (+{duration(split[1])})"


def attempt_line(attempt: Attempt, moment: datetime) -> str:
    """``12 min 5 s of 90 min used, 1 h 17 min left; score 150/1000`` (or overtime)."""
    start, deadline = parse_stamp(attempt["start"]), parse_stamp(attempt["deadline"])
    elapsed = (min(moment, deadline) - start).total_seconds()
    left = (deadline - moment).total_seconds()
    clock = f"{duration(left)} left" if left >= 0 else f"overtime by {duration(-left)}"
    return (
        f"{duration(elapsed)} of {attempt['minutes']} min used, {clock}; "
        f"score {score(attempt['stages'])}/1000"
    )
