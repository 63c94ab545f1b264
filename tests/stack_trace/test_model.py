"""Random samples against plain models of the spec, one hypothesis test (or more) per stage.

Stacks are drawn from names "a", "b", "c" and are at most 4 deep, and a sample
often repeats its thread's previous stack, so recursion (``a a``), identical
stacks and diverging prefixes (``a b`` then ``c b``) all happen; timestamps
advance by 0, 1 or 2 (equal timestamps are frequent) and are integers, so every
sum the statistics make is exact.

The models are written from the definitions, not for speed: a frame is the
pair (first sample of its call, depth), and a frame of sample ``p`` continues
the one of sample ``p - 1`` of its thread when the two stacks agree at every
depth up to its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from dojo.testing import assert_same_list, check_raises, render_call, run_machine, short, shrinks

NAMES = st.sampled_from("abc")
STACKS = st.lists(NAMES, max_size=4).map(tuple)
REPEAT = None  # a row whose stack is None repeats its thread's previous stack
STEPS = st.sampled_from([0, 0, 1, 2])


def rows_strategy(threads: int) -> st.SearchStrategy[list[tuple[int, tuple[str, ...], int]]]:
    """Lists of ``(ts, stack, thread)``, ts non-decreasing within each thread."""
    row = st.tuples(STEPS, st.none() | STACKS, st.integers(0, threads - 1))

    def resolve(raw):
        clocks: dict[int, int] = defaultdict(int)
        last: dict[int, tuple[str, ...]] = defaultdict(tuple)
        rows = []
        for step, stack, thread in raw:
            clocks[thread] += step
            last[thread] = last[thread] if stack is REPEAT else stack
            rows.append((clocks[thread], last[thread], thread))
        return rows

    return st.lists(row, max_size=16).map(resolve)


@dataclass
class Frame:
    """One call of the model: depth, name, thread, and the positions of its samples."""

    thread: int
    depth: int
    name: str
    first: int  # global index of its first sample
    last: int  # global index of its last sample
    count: int  # samples of its thread it was seen in
    reaching: int | None = None  # global index of the sample where count hits min_samples
    ended_by: int | None = None  # global index of the first sample without it


def model_frames(rows, min_samples: int) -> list[Frame]:
    """Every call in ``rows``, by the definition of "same call" and of the filter."""
    frames: list[Frame] = []
    previous: dict[int, tuple[tuple[str, ...], list[Frame]]] = {}
    for index, (_, stack, thread) in enumerate(rows):
        old_stack, old_frames = previous.get(thread, ((), []))
        current = []
        for depth, name in enumerate(stack):
            if old_stack[: depth + 1] == stack[: depth + 1]:
                frame = old_frames[depth]
                frame.last, frame.count = index, frame.count + 1
            else:
                frame = Frame(thread, depth, name, index, index, 1)
                frames.append(frame)
            if frame.count == min_samples:
                frame.reaching = index
            current.append(frame)
        for frame in old_frames:
            if frame not in current:
                frame.ended_by = index
        previous[thread] = (stack, current)
    return frames


def model_events(rows, min_samples: int = 1) -> list[tuple]:
    """``(kind, ts, name, depth, thread)`` of the reported frames, sorted by the order rule."""
    keyed = []
    for f in model_frames(rows, min_samples):
        if f.reaching is None:
            continue
        keyed.append(
            ((f.reaching, 1, f.depth), ("start", rows[f.first][0], f.name, f.depth, f.thread))
        )
        if f.ended_by is not None:
            end = ("end", rows[f.ended_by][0], f.name, f.depth, f.thread)
            keyed.append(((f.ended_by, 0, -f.depth), end))
    return [event for _, event in sorted(keyed)]


def model_close(rows, min_samples: int, ts) -> list[tuple]:
    """The end events of ``close(ts)``: reported frames never ended, by thread, deepest first."""
    still_open = [
        f for f in model_frames(rows, min_samples) if f.reaching is not None and f.ended_by is None
    ]
    still_open.sort(key=lambda f: (f.thread, -f.depth))
    return [("end", ts, f.name, f.depth, f.thread) for f in still_open]


def as_tuples(events) -> list[tuple]:
    return [(e.kind, e.ts, e.name, e.depth, getattr(e, "thread", 0)) for e in events]


def round_one_model(rows) -> list[tuple]:
    """Round 1 as the spec says it, sample by sample: common prefix, ends, starts."""
    events, old = [], ()
    for ts, stack, _ in rows:
        common = 0
        while common < min(len(old), len(stack)) and old[common] == stack[common]:
            common += 1
        events += [("end", ts, old[d], d, 0) for d in reversed(range(common, len(old)))]
        events += [("start", ts, stack[d], d, 0) for d in range(common, len(stack))]
        old = stack
    return events


def samples_of(impl, rows, threads: bool = False) -> list:
    return [
        impl.Sample(ts, list(stack), *([thread] if threads else [])) for ts, stack, thread in rows
    ]


ROUND_ONE = "frames compared by common prefix; ends deepest first, then starts outermost first"
FILTER = "min_samples consecutive samples of the frame's own thread; a start at the call's first ts"


def check_trace(impl, rows, expected, rule, threads=False, **kwargs) -> None:
    """``convert_to_trace`` of ``rows`` gives ``expected`` (tuples), shown item by item."""
    given_samples = samples_of(impl, rows, threads)
    events = impl.convert_to_trace(given_samples, **kwargs)
    assert_same_list(
        as_tuples(events),
        expected,
        render_call(impl.convert_to_trace, given_samples, **kwargs) + " (as tuples)",
        rule,
    )


@shrinks
@pytest.mark.stage(1)
@given(rows=rows_strategy(threads=1))
def test_random_samples_give_the_events_of_the_common_prefix_model(impl, rows):
    check_trace(impl, rows, round_one_model(rows), ROUND_ONE)


@shrinks
@pytest.mark.stage(2)
@given(rows=rows_strategy(threads=1), min_samples=st.integers(1, 4))
def test_random_samples_with_min_samples_agree_with_the_run_model(impl, rows, min_samples):
    check_trace(impl, rows, model_events(rows, min_samples), FILTER, min_samples=min_samples)


@shrinks
@pytest.mark.stage(3)
@given(rows=rows_strategy(threads=3), min_samples=st.integers(1, 3))
def test_random_samples_of_several_threads_agree_with_the_model(impl, rows, min_samples):
    expected = model_events(rows, min_samples)
    rule = "each thread its own stack; " + FILTER
    check_trace(impl, rows, expected, rule, threads=True, min_samples=min_samples)


class BuilderMachine(RuleBasedStateMachine):
    """Stage 3: feed (sometimes too early) and close, against the model of everything fed.

    One call of the builder per rule.
    """

    def __init__(self, impl) -> None:
        super().__init__()
        self.impl = impl
        self.rows: list[tuple] = []
        self.clocks: dict[int, int] = {}  # thread -> ts of its last sample
        self.closed = False

    @initialize(min_samples=st.integers(1, 3))
    def new_builder(self, min_samples):
        self.min_samples = min_samples
        self.builder = self.impl.TraceBuilder(min_samples=min_samples)

    @precondition(lambda self: not self.closed)
    @rule(thread=st.integers(0, 2), step=STEPS, stack=st.none() | STACKS)
    def feed(self, thread, step, stack):
        if stack is REPEAT:
            stack = next((s for _, s, t in reversed(self.rows) if t == thread), ())
        ts = self.clocks.get(thread, 0) + step
        sample = self.impl.Sample(ts, list(stack), thread)
        got = self.builder.feed(sample)
        self.clocks[thread] = ts
        self.rows.append((ts, stack, thread))
        # The events of the last sample: those of everything fed, minus those before it.
        expected = model_events(self.rows, self.min_samples)
        before = model_events(self.rows[:-1], self.min_samples)
        assert_same_list(
            as_tuples(got),
            expected[len(before) :],
            render_call(self.builder.feed, sample) + " (as tuples)",
            "feed returns the events convert_to_trace would produce for this sample",
        )
        self.check_own_state(render_call(self.builder.feed, sample))

    @precondition(lambda self: not self.closed and self.clocks)
    @rule(pick=st.integers(0, 2), stack=STACKS)
    def feed_too_early(self, pick, stack):
        thread = sorted(self.clocks)[pick % len(self.clocks)]
        sample = self.impl.Sample(self.clocks[thread] - 1, list(stack), thread)
        check_raises(
            ValueError,
            "a sample earlier than its thread's previous one is rejected, changing nothing",
            self.builder.feed,
            sample,
        )
        self.check_own_state(f"the rejected {render_call(self.builder.feed, sample)}")

    @precondition(lambda self: not self.closed and self.clocks)
    @rule()
    def close_too_early(self):
        ts = max(self.clocks.values()) - 1
        check_raises(
            ValueError,
            "close(ts) needs ts at least the greatest ts fed; the builder stays open",
            self.builder.close,
            ts,
        )
        self.check_own_state(f"the rejected {render_call(self.builder.close, ts)}")

    @precondition(lambda self: not self.closed)
    @rule(step=st.sampled_from([0, 2]))
    def close(self, step):
        ts = max(self.clocks.values(), default=0) + step
        got = self.builder.close(ts)
        self.closed = True
        assert_same_list(
            as_tuples(got),
            model_close(self.rows, self.min_samples, ts),
            render_call(self.builder.close, ts) + " (as tuples)",
            "close ends the reported open frames, threads ascending, deepest first",
        )
        self.check_own_state(render_call(self.builder.close, ts))

    @precondition(lambda self: self.closed)
    @rule()
    def close_after_close(self):
        check_raises(RuntimeError, "a closed builder closes no more", self.builder.close, 10**6)

    @precondition(lambda self: self.closed)
    @rule()
    def feed_after_close(self):
        check_raises(
            RuntimeError,
            "a closed builder takes no more samples",
            self.builder.feed,
            self.impl.Sample(10**6, ["a"]),
        )

    def check_own_state(self, step: str) -> None:
        """The reference's own invariants after ``step`` (a learner's builder may not have
        ``_check``). Called by the rules rather than as a hypothesis invariant, so that a
        failing sequence lists the operations only."""
        check = getattr(self.builder, "_check", None)
        if check is not None:
            try:
                check()
            except AssertionError as exc:
                raise AssertionError(f"TraceBuilder._check() after {step}: {exc}") from None


@shrinks
@pytest.mark.stage(3)
def test_random_feeds_and_closes_agree_with_the_model(impl):
    run_machine(lambda: BuilderMachine(impl), examples=50, steps=20)


def union_length(intervals: list[tuple[int, int]]) -> int:
    """Length of the union of closed intervals."""
    total, reach = 0, None
    for start, stop in sorted(intervals):
        if reach is None or start > reach:
            total, reach = total + stop - start, stop
        elif stop > reach:
            total, reach = total + stop - reach, stop
    return total


def model_stats(rows, min_samples: int, close: bool) -> tuple[list[tuple], dict[str, tuple]]:
    """The events of ``rows`` (closed one second after the last sample if ``close``)
    and, by the definitions, the ``(calls, total, self_time)`` of each function."""
    end_ts = max((ts for ts, _, _ in rows), default=0) + 1
    events = model_events(rows, min_samples) + (
        model_close(rows, min_samples, end_ts) if close else []
    )
    # The completed frames: (thread, depth, name, start, stop, first, last).
    completed = []
    for f in model_frames(rows, min_samples):
        if f.reaching is None or (f.ended_by is None and not close):
            continue
        stop = end_ts if f.ended_by is None else rows[f.ended_by][0]
        completed.append((f.thread, f.depth, f.name, rows[f.first][0], stop, f.first, f.last))
    stats = {}
    for name in {c[2] for c in completed}:
        mine = [c for c in completed if c[2] == name]
        per_thread = [[c[3:5] for c in mine if c[0] == t] for t in {c[0] for c in mine}]
        callees = [
            sum(
                d[4] - d[3] for d in completed if d[:2] == (c[0], c[1] + 1) and c[5] <= d[5] <= c[6]
            )
            for c in mine
        ]
        stats[name] = (
            len(mine),
            sum(union_length(intervals) for intervals in per_thread),
            sum(c[4] - c[3] for c in mine) - sum(callees),
        )
    return events, stats


STATS_DRAW = {
    "rows": rows_strategy(threads=2),
    "min_samples": st.integers(1, 3),
    "close": st.booleans(),
}


@shrinks
@pytest.mark.stage(4)
@given(**STATS_DRAW)
def test_random_events_give_the_stats_of_the_definitions(impl, rows, min_samples, close):
    events, stats = model_stats(rows, min_samples, close)
    given_events = [impl.Event(*e) for e in events]
    got = impl.function_stats(given_events)
    expected = {name: impl.FunctionStats(*row) for name, row in sorted(stats.items())}
    if got != expected:
        wrong = [
            f"  {name}: returned {short(got.get(name))}, expected {short(expected.get(name))}"
            for name in sorted({*got, *expected})
            if got.get(name) != expected.get(name)
        ]
        raise AssertionError(
            f"{render_call(impl.function_stats, given_events)} is wrong for "
            f"{len(wrong)} function(s) (calls: completed activations; total: the time with at "
            "least one activation on the stack, per thread; self_time: duration minus the "
            "direct callees):\n" + "\n".join(wrong)
        )


@shrinks
@pytest.mark.stage(4)
@given(**STATS_DRAW)
def test_random_events_give_one_chrome_entry_each(impl, rows, min_samples, close):
    events, _ = model_stats(rows, min_samples, close)
    given_events = [impl.Event(*e) for e in events]
    trace = impl.to_chrome_trace(given_events)
    keys = {"traceEvents", "displayTimeUnit"}
    assert set(trace) == keys and trace["displayTimeUnit"] == "ms", (
        f"{render_call(impl.to_chrome_trace, given_events)} has the keys {sorted(trace)} and "
        f"displayTimeUnit {trace.get('displayTimeUnit')!r}; expected traceEvents and 'ms'"
    )
    assert_same_list(
        trace["traceEvents"],
        [
            {
                "name": e[2],
                "ph": "B" if e[0] == "start" else "E",
                "ts": e[1] * 1_000_000,
                "pid": 1,
                "tid": e[4],
            }
            for e in events
        ],
        render_call(impl.to_chrome_trace, given_events) + "['traceEvents']",
        "one B or E entry per event, in order, ts in integer microseconds",
    )
