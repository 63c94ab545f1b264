"""Stage 3: streaming and threads (spec: stages/stack_trace/stage3.md)."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from dojo.testing import check_raises, check_returns, example_params, render_call

pytestmark = pytest.mark.stage(3)


def test_sample_and_event_take_a_thread_that_defaults_to_zero(impl):
    sample = impl.Sample(0, ["a"])
    assert sample.thread == 0, f"Sample(0, ['a']).thread is {sample.thread!r}; expected 0"
    assert impl.Sample(0, ["a"], thread=3) == impl.Sample(0, ("a",), 3), (
        "Sample(0, ['a'], thread=3) != Sample(0, ('a',), 3): thread is the third field"
    )
    event = impl.Event("start", 1, "b", 0)
    assert event.thread == 0, f"Event('start', 1, 'b', 0).thread is {event.thread!r}; expected 0"
    check_returns(
        [impl.Event("start", 0, "a", 0, 3), impl.Event("start", 1, "b", 0, 0)],
        "events carry their frame's thread; a sample without one is on thread 0",
        impl.convert_to_trace,
        [impl.Sample(0, ["a"], thread=3), impl.Sample(1, ["b"])],
    )


def test_threads_have_their_own_stacks(impl, samples, start, end):
    check_returns(
        [
            start(0, "a", 0, 1),
            start(0, "b", 1, 1),
            start(1, "c", 0, 2),
            end(3, "c", 0, 2),
            end(4, "b", 1, 1),
        ],
        "a sample of thread 2 neither ends nor continues anything of thread 1",
        impl.convert_to_trace,
        samples((0, "a b", 1), (1, "c", 2), (2, "a b", 1), (3, "", 2), (4, "a", 1)),
    )


def test_events_of_different_threads_keep_input_sample_order(impl, samples, start, end):
    check_returns(
        [start(5, "a", 0, 2), start(5, "a", 0, 1), end(6, "a", 0, 2), end(6, "a", 0, 1)],
        "events of different threads come in the order of their samples, not by thread",
        impl.convert_to_trace,
        samples((5, "a", 2), (5, "a", 1), (6, "", 2), (6, "", 1)),
    )


def test_min_samples_counts_the_samples_of_the_frames_own_thread(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0, 1), end(4, "a", 0, 1)],
        "samples of thread 2 between do not break thread 1's run, and x and y have one each",
        impl.convert_to_trace,
        samples((0, "a", 1), (1, "x", 2), (2, "a", 1), (3, "y", 2), (4, "", 1)),
        min_samples=2,
    )


def test_timestamps_may_decrease_across_threads_but_not_within_one(impl, samples, start):
    rows = samples((10, "a", 1), (5, "b", 2), (10, "a", 1), (7, "b", 2))
    check_returns(
        [start(10, "a", 0, 1), start(5, "b", 0, 2)],
        "a sample earlier than one of another thread is fine",
        impl.convert_to_trace,
        rows,
    )
    rows += samples((9, "a", 1))
    error = check_raises(
        ValueError,
        "9 is earlier than thread 1's previous sample at 10",
        impl.convert_to_trace,
        rows,
    )
    assert re.search(r"(?<![\w.-])4(?!\w|\.\d)", str(error)), (
        f"{render_call(impl.convert_to_trace, rows)} raised ValueError({str(error)!r}); the "
        "message must name the 0-based index 4"
    )


def test_convert_to_trace_gives_no_end_for_frames_open_on_any_thread(impl, samples, start):
    check_returns(
        [start(0, "a", 0, 0), start(0, "b", 0, 1)],
        "convert_to_trace never closes: frames open at the end get no end event",
        impl.convert_to_trace,
        samples((0, "a", 0), (0, "b", 1), (1, "a", 0)),
    )


def test_feed_returns_the_events_each_sample_produces(impl, samples, start, end):
    builder = impl.TraceBuilder()
    first, same, other = samples((0, "a b"), (1, "a b"), (2, "c"))
    check_returns(
        [start(0, "a", 0), start(0, "b", 1)], "the first sample starts", builder.feed, first
    )
    check_returns([], "feed returns [] when the sample produces nothing", builder.feed, same)
    check_returns(
        [end(2, "b", 1), end(2, "a", 0), start(2, "c", 0)],
        "ends deepest first, then starts",
        builder.feed,
        other,
    )


@pytest.mark.parametrize("min_samples", [1, 2])
def test_feeding_every_sample_gives_convert_to_trace(impl, samples, min_samples):
    rows = samples((0, "a b", 1), (1, "a", 2), (1, "a c", 1), (2, "a c", 1), (2, "", 2))
    builder = impl.TraceBuilder(min_samples=min_samples)
    fed = [event for sample in rows for event in builder.feed(sample)]
    check_returns(
        fed,
        f"the concatenated results of TraceBuilder(min_samples={min_samples}).feed over "
        "the samples",
        impl.convert_to_trace,
        rows,
        min_samples=min_samples,
    )


def test_close_ends_open_frames_by_ascending_thread_deepest_first(impl, samples, end):
    builder = impl.TraceBuilder()
    for sample in samples((0, "a b", 5), (1, "c", 2), (2, "d e f", 9), (3, "", 7)):
        builder.feed(sample)
    check_returns(
        [
            end(4, "c", 0, 2),
            end(4, "b", 1, 5),
            end(4, "a", 0, 5),
            end(4, "f", 2, 9),
            end(4, "e", 1, 9),
            end(4, "d", 0, 9),
        ],
        "close ends threads in ascending id, within a thread deepest first",
        builder.close,
        4,
    )


def test_close_ends_only_frames_that_reached_min_samples(impl, start, end):
    builder = impl.TraceBuilder(min_samples=2)
    check_returns([], "a seen once", builder.feed, impl.Sample(0, ["a"]))
    check_returns([start(0, "a", 0)], "a reaches 2", builder.feed, impl.Sample(1, ["a", "b"]))
    check_returns([end(5, "a", 0)], "b was never reported: no end", builder.close, 5)


def test_close_of_a_builder_fed_nothing_returns_an_empty_list(impl):
    check_returns([], "nothing was fed", impl.TraceBuilder().close, 0)


def test_close_at_the_greatest_timestamp_fed_is_allowed(impl, samples, end):
    builder = impl.TraceBuilder()
    for sample in samples((0, "a"), (3, "a")):
        builder.feed(sample)
    check_returns([end(3, "a", 0)], "ts equal to the last one fed is fine", builder.close, 3)


def test_close_earlier_than_a_sample_fed_raises_and_leaves_the_builder_open(impl, start, end):
    builder = impl.TraceBuilder()
    builder.feed(impl.Sample(2, ["a"]))
    rule = "close(ts) needs ts at least the greatest ts fed, on any thread"
    check_raises(ValueError, rule, builder.close, 1)
    check_returns(
        [start(3, "b", 1)],
        "a rejected close leaves the builder open and unchanged",
        builder.feed,
        impl.Sample(3, ["a", "b"]),
    )
    check_returns([start(0, "x", 0, 1)], "another thread", builder.feed, impl.Sample(0, ["x"], 1))
    check_raises(ValueError, rule + ": one was fed at 3", builder.close, 2.5)
    check_returns(
        [end(3, "b", 1), end(3, "a", 0), end(3, "x", 0, 1)],
        "a rejected close leaves the builder open and unchanged",
        builder.close,
        3,
    )


@pytest.mark.parametrize("call", ["feed", "close", "close earlier"])
def test_feed_or_close_after_close_raises_runtime_error(impl, end, call):
    builder = impl.TraceBuilder()
    builder.feed(impl.Sample(1, ["a"]))
    check_returns([end(2, "a", 0)], "the first close ends a", builder.close, 2)
    rule = "after a successful close, feed and close raise RuntimeError, checked first"
    if call == "feed":
        check_raises(RuntimeError, rule, builder.feed, impl.Sample(3, ["a"]))
    else:
        check_raises(RuntimeError, rule, builder.close, 3 if call == "close" else 0)


def test_a_rejected_sample_leaves_the_builder_unchanged(impl, start, end):
    builder = impl.TraceBuilder(min_samples=2)
    builder.feed(impl.Sample(0, ["a"]))
    rule = "a sample earlier than its thread's previous one raises ValueError"
    check_raises(ValueError, rule, builder.feed, impl.Sample(-1, ["b"]))
    check_returns(
        [start(0, "a", 0)],
        "the rejected sample neither broke a's run nor moved the thread's time",
        builder.feed,
        impl.Sample(0, ["a"]),
    )
    check_raises(ValueError, rule, builder.feed, impl.Sample(-1, []))
    check_returns([end(0, "a", 0)], "the rejected sample did not move the time", builder.close, 0)


@pytest.mark.parametrize(
    ("min_samples", "error"),
    [(0, ValueError), (-3, ValueError), (2.0, TypeError), ("1", TypeError), (True, TypeError)],
    ids=repr,
)
def test_trace_builder_checks_min_samples_like_convert_to_trace(impl, min_samples, error):
    raised = check_raises(
        error,
        "min_samples: TypeError if not an int (bool included), ValueError if below 1",
        impl.TraceBuilder,
        min_samples=min_samples,
    )
    assert "min_samples" in str(raised), (
        f"TraceBuilder(min_samples={min_samples!r}) raised {error.__name__}({str(raised)!r}); "
        "the message must name min_samples"
    )


def test_trace_builder_takes_min_samples_by_keyword_only(impl, start):
    builder = impl.TraceBuilder(min_samples=2)
    builder.feed(impl.Sample(0, ["a"]))
    check_returns([start(0, "a", 0)], "min_samples=2 works", builder.feed, impl.Sample(1, ["a"]))
    check_raises(TypeError, "min_samples is keyword-only", impl.TraceBuilder, 2)


STACKS = [("main",), ("main", "work"), ("main", "work", "leaf"), ("main", "io", "read", "poll"), ()]


@pytest.mark.perf(
    workload="a TraceBuilder(min_samples=2) fed 5,000 samples untraced, then 50,000 under "
    "tracemalloc (2 threads, stacks at most 4 deep, each changing every 25 samples of its "
    "thread); its memory may grow by at most 50 kB",
    reference="grows by 0.2 kB; the test takes 0.5-0.8 s on 2 loaded cores (tracemalloc slows "
    "every allocation)",
    naive="a builder that keeps every sample fed grows by 434 kB, one that keeps its events "
    "too by 1,014 kB, one that copies every stack by 7,231 kB",
)
def test_memory_grows_with_open_frames_not_with_samples(impl, end):
    builder = impl.TraceBuilder(min_samples=2)
    # Built before tracing, so that only what the builder allocates is measured.
    # Each thread's stack changes every 25 of its samples; the samples of one
    # such run share their ts, so one Sample object serves the whole run.
    runs = [
        [impl.Sample(run, STACKS[(run + thread) % len(STACKS)], thread) for thread in (0, 1)]
        for run in range(55_000 // 50)
    ]
    rows = [runs[i // 50][i % 2] for i in range(55_000)]
    for sample in rows[:5_000]:  # warm-up, untraced
        builder.feed(sample)
    produced = 0
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for sample in rows[5_000:]:
            produced += len(builder.feed(sample))
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert produced == 4_800, (
        f"TraceBuilder(min_samples=2).feed of samples 5,000 to 54,999 produced {produced} "
        "events; expected 4,800 (each thread's stack changes every 25 of its samples)"
    )
    assert growth < 50 * 1024, (
        f"memory grew by {growth // 1024} kB while TraceBuilder.feed took 50,000 samples of "
        "stacks at most 4 deep; expected under 50 kB: a TraceBuilder keeps only the open "
        "frames, not the samples or the events (O(open frames))"
    )
    last = rows[-1].ts
    check_returns(
        [end(last, "main", 0, 1)],
        "thread 0 ended on an empty stack; thread 1 is in main",
        builder.close,
        last,
    )


@pytest.mark.parametrize("table", example_params("stack_trace", 3))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
