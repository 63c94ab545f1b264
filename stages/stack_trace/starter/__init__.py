"""From stack samples to trace events: your code for the stack_trace kata.

The spec of this round is ``stages/stack_trace/stage1.md``. Run its tests with::

    pytest --stage 1 katas/stack_trace

``Sample`` and ``Event`` are given, complete. Replace the ``raise
NotImplementedError`` in ``convert_to_trace`` with your code. Keep the names
and signatures: the tests call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Event", "Sample", "convert_to_trace"]


@dataclass(frozen=True)
class Sample:
    """The call stack at time ``ts`` (seconds), outermost frame first.

    ``stack`` may be given as any iterable of names (a list, say); it is
    stored as a tuple, so samples are hashable and never change.

    >>> Sample(1.5, ["main", "parse"])
    Sample(ts=1.5, stack=('main', 'parse'))
    """

    ts: float
    stack: tuple[str, ...]

    def __post_init__(self) -> None:
        # A frozen dataclass refuses setattr; object.__setattr__ is the
        # documented way to normalise a field in __post_init__.
        object.__setattr__(self, "stack", tuple(self.stack))


@dataclass(frozen=True)
class Event:
    """A call of ``name`` at ``depth`` (0: outermost) started or ended at ``ts``."""

    kind: Literal["start", "end"]
    ts: float
    name: str
    depth: int


def convert_to_trace(samples: Iterable[Sample]) -> list[Event]:
    """Return the start and end events of the calls seen in ``samples``, in order.

    Events come in the order of the samples that produce them; within one
    sample, ends deepest first, then starts outermost first. Calls still on the
    stack in the last sample get no end event.

    Raises ValueError naming the 0-based index of a sample whose ts is earlier
    than the previous sample's.
    """
    raise NotImplementedError("TODO(stage 1): convert_to_trace")
