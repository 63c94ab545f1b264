"""The report of one kit run (``pytest --kata-report FILE``), written and read here only.

The runner writes it at the end of a family run (``dojo.plugin``); ``kata
compare`` and ``kata watch`` read it. This module is the one place that knows
its layout.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dojo.summary import StageRow


@dataclass(frozen=True)
class Failure:
    """One failing test of the run, with its fault kind and one-line reason."""

    test: str
    stage: int
    kind: str
    reason: str


@dataclass(frozen=True)
class RunReport:
    """What the runner's ``--kata-report`` file says about one run."""

    family: str
    stage: int
    recorded: bool
    why_not: str | None
    passed: bool  # every test of stages 1..stage passed
    unlocked: int | None  # the highest unlocked stage after the run (None: the reference)
    rows: list[StageRow]
    failures: list[Failure]


def read_report(path: Path) -> RunReport:
    """The report the runner wrote to ``path``; ValueError if it is missing or unusable.

    The layout (:func:`write_report` writes it)::

        {"family": str, "stage": int, "recorded": bool, "why_not": str | null,
         "passed": bool, "unlocked": int | null,
         "stages": [{"stage": k, "passed": int, "failed": int,
                     "not_implemented": int, "total": int, "state": str}],
         "failures": [{"test": nodeid, "stage": k, "kind": str, "reason": str}]}
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError("the run wrote no report") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"the run's report is unreadable ({exc})") from None
    try:
        return RunReport(
            family=_typed(data["family"], str),
            stage=_typed(data["stage"], int),
            recorded=_typed(data["recorded"], bool),
            why_not=_typed(data["why_not"], str, optional=True),
            passed=_typed(data["passed"], bool),
            unlocked=_typed(data["unlocked"], int, optional=True),
            rows=[
                StageRow(
                    _typed(s["stage"], int),
                    *(
                        _typed(s[k], int, optional=True)
                        for k in ("passed", "failed", "not_implemented", "total")
                    ),
                    state=_typed(s["state"], str),
                )
                for s in data["stages"]
            ],
            failures=[
                Failure(
                    _typed(f["test"], str),
                    _typed(f["stage"], int),
                    _typed(f["kind"], str),
                    _typed(f["reason"], str),
                )
                for f in data["failures"]
            ],
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the run's report is not as expected ({exc!r})") from None


def _typed(value: Any, kind: type, optional: bool = False) -> Any:
    if (value is None and optional) or (type(value) is kind):
        return value
    raise TypeError(f"expected {kind.__name__}, got {value!r}")


def write_report(path: Path, report: RunReport) -> None:
    """Write ``report`` to ``path`` in the layout :func:`read_report` reads."""
    data = {
        "family": report.family,
        "stage": report.stage,
        "recorded": report.recorded,
        "why_not": report.why_not,
        "passed": report.passed,
        "unlocked": report.unlocked,
        "stages": [
            {
                "stage": row.stage,
                "passed": row.passed,
                "failed": row.failed,
                "not_implemented": row.not_implemented,
                "total": row.total,
                "state": row.state,
            }
            for row in report.rows
        ],
        "failures": [asdict(failure) for failure in report.failures],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
