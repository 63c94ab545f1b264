"""The per-stage table printed at the end of a kata run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageRow:
    """One stage's line: counts of this run (None when the stage did not run)."""

    stage: int
    passed: int | None = None
    failed: int | None = None
    not_implemented: int | None = None
    total: int | None = None
    state: str = ""


HEADER = ("stage", "passed", "failed", "not impl", "total", "state")


def render_table(rows: list[StageRow]) -> list[str]:
    """Fixed-width lines: a header, then one line per stage; '-' for no count."""
    cells = [HEADER]
    for r in rows:
        counts = (r.passed, r.failed, r.not_implemented, r.total)
        cells.append((str(r.stage), *("-" if n is None else str(n) for n in counts), r.state))
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER) - 1)]
    return [
        "  ".join([*(c.rjust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
        for row in cells
    ]
