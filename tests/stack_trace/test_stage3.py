"""Stage 3: streaming and threads (spec: stages/stack_trace/stage3.md)."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from dojo.testing import example_params

pytestmark = pytest.mark.stage(3)


def test_sample_and_event_take_a_thread_that_defaults_to_zero(impl, start):
    assert impl.Sample(0, ["a"]).thread == 0
    assert impl.Sample(0, ["a"], thread=3) == impl.Sample(0, ("a",), 3)
    events = impl.convert_to_trace([impl.Sample(0, ["a"], thread=3), impl.Sample(1, ["b"])])
    assert events == [impl.Event("start", 0, "a", 0, 3), impl.Event("start", 1, "b", 0, 0)]
    assert events[1] == impl.Event("start", 1, "b", 0) == start(1, "b", 0)
    assert [event.thread for event in events] == [3, 0]


def test_threads_have_their_own_stacks(impl, samples, start, end):
    rows = samples((0, "a b", 1), (1, "c", 2), (2, "a b", 1), (3, "", 2), (4, "a", 1))
    assert impl.convert_to_trace(rows) == [
        start(0, "a", 0, 1),
        start(0, "b", 1, 1),
        start(1, "c", 0, 2),
        end(3, "c", 0, 2),
        end(4, "b", 1, 1),
    ], "a sample of thread 2 neither ends nor continues anything of thread 1"


def test_events_of_different_threads_keep_input_sample_order(impl, samples, start, end):
    rows = samples((5, "a", 2), (5, "a", 1), (6, "", 2), (6, "", 1))
    assert impl.convert_to_trace(rows) == [
        start(5, "a", 0, 2),
        start(5, "a", 0, 1),
        end(6, "a", 0, 2),
        end(6, "a", 0, 1),
    ]


def test_min_samples_counts_the_samples_of_the_frames_own_thread(impl, samples, start, end):
    rows = samples((0, "a", 1), (1, "x", 2), (2, "a", 1), (3, "y", 2), (4, "", 1))
    assert impl.convert_to_trace(rows, min_samples=2) == [start(0, "a", 0, 1), end(4, "a", 0, 1)], (
        "samples of thread 2 between do not break thread 1's run, and x and y have one each"
    )


def test_timestamps_may_decrease_across_threads_but_not_within_one(impl, samples, start):
    rows = samples((10, "a", 1), (5, "b", 2), (10, "a", 1), (7, "b", 2))
    assert impl.convert_to_trace(rows) == [start(10, "a", 0, 1), start(5, "b", 0, 2)]
    with pytest.raises(ValueError) as excinfo:
        impl.convert_to_trace([*rows, *samples((9, "a", 1))])
    assert re.search(r"\b4\b", str(excinfo.value)), "the message names the index 4"


def test_convert_to_trace_gives_no_end_for_frames_open_on_any_thread(impl, samples, start):
    rows = samples((0, "a", 0), (0, "b", 1), (1, "a", 0))
    assert impl.convert_to_trace(rows) == [start(0, "a", 0, 0), start(0, "b", 0, 1)]


def test_feed_returns_the_events_each_sample_produces(impl, samples, start, end):
    builder = impl.TraceBuilder()
    fed = [builder.feed(s) for s in samples((0, "a b"), (1, "a b"), (2, "c"))]
    assert fed == [
        [start(0, "a", 0), start(0, "b", 1)],
        [],
        [end(2, "b", 1), end(2, "a", 0), start(2, "c", 0)],
    ], "feed returns a list, empty when the sample produces nothing"


def test_feeding_every_sample_gives_convert_to_trace(impl, samples):
    rows = samples((0, "a b", 1), (1, "a", 2), (1, "a c", 1), (2, "a c", 1), (2, "", 2))
    for min_samples in (1, 2):
        builder = impl.TraceBuilder(min_samples=min_samples)
        fed = [event for sample in rows for event in builder.feed(sample)]
        assert fed == impl.convert_to_trace(rows, min_samples=min_samples)


def test_close_ends_open_frames_by_ascending_thread_deepest_first(impl, samples, end):
    builder = impl.TraceBuilder()
    for sample in samples((0, "a b", 5), (1, "c", 2), (2, "d e f", 9), (3, "", 7)):
        builder.feed(sample)
    assert builder.close(4) == [
        end(4, "c", 0, 2),
        end(4, "b", 1, 5),
        end(4, "a", 0, 5),
        end(4, "f", 2, 9),
        end(4, "e", 1, 9),
        end(4, "d", 0, 9),
    ]


def test_close_ends_only_frames_that_reached_min_samples(impl, samples, start, end):
    builder = impl.TraceBuilder(min_samples=2)
    assert builder.feed(impl.Sample(0, ["a"])) == []
    assert builder.feed(impl.Sample(1, ["a", "b"])) == [start(0, "a", 0)]
    assert builder.close(5) == [end(5, "a", 0)], "b was never reported"


def test_close_of_a_builder_fed_nothing_returns_an_empty_list(impl):
    assert impl.TraceBuilder().close(0) == []


def test_close_at_the_greatest_timestamp_fed_is_allowed(impl, samples, end):
    builder = impl.TraceBuilder()
    for sample in samples((0, "a"), (3, "a")):
        builder.feed(sample)
    assert builder.close(3) == [end(3, "a", 0)]


def test_close_earlier_than_a_sample_fed_raises_and_leaves_the_builder_open(
    impl, samples, start, end
):
    builder = impl.TraceBuilder()
    builder.feed(impl.Sample(2, ["a"]))
    with pytest.raises(ValueError):
        builder.close(1)
    assert builder.feed(impl.Sample(3, ["a", "b"])) == [start(3, "b", 1)], "still open"
    builder.feed(impl.Sample(0, ["x"], thread=1))  # fine: another thread
    with pytest.raises(ValueError):
        builder.close(2.5)  # the last sample fed is at 0, but one was fed at 3
    assert builder.close(3) == [end(3, "b", 1), end(3, "a", 0), end(3, "x", 0, 1)]


@pytest.mark.parametrize("call", ["feed", "close", "close earlier"])
def test_feed_or_close_after_close_raises_runtime_error(impl, call):
    builder = impl.TraceBuilder()
    builder.feed(impl.Sample(1, ["a"]))
    builder.close(2)
    with pytest.raises(RuntimeError):
        if call == "feed":
            builder.feed(impl.Sample(3, ["a"]))
        else:
            builder.close(3 if call == "close" else 0)


def test_a_rejected_sample_leaves_the_builder_unchanged(impl, samples, start, end):
    builder = impl.TraceBuilder(min_samples=2)
    builder.feed(impl.Sample(0, ["a"]))
    with pytest.raises(ValueError):
        builder.feed(impl.Sample(-1, ["b"]))
    assert builder.feed(impl.Sample(0, ["a"])) == [start(0, "a", 0)], (
        "the rejected sample neither broke a's run nor moved the thread's time"
    )
    with pytest.raises(ValueError):
        builder.feed(impl.Sample(-1, []))
    assert builder.close(0) == [end(0, "a", 0)], "the rejected sample did not move the time"


@pytest.mark.parametrize(
    ("min_samples", "error"),
    [(0, ValueError), (-3, ValueError), (2.0, TypeError), ("1", TypeError), (True, TypeError)],
    ids=repr,
)
def test_trace_builder_checks_min_samples_like_convert_to_trace(impl, min_samples, error):
    with pytest.raises(error):
        impl.TraceBuilder(min_samples=min_samples)


def test_trace_builder_takes_min_samples_by_keyword_only(impl, start):
    builder = impl.TraceBuilder(min_samples=2)
    builder.feed(impl.Sample(0, ["a"]))
    assert builder.feed(impl.Sample(1, ["a"])) == [start(0, "a", 0)]
    with pytest.raises(TypeError):
        impl.TraceBuilder(2)


def test_the_worked_example_of_the_spec(impl, start, end):
    b = impl.TraceBuilder(min_samples=1)
    assert b.feed(impl.Sample(0.0, ["main"], thread=1)) == [impl.Event("start", 0.0, "main", 0, 1)]
    assert b.feed(impl.Sample(0.5, ["main", "io"], thread=2)) == [
        start(0.5, "main", 0, 2),
        start(0.5, "io", 1, 2),
    ]
    assert b.feed(impl.Sample(0.25, ["main", "run"], thread=1)) == [start(0.25, "run", 1, 1)]
    with pytest.raises(ValueError):
        b.feed(impl.Sample(0.1, ["main"], thread=1))
    assert b.feed(impl.Sample(1.0, [], thread=2)) == [end(1.0, "io", 1, 2), end(1.0, "main", 0, 2)]
    with pytest.raises(ValueError):
        b.close(0.75)
    assert b.close(2.0) == [end(2.0, "run", 1, 1), end(2.0, "main", 0, 1)]
    with pytest.raises(RuntimeError):
        b.feed(impl.Sample(3.0, ["x"]))
    with pytest.raises(RuntimeError):
        b.close(3.0)


STACKS = [("main",), ("main", "work"), ("main", "work", "leaf"), ("main", "io", "read", "poll"), ()]


def test_memory_grows_with_open_frames_not_with_samples(impl, end):
    # Reference: +1 kB over the traced 100k samples, 1.0-1.3 s for the test
    # (tracemalloc slows every allocation down). A builder that keeps every
    # sample it was fed: +1 MB (the list of them alone); one that keeps its
    # events as well: more.
    builder = impl.TraceBuilder(min_samples=2)
    # Two threads, each changing stack every 25 of its samples. Built before
    # tracing, so that only what the builder allocates is measured.
    rows = [
        impl.Sample(i / 1024, STACKS[(i // 50 + i % 2) % len(STACKS)], i % 2)
        for i in range(120_000)
    ]
    for sample in rows[:20_000]:  # warm-up, untraced
        builder.feed(sample)
    produced = 0
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for sample in rows[20_000:]:
            produced += len(builder.feed(sample))
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert produced == 9_600, "each thread's stack changes every 25 of its samples"
    assert growth < 50 * 1024, (
        f"memory grew by {growth // 1024} kB over 100,000 samples of stacks at most 4 deep: "
        "a TraceBuilder must keep only the open frames, not the samples or the events"
    )
    last = rows[-1].ts
    assert builder.close(last) == [end(last, "main", 0, 1)], "thread 0 ended on an empty stack"


@pytest.mark.parametrize("table", example_params("stack_trace", 3))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
