"""From stack samples to trace events a profiler UI can open.

Reference solution of the ``stack_trace`` kata, final round: every call of the
earlier rounds still works. The specs are ``stages/stack_trace/stage1.md`` to
``stage4.md``.

A sampling profiler records, now and then, the call stack of each thread. This
module turns those samples into start and end events of calls, filters out
calls seen in too few samples, does it incrementally (``TraceBuilder``), and
turns the events into a Chrome trace and a table of per-function statistics.

Identity of a call. The frame at depth d of a sample is the same call as the
frame at depth d of the previous sample of its thread only if the two stacks
agree at every depth 0..d: comparing by common prefix is what makes recursion
(``a, a, a``) three calls and ``[a, b] -> [c, b]`` two new calls.

State of one thread (``_Thread``), all of it O(open frames)::

    stack   tuple[str, ...]  the thread's last stack, outermost first
    since   list[float]      per depth: timestamp of the sample the call appeared in
    first   list[int]        per depth: index (in the thread) of that sample
    shown   int              the calls at depths 0..shown-1 have been reported
    seen    int              samples of this thread so far
    last    float            timestamp of the thread's last sample

A call is reported once it has been the same call in ``min_samples``
consecutive samples. A call cannot outlive its caller, so the run of a deeper
call is never longer than its caller's: the reported calls are always a prefix
of the stack, and ``shown`` is all it takes to remember which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

__all__ = [
    "Event",
    "FunctionStats",
    "Sample",
    "TraceBuilder",
    "convert_to_trace",
    "format_stats",
    "function_stats",
    "to_chrome_trace",
]


@dataclass(frozen=True)
class Sample:
    """The call stack of one thread at time ``ts`` (seconds), outermost frame first.

    ``stack`` may be given as any iterable of names (a list, say); it is
    stored as a tuple, so samples are hashable and never change.

    >>> Sample(1.5, ["main", "parse"])
    Sample(ts=1.5, stack=('main', 'parse'), thread=0)
    """

    ts: float
    stack: tuple[str, ...]
    thread: int = 0

    def __post_init__(self) -> None:
        # A frozen dataclass refuses setattr; object.__setattr__ is the
        # documented way to normalise a field in __post_init__.
        object.__setattr__(self, "stack", tuple(self.stack))


@dataclass(frozen=True)
class Event:
    """A call of ``name`` at ``depth`` (0: outermost) started or ended at ``ts`` on ``thread``."""

    kind: Literal["start", "end"]
    ts: float
    name: str
    depth: int
    thread: int = 0


def _require_min_samples(min_samples: int) -> int:
    """Return ``min_samples`` if it is an int >= 1; TypeError / ValueError otherwise."""
    # bool is an int subclass, but min_samples=True is a mistake, not a count.
    if not isinstance(min_samples, int) or isinstance(min_samples, bool):
        raise TypeError(f"min_samples must be an int, got {type(min_samples).__name__}")
    if min_samples < 1:
        raise ValueError(f"min_samples must be at least 1, got {min_samples}")
    return min_samples


class _Thread:
    """The open calls of one thread; see the module docstring for the layout."""

    __slots__ = ("first", "last", "seen", "shown", "since", "stack")

    def __init__(self) -> None:
        self.stack: tuple[str, ...] = ()
        self.since: list[float] = []
        self.first: list[int] = []
        self.shown = 0
        self.seen = 0
        self.last = -math.inf


class TraceBuilder:
    """Turns samples into events one sample at a time, in memory O(open frames).

    Each thread has its own stack; ``min_samples`` counts consecutive samples
    of a call's own thread. Feed samples with ``feed``, then ``close`` once.

    >>> builder = TraceBuilder()
    >>> builder.feed(Sample(0, ["main"]))
    [Event(kind='start', ts=0, name='main', depth=0, thread=0)]
    >>> builder.close(2)
    [Event(kind='end', ts=2, name='main', depth=0, thread=0)]
    """

    def __init__(self, *, min_samples: int = 1) -> None:
        """Raises TypeError if ``min_samples`` is not an int, ValueError if it is < 1.

        Runtime complexity: O(1)
        """
        self._min = _require_min_samples(min_samples)
        self._threads: dict[int, _Thread] = {}
        self._fed = 0  # samples accepted so far: the index of the next one
        self._latest = -math.inf  # the greatest timestamp fed, over all threads
        self._closed = False

    def feed(self, sample: Sample) -> list[Event]:
        """Return the events ``sample`` produces, in order.

        Ends first, deepest first, at ``sample.ts``; then starts, outermost
        first: a start carries the timestamp of the sample its call appeared
        in, and is produced by the sample in which the call reaches
        ``min_samples`` consecutive samples.

        Raises RuntimeError after ``close``; ValueError if ``sample.ts`` is
        earlier than the previous sample of the same thread (the message names
        the sample's 0-based index among the samples fed). A rejected sample
        changes nothing.

        Runtime complexity: O(len(previous stack) + len(sample.stack))
        """
        if self._closed:
            raise RuntimeError("feed after close: a closed TraceBuilder takes no more samples")
        thread = self._threads.get(sample.thread)
        if thread is not None and sample.ts < thread.last:
            raise ValueError(
                f"sample {self._fed} (0-based) of thread {sample.thread} has ts {sample.ts}, "
                f"earlier than the thread's previous sample ({thread.last}): timestamps must "
                "not decrease"
            )
        if thread is None:
            thread = self._threads[sample.thread] = _Thread()
        self._fed += 1
        self._latest = max(self._latest, sample.ts)
        return self._advance(thread, sample)

    def _advance(self, thread: _Thread, sample: Sample) -> list[Event]:
        ts, stack, tid = sample.ts, sample.stack, sample.thread
        old, index = thread.stack, thread.seen
        thread.stack, thread.seen, thread.last = stack, index + 1, ts
        events: list[Event] = []
        # The common case, an unchanged stack, allocates nothing but the result.
        if stack != old:
            common = 0
            for before, now in zip(old, stack, strict=False):  # the shorter one bounds the prefix
                if before != now:
                    break
                common += 1
            # Calls below the common prefix are over; only reported ones say so.
            for depth in range(thread.shown - 1, common - 1, -1):
                events.append(Event("end", ts, old[depth], depth, tid))
            thread.shown = min(thread.shown, common)
            del thread.since[common:], thread.first[common:]
            for _ in range(common, len(stack)):
                thread.since.append(ts)
                thread.first.append(index)
        # Runs shorten with depth, so the calls reaching min_samples now are
        # the ones just past the reported prefix.
        while thread.shown < len(stack) and index - thread.first[thread.shown] + 1 >= self._min:
            depth = thread.shown
            events.append(Event("start", thread.since[depth], stack[depth], depth, tid))
            thread.shown += 1
        return events

    def close(self, ts: float) -> list[Event]:
        """End every reported open call at ``ts``: threads by ascending id, each deepest first.

        Raises RuntimeError if already closed; ValueError if ``ts`` is earlier
        than a sample fed (the builder stays open). After ``close``, ``feed``
        and ``close`` raise RuntimeError.

        Runtime complexity: O(open calls + t log t), t the number of threads
        """
        if self._closed:
            raise RuntimeError("close after close: a TraceBuilder closes once")
        if ts < self._latest:
            raise ValueError(f"close at {ts} is earlier than a sample fed at {self._latest}")
        events = [
            Event("end", ts, thread.stack[depth], depth, tid)
            for tid, thread in sorted(self._threads.items())
            for depth in range(thread.shown - 1, -1, -1)
        ]
        self._closed = True
        self._threads.clear()  # nothing left to end: drop the stacks
        return events

    def _check(self) -> None:
        """Assert the invariants of every thread's state (for the tests)."""
        for tid, thread in self._threads.items():
            where = f"thread {tid}"
            depth = len(thread.stack)
            assert len(thread.since) == len(thread.first) == depth, f"{where}: one entry per frame"
            assert 0 <= thread.shown <= depth, f"{where}: shown {thread.shown} of {depth} frames"
            assert all(a <= b for a, b in pairwise(thread.since)), f"{where}: since not sorted"
            assert all(a <= b for a, b in pairwise(thread.first)), f"{where}: first not sorted"
            assert all(0 <= f < thread.seen for f in thread.first), f"{where}: first out of range"
            assert not thread.since or thread.since[-1] <= thread.last <= self._latest, (
                f"{where}: a call appeared after the thread's last sample or the latest ts"
            )
            runs = [thread.seen - f for f in thread.first]
            assert all(run >= self._min for run in runs[: thread.shown]), (
                f"{where}: a reported call has fewer than min_samples samples"
            )
            assert all(run < self._min for run in runs[thread.shown :]), (
                f"{where}: an unreported call has min_samples samples"
            )
        assert not (self._closed and self._threads), "a closed builder keeps no threads"


def convert_to_trace(samples: Iterable[Sample], *, min_samples: int = 1) -> list[Event]:
    """Return the start and end events of the calls seen in ``samples``, in order.

    Events come in the order of the samples that produce them; within one
    sample, ends deepest first, then starts outermost first. Calls still on a
    stack in the last sample of their thread get no end event.

    Raises TypeError / ValueError for a bad ``min_samples`` (before reading
    ``samples``), ValueError naming the 0-based index of a sample whose ts is
    earlier than the previous sample of its thread.

    Runtime complexity: O(total length of the stacks)

    >>> convert_to_trace([Sample(0, ["a", "b"]), Sample(1, ["c", "b"])])  # doctest: +ELLIPSIS
    [Event(kind='start', ts=0, name='a', ...), Event(kind='start', ts=0, name='b', ...), \
Event(kind='end', ts=1, name='b', ...), Event(kind='end', ts=1, name='a', ...), \
Event(kind='start', ts=1, name='c', ...), Event(kind='start', ts=1, name='b', ...)]
    """
    builder = TraceBuilder(min_samples=min_samples)
    events: list[Event] = []
    for sample in samples:
        events += builder.feed(sample)
    return events


def to_chrome_trace(events: Iterable[Event]) -> dict:
    """Return ``events`` in the Trace Event Format (Perfetto, ``chrome://tracing``).

    One "B" (start) or "E" (end) entry per event, in the order given: ``ts`` in
    integer microseconds (``round(ts * 1_000_000)``), ``pid`` 1, ``tid`` the
    event's thread. ``json.dumps`` of the result works.

    Runtime complexity: O(len(events))

    >>> to_chrome_trace([Event("start", 0.5, "main", 0)])["traceEvents"]
    [{'name': 'main', 'ph': 'B', 'ts': 500000, 'pid': 1, 'tid': 0}]
    """
    phases = {"start": "B", "end": "E"}
    return {
        "traceEvents": [
            {
                "name": event.name,
                "ph": phases[event.kind],
                "ts": round(event.ts * 1_000_000),
                "pid": 1,
                "tid": event.thread,
            }
            for event in events
        ],
        "displayTimeUnit": "ms",
    }


@dataclass(frozen=True)
class FunctionStats:
    """Time spent in one function over its completed calls, in seconds.

    ``calls``: completed calls, recursive ones included; ``total``: time with
    at least one call of the function on the stack (inclusive time, counted
    once per thread however deep the recursion); ``self_time``: time as the
    innermost frame.
    """

    calls: int
    total: float
    self_time: float


class _Open:
    """A call started and not yet ended, while ``function_stats`` walks the events."""

    __slots__ = ("children", "covered", "name", "start")

    def __init__(self, name: str, start: float) -> None:
        self.name = name
        self.start = start
        self.children = 0.0  # time spent in completed direct callees
        self.covered = 0.0  # time of completed calls of the same name nested inside


def function_stats(events: Iterable[Event]) -> dict[str, FunctionStats]:
    """Return the statistics of each function with at least one completed call.

    A call is completed when its start and its end are both in ``events``;
    calls without an end count nowhere. Statistics are summed over threads.
    ``events`` are as ``convert_to_trace`` and ``TraceBuilder`` produce them:
    an end that does not end the innermost open call of its thread (same name
    and depth) raises ValueError.

    Runtime complexity: O(len(events))
    """
    calls: dict[str, int] = {}
    total: dict[str, float] = {}
    own: dict[str, float] = {}
    stacks: dict[int, list[_Open]] = {}
    # Per thread and name, the open calls of that name, innermost last: the
    # one a completed call of the same name is nested in.
    by_name: dict[int, dict[str, list[_Open]]] = {}
    for event in events:
        stack = stacks.setdefault(event.thread, [])
        named = by_name.setdefault(event.thread, {})
        if event.kind == "start":
            if event.depth != len(stack):
                raise ValueError(f"{event} does not start at the depth of its thread's stack")
            call = _Open(event.name, event.ts)
            stack.append(call)
            named.setdefault(event.name, []).append(call)
            continue
        if not stack or stack[-1].name != event.name or event.depth != len(stack) - 1:
            raise ValueError(f"{event} does not end the innermost open call of its thread")
        call = stack.pop()
        named[call.name].pop()
        duration = event.ts - call.start
        calls[call.name] = calls.get(call.name, 0) + 1
        # Only the part not already counted by a nested call of the same name
        # is new: recursion adds nothing to the inclusive time.
        total[call.name] = total.get(call.name, 0.0) + duration - call.covered
        own[call.name] = own.get(call.name, 0.0) + duration - call.children
        if stack:
            stack[-1].children += duration
        if named[call.name]:
            named[call.name][-1].covered += duration
    return {name: FunctionStats(calls[name], total[name], own[name]) for name in calls}


def format_stats(stats: dict[str, FunctionStats]) -> str:
    """Return ``stats`` as a fixed-width table, by total descending, then name.

    Columns: function (left-aligned, as wide as the longest name and at least
    8), calls (8), total (12) and self (12), right-aligned, two spaces apart;
    times in seconds with 6 decimals. A header line, then one line per
    function; lines joined by newlines, no trailing newline or spaces.

    Runtime complexity: O(n log n)

    >>> print(format_stats({"main": FunctionStats(1, 2.5, 0.5)}))
    function     calls         total          self
    main             1      2.500000      0.500000
    """
    width = max([8, *map(len, stats)])
    lines = [f"{'function':<{width}}  {'calls':>8}  {'total':>12}  {'self':>12}"]
    for name, row in sorted(stats.items(), key=lambda item: (-item[1].total, item[0])):
        lines.append(f"{name:<{width}}  {row.calls:>8}  {row.total:>12.6f}  {row.self_time:>12.6f}")
    return "\n".join(lines)
