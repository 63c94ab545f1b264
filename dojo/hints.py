"""Hints and debriefs beside each spec, and the record of the hints shown.

``stages/F/stageN.hints.md`` holds two or three sections ``## Hint 1``,
``## Hint 2``, ... from a nudge toward the design to the name of the data
structure or the pitfall; ``stages/F/stageN.debrief.md`` is read once stage N
has passed. ``kata hint F`` shows the next hint the learner has not seen.

Which hints were shown lives in ``.kata/hints.json``, written atomically like
every state file, one entry per hint shown::

    {"version": 1,
     "shown": [{"family": "bank", "stage": 1, "hint": 1, "at": "...Z",
                "attempt": "...Z"}]}

``attempt`` is the start of the timed attempt on during which the hint was
shown (null outside an attempt): an attempt's hints are the entries carrying
its start, so a new attempt starts with every hint unseen and its record
counts only its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dojo.clock import stamp
from dojo.layout import STAGES, Repo
from dojo.state import (
    VERSION,
    Damaged,
    envelope,
    read_json,
    time_field,
    whole_number,
    write_atomic,
)

HINTS_FILE = "hints.json"
HINT_HEADING = re.compile(r"^## Hint (\d+)\s*$", re.MULTILINE)


def parse_hints(text: str) -> list[str]:
    """The hints of a hints file, in order: each section's text with its heading.

    Raises ValueError unless the sections are ``## Hint 1`` .. ``## Hint n``
    in order, each with some text.
    """
    headings = list(HINT_HEADING.finditer(text))
    numbers = [int(m.group(1)) for m in headings]
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"expected sections '## Hint 1' .. '## Hint n' in order, got {numbers}")
    ends = [m.start() for m in headings[1:]] + [len(text)]
    hints = [text[m.start() : end].strip() + "\n" for m, end in zip(headings, ends, strict=True)]
    empty = [n for n, hint in enumerate(hints, 1) if not hint.partition("\n")[2].strip()]
    if empty:
        raise ValueError(f"hint {empty[0]} has no text")
    return hints


def read_hints(repo: Repo, family: str, stage: int) -> list[str]:
    """The hints of ``stage`` of ``family``; [] when the stage has no hints file."""
    path = repo.hints(family, stage)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        return parse_hints(text)
    except ValueError as exc:
        raise ValueError(f"{repo.relative(path)}: {exc}") from None


@dataclass(frozen=True)
class Shown:
    """One hint shown: which, when, and the start of the attempt it was shown in."""

    family: str
    stage: int
    hint: int
    at: str
    attempt: str | None


class HintLog:
    """The hints shown so far, in ``hints.json`` (see the module docstring)."""

    def __init__(self, home: Path) -> None:
        self.path = home / HINTS_FILE
        self.shown: list[Shown] = []
        data, self.warning = read_json(self.path, check_hints, "every hint counts as unseen")
        if data is not None:
            self.shown = [Shown(**entry) for entry in data["shown"]]

    def seen(self, family: str, stage: int, attempt: str | None) -> list[int]:
        """The hints of ``stage`` already shown (in the attempt started at ``attempt``)."""
        return sorted(
            {
                s.hint
                for s in self.shown
                if (s.family, s.stage, s.attempt) == (family, stage, attempt)
            }
        )

    def count(self, family: str, attempt: str) -> int:
        """How many hints the attempt on ``family`` started at ``attempt`` has used."""
        return len(
            {(s.stage, s.hint) for s in self.shown if (s.family, s.attempt) == (family, attempt)}
        )

    def record(
        self, family: str, stage: int, hint: int, now: datetime, attempt: str | None
    ) -> None:
        """Note that ``hint`` was shown at ``now`` (not saved until ``save``)."""
        self.shown.append(Shown(family, stage, hint, stamp(now), attempt))

    def save(self) -> None:
        """Write the hints file atomically."""
        data = {"version": VERSION, "shown": [vars(s) for s in self.shown]}
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _shown_list(data: Any) -> list[Any]:
    shown = envelope(data, "shown")
    if not isinstance(shown, list):
        raise Damaged("its 'shown' list is not a list")
    return shown


def check_hints(data: Any) -> None:
    """Raise Damaged unless ``data`` is a valid hints file."""
    for n, entry in enumerate(_shown_list(data)):
        where = f"entry {n}"
        fields = {"family", "stage", "hint", "at", "attempt"}
        if not isinstance(entry, dict) or set(entry) != fields:
            raise Damaged(f"{where} does not have exactly family, stage, hint, at and attempt")
        time_field(entry["at"], f"{where} at")
        if entry["attempt"] is not None:
            time_field(entry["attempt"], f"{where} attempt")
        if not isinstance(entry["family"], str):
            raise Damaged(f"{where} family is not a name")
        whole_number(entry["stage"], f"{where} stage", STAGES[0], STAGES[-1])
        whole_number(entry["hint"], f"{where} hint", 1)


@dataclass(frozen=True)
class HintAnswer:
    """What ``kata hint F`` shows: a heading line and the hints' markdown."""

    title: str
    hints: list[str]


def next_hint(
    repo: Repo, log: HintLog, family: str, stage: int, now: datetime, attempt: str | None
) -> HintAnswer:
    """Show the next unseen hint of ``stage`` and record it (saved here)."""
    hints = read_hints(repo, family, stage)
    if not hints:
        return HintAnswer(f"Stage {stage} of {family} has no hints.", [])
    seen = log.seen(family, stage, attempt)
    unseen = [n for n in range(1, len(hints) + 1) if n not in seen]
    if not unseen:
        return HintAnswer(
            f"You have seen all {len(hints)} hints of stage {stage} of {family}; "
            f"`kata hint {family} --all` shows them again.",
            [],
        )
    n = unseen[0]
    log.record(family, stage, n, now, attempt)
    log.save()
    during = " (recorded in your attempt)" if attempt is not None else ""
    title = f"Hint {n} of {len(hints)}, stage {stage} of {family}{during}:"
    return HintAnswer(title, [hints[n - 1]])


def seen_hints(
    repo: Repo, log: HintLog, family: str, stage: int, attempt: str | None
) -> HintAnswer:
    """The hints of ``stage`` already shown, in order; records nothing."""
    hints = read_hints(repo, family, stage)
    seen = [n for n in log.seen(family, stage, attempt) if n <= len(hints)]
    if not seen:
        return HintAnswer(
            f"No hint of stage {stage} of {family} seen yet; `kata hint {family}` shows the first.",
            [],
        )
    return HintAnswer(
        f"The {len(seen)} of {len(hints)} hints of stage {stage} of {family} you have seen:",
        [hints[n - 1] for n in seen],
    )
