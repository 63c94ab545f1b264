"""Stage 1: from stack samples to trace events (spec: stages/stack_trace/stage1.md)."""

from __future__ import annotations

import re

import pytest

from dojo.testing import example_params

pytestmark = pytest.mark.stage(1)


def test_every_frame_of_the_first_sample_starts_outermost_first(impl, samples, start):
    events = impl.convert_to_trace(samples((0.5, "main parse eval")))
    assert events == [start(0.5, "main", 0), start(0.5, "parse", 1), start(0.5, "eval", 2)], (
        "each frame of the first sample starts at its ts, depth 0 first"
    )


def test_an_empty_input_gives_an_empty_list(impl):
    assert impl.convert_to_trace([]) == []


def test_the_result_is_a_list_of_events(impl, samples):
    events = impl.convert_to_trace(samples((0, "a")))
    assert type(events) is list
    assert all(type(event) is impl.Event for event in events)
    assert (events[0].kind, events[0].ts, events[0].name, events[0].depth) == ("start", 0, "a", 0)


def test_identical_successive_stacks_emit_nothing(impl, samples, start):
    events = impl.convert_to_trace(samples((0, "a b"), (1, "a b"), (2, "a b")))
    assert events == [start(0, "a", 0), start(0, "b", 1)], "an unchanged stack ends nothing"


def test_frames_still_open_at_the_last_sample_get_no_end_event(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "a"), (1, "a b"), (2, "a")))
    assert events == [start(0, "a", 0), start(1, "b", 1), end(2, "b", 1)], (
        "b ends at the first sample without it; a is still open and gets no end"
    )


def test_recursion_is_one_frame_per_depth(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "a"), (1, "a a a"), (2, "a")))
    assert events == [
        start(0, "a", 0),
        start(1, "a", 1),
        start(1, "a", 2),
        end(2, "a", 2),
        end(2, "a", 1),
    ], "a recursive call is a distinct frame at each depth"


def test_a_diverging_prefix_ends_and_restarts_every_deeper_frame(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "a b"), (1, "c b")))
    assert events == [
        start(0, "a", 0),
        start(0, "b", 1),
        end(1, "b", 1),
        end(1, "a", 0),
        start(1, "c", 0),
        start(1, "b", 1),
    ], "b under c is a new call: frames are the same only if the whole prefix agrees"


def test_only_the_frames_below_the_common_prefix_change(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "main a x"), (1, "main b x")))
    assert events[3:] == [end(1, "x", 2), end(1, "a", 1), start(1, "b", 1), start(1, "x", 2)], (
        "main goes on; a and the x under it end; b and a new x start"
    )


def test_ends_come_deepest_first_then_starts_outermost_first(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "a b c d"), (1, "a b x y z")))
    assert events[4:] == [
        end(1, "d", 3),
        end(1, "c", 2),
        start(1, "x", 2),
        start(1, "y", 3),
        start(1, "z", 4),
    ]


def test_an_empty_stack_ends_every_frame_and_the_next_stack_starts_again(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, "a b"), (1, ""), (2, "a b")))
    assert events == [
        start(0, "a", 0),
        start(0, "b", 1),
        end(1, "b", 1),
        end(1, "a", 0),
        start(2, "a", 0),
        start(2, "b", 1),
    ]


def test_empty_stacks_first_or_in_a_row_emit_nothing(impl, samples, start, end):
    events = impl.convert_to_trace(samples((0, ""), (1, ""), (2, "a"), (3, ""), (4, "")))
    assert events == [start(2, "a", 0), end(3, "a", 0)]


def test_equal_timestamps_keep_input_order(impl, samples, start, end):
    events = impl.convert_to_trace(samples((1, "a"), (1, "b"), (1, "b c"), (1, "")))
    assert events == [
        start(1, "a", 0),
        end(1, "a", 0),
        start(1, "b", 0),
        start(1, "c", 1),
        end(1, "c", 1),
        end(1, "b", 0),
    ], "samples with equal ts are taken in input order"


@pytest.mark.parametrize(
    ("timestamps", "index"), [([5, 4], 1), ([10, 20, 20, 15, 25], 3), ([0.5, 0.5, 0.25], 2)]
)
def test_a_decreasing_timestamp_raises_value_error_naming_its_index(
    impl, samples, timestamps, index
):
    with pytest.raises(ValueError) as excinfo:
        impl.convert_to_trace(samples(*[(ts, "a") for ts in timestamps]))
    assert re.search(rf"\b{index}\b", str(excinfo.value)), (
        f"the message must name the 0-based index {index} of the offending sample"
    )


def test_samples_may_be_any_iterable(impl, samples, start, end):
    rows = samples((0, "a"), (1, "b"))
    events = impl.convert_to_trace(sample for sample in rows)
    assert events == [start(0, "a", 0), end(1, "a", 0), start(1, "b", 0)]
    assert impl.convert_to_trace(tuple(rows)) == events


def test_a_stack_given_as_a_list_works_like_a_tuple(impl, start):
    listed = impl.Sample(0, ["a", "b"])
    assert listed.stack == ("a", "b") and listed == impl.Sample(0, ("a", "b"))
    events = impl.convert_to_trace([listed, impl.Sample(1, ("a", "b"))])
    assert events == [start(0, "a", 0), start(0, "b", 1)], "the same stack as a list or a tuple"


def test_events_carry_the_sample_timestamp_unchanged(impl, samples, start, end):
    events = impl.convert_to_trace(samples((3, "a"), (4.75, "")))
    assert events == [start(3, "a", 0), end(4.75, "a", 0)]
    assert [type(event.ts) for event in events] == [int, float]


@pytest.mark.parametrize("table", example_params("stack_trace", 1))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
