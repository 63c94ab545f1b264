"""The one clock of the kit: wall time in UTC, or the testing clock.

Attempt deadlines, splits, ``last_run`` and backup names all read this. When
the environment variable ``KATA_NOW`` holds an ISO 8601 time with a zone, that
is the time instead, so tests of timed attempts need not sleep.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    """The current time, aware, in UTC (``KATA_NOW`` when set)."""
    fixed = os.environ.get("KATA_NOW")
    return parse_stamp(fixed) if fixed else datetime.now(timezone.utc)


def stamp(moment: datetime) -> str:
    """``moment`` as state files hold it: ISO 8601, UTC, whole seconds, ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    """The aware UTC datetime of an ISO 8601 time with a zone; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a time")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(timezone.utc)


def duration(seconds: float) -> str:
    """A duration for people, one format everywhere: ``45 s``, ``12 min 5 s``, ``1 h 2 min``.

    Never ``1:54``, which reads as hours in one place and minutes in another.
    """
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:  # seconds no longer matter at this scale
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
