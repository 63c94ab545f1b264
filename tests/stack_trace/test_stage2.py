"""Stage 2: a noise filter, min_samples (spec: stages/stack_trace/stage2.md)."""

from __future__ import annotations

import re

import pytest

from dojo.testing import check_raises, check_returns, example_params, render_call

pytestmark = pytest.mark.stage(2)


def test_min_samples_one_reports_every_frame_as_in_round_one(impl, samples):
    rows = samples((0, "a b"), (1, "c b"), (2, "c"), (3, ""))
    check_returns(
        impl.convert_to_trace(rows),
        "min_samples=1 reports every frame: exactly round 1",
        impl.convert_to_trace,
        rows,
        min_samples=1,
    )


def test_a_frame_seen_in_exactly_min_samples_samples_is_reported(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), end(3, "a", 0)],
        "a frame seen in exactly min_samples consecutive samples is reported",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a"), (2, "a"), (3, "")),
        min_samples=3,
    )


def test_a_frame_seen_in_one_sample_fewer_produces_no_event(impl, samples):
    check_returns(
        [],
        "a frame seen in min_samples - 1 samples has neither a start nor an end",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a"), (2, ""), (3, "b"), (4, "b")),
        min_samples=3,
    )


def test_the_start_has_the_first_timestamp_and_comes_when_the_count_is_reached(
    impl, samples, start, end
):
    rows = samples((0, "a"), (1, "a b"), (2, "a b"), (3, "a b"), (4, "a"))
    check_returns(
        [start(0, "a", 0), start(1, "b", 1), end(4, "b", 1)],
        "a's start is produced by sample 2 with ts 0, b's by sample 3 with ts 1",
        impl.convert_to_trace,
        rows,
        min_samples=3,
    )
    check_returns(
        [start(0, "a", 0)],
        "b has 2 samples after sample 2: not yet reported",
        impl.convert_to_trace,
        rows[:3],
        min_samples=3,
    )


def test_a_frame_reaching_min_samples_in_the_last_sample_starts_without_an_end(
    impl, samples, start
):
    check_returns(
        [start(1, "a", 0)],
        "a reaches 2 samples in the last sample: its start, and no end",
        impl.convert_to_trace,
        samples((0, "x"), (1, "a"), (2, "a")),
        min_samples=2,
    )


def test_a_frame_open_at_the_end_short_of_min_samples_is_not_reported(impl, samples, start):
    check_returns(
        [start(0, "a", 0)],
        "b would reach 3 with one more sample: it is not reported",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a b"), (2, "a b")),
        min_samples=3,
    )


def test_a_broken_run_starts_counting_again(impl, samples, start, end):
    check_returns(
        [start(2, "a", 0), end(4, "a", 0)],
        "the first a (one sample) is another call; the second is reported from ts 2",
        impl.convert_to_trace,
        samples((0, "a"), (1, "b"), (2, "a"), (3, "a"), (4, "")),
        min_samples=2,
    )


def test_an_empty_stack_breaks_every_run(impl, samples):
    check_returns(
        [],
        "an empty stack ends every call: a and b come back as new calls of one sample",
        impl.convert_to_trace,
        samples((0, "a b"), (1, ""), (2, "a b")),
        min_samples=2,
    )


def test_recursive_frames_count_their_own_runs(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), start(1, "a", 1), end(4, "a", 1)],
        "each depth of a recursion has its own count: the innermost a (one sample) is not reported",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a a"), (2, "a a"), (3, "a a a"), (4, "a")),
        min_samples=2,
    )


def test_a_diverging_prefix_breaks_the_runs_of_every_deeper_frame(impl, samples, start):
    check_returns(
        [start(1, "c", 0), start(1, "b", 1)],
        "b under c is a new call, counted from sample 1",
        impl.convert_to_trace,
        samples((0, "a b"), (1, "c b"), (2, "c b")),
        min_samples=2,
    )


def test_starts_reached_in_one_sample_come_outermost_first(impl, samples, start):
    check_returns(
        [start(0, "a", 0), start(0, "b", 1), start(0, "c", 2)],
        "starts produced by one sample come outermost first",
        impl.convert_to_trace,
        samples((0, "a b c"), (1, "a b c")),
        min_samples=2,
    )


def test_starts_appear_in_the_order_of_their_producing_samples(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), start(2, "c", 1)],
        "b (2 samples) is not reported; c starts at its first sample's ts, produced by "
        "the last sample",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a b"), (2, "a b"), (2, "a c"), (2, "a c"), (3, "a c")),
        min_samples=3,
    )


def test_an_end_follows_the_start_its_sample_produced_earlier(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), start(1, "b", 1), end(1, "b", 1)],
        "events in the order of the samples that produce them",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a b"), (1, "a b"), (1, "a")),
        min_samples=2,
    )


def test_flickering_frames_under_a_reported_frame_change_nothing(impl, samples, start):
    check_returns(
        [start(0, "a", 0)],
        "unreported frames are invisible: they never end or start anything",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a x"), (2, "a y"), (3, "a x"), (4, "a")),
        min_samples=2,
    )


class Unread:
    """An iterable that fails the test if anyone reads it."""

    def __repr__(self) -> str:
        return "<samples that must not be read>"

    def __iter__(self):
        pytest.fail("min_samples must be checked before any sample is read")


@pytest.mark.parametrize(
    ("min_samples", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (1.0, TypeError),
        (1.5, TypeError),
        ("2", TypeError),
        (None, TypeError),
        (True, TypeError),
        (False, TypeError),
    ],
    ids=repr,
)
def test_an_invalid_min_samples_raises_before_reading_the_samples(
    impl, samples, start, min_samples, error
):
    rule = "min_samples: TypeError if not an int (bool included), ValueError if below 1"
    check_returns(
        [start(0, "a", 0)],
        "a valid call works",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a")),
        min_samples=2,
    )
    check_raises(error, rule, impl.convert_to_trace, Unread(), min_samples=min_samples)
    raised = check_raises(error, rule, impl.convert_to_trace, [], min_samples=min_samples)
    assert "min_samples" in str(raised), (
        f"{render_call(impl.convert_to_trace, [], min_samples=min_samples)} raised "
        f"{error.__name__}({str(raised)!r}); the message must name min_samples"
    )


def test_min_samples_is_keyword_only(impl, samples, start):
    rows = samples((0, "a"), (1, "a"))
    check_returns(
        [start(0, "a", 0)], "a valid call works", impl.convert_to_trace, rows, min_samples=2
    )
    check_raises(TypeError, "min_samples is keyword-only", impl.convert_to_trace, rows, 2)


def test_a_decreasing_timestamp_still_raises_with_its_index(impl, samples):
    rows = samples((0, "a"), (5, "a"), (3, "a"))
    error = check_raises(
        ValueError,
        "timestamps must be non-decreasing, whatever min_samples",
        impl.convert_to_trace,
        rows,
        min_samples=5,
    )
    assert re.search(r"(?<![\w.-])2(?!\w|\.\d)", str(error)), (
        f"{render_call(impl.convert_to_trace, rows, min_samples=5)} raised "
        f"ValueError({str(error)!r}); the message must name the 0-based index 2"
    )


@pytest.mark.parametrize("table", example_params("stack_trace", 2))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
