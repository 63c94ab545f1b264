"""Stage 1: from stack samples to trace events (spec: stages/stack_trace/stage1.md)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from dojo.testing import check_raises, check_returns, example_params, render_call

pytestmark = pytest.mark.stage(1)


def test_every_frame_of_the_first_sample_starts_outermost_first(impl, samples, start):
    check_returns(
        [start(0.5, "main", 0), start(0.5, "parse", 1), start(0.5, "eval", 2)],
        "each frame of the first sample starts at its ts, depth 0 first",
        impl.convert_to_trace,
        samples((0.5, "main parse eval")),
    )


def test_an_empty_input_gives_an_empty_list(impl):
    check_returns([], "an empty input gives []", impl.convert_to_trace, [])


def test_the_result_is_a_list_of_events(impl, samples):
    rows = samples((0, "a"))
    events = impl.convert_to_trace(rows)
    call = render_call(impl.convert_to_trace, rows)
    assert type(events) is list, f"{call} returned a {type(events).__name__}; expected a list"
    assert [type(event) for event in events] == [impl.Event], (
        f"{call} returned {events!r}; expected one Event (the Event class of the module)"
    )
    got = (events[0].kind, events[0].ts, events[0].name, events[0].depth)
    assert got == ("start", 0, "a", 0), f"{call} returned {events!r}; expected a start of a at 0"


def test_identical_successive_stacks_emit_nothing(impl, samples, start):
    check_returns(
        [start(0, "a", 0), start(0, "b", 1)],
        "an unchanged stack ends and starts nothing",
        impl.convert_to_trace,
        samples((0, "a b"), (1, "a b"), (2, "a b")),
    )


def test_frames_still_open_at_the_last_sample_get_no_end_event(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), start(1, "b", 1), end(2, "b", 1)],
        "b ends at the first sample without it; a is still open and gets no end",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a b"), (2, "a")),
    )


def test_recursion_is_one_frame_per_depth(impl, samples, start, end):
    check_returns(
        [start(0, "a", 0), start(1, "a", 1), start(1, "a", 2), end(2, "a", 2), end(2, "a", 1)],
        "a recursive call is a distinct frame at each depth",
        impl.convert_to_trace,
        samples((0, "a"), (1, "a a a"), (2, "a")),
    )


def test_a_diverging_prefix_ends_and_restarts_every_deeper_frame(impl, samples, start, end):
    check_returns(
        [
            start(0, "a", 0),
            start(0, "b", 1),
            end(1, "b", 1),
            end(1, "a", 0),
            start(1, "c", 0),
            start(1, "b", 1),
        ],
        "b under c is a new call: frames are the same only if the whole prefix agrees",
        impl.convert_to_trace,
        samples((0, "a b"), (1, "c b")),
    )


def test_only_the_frames_below_the_common_prefix_change(impl, samples, start, end):
    check_returns(
        [
            start(0, "main", 0),
            start(0, "a", 1),
            start(0, "x", 2),
            end(1, "x", 2),
            end(1, "a", 1),
            start(1, "b", 1),
            start(1, "x", 2),
        ],
        "main goes on; a and the x under it end; b and a new x start",
        impl.convert_to_trace,
        samples((0, "main a x"), (1, "main b x")),
    )


def test_ends_come_deepest_first_then_starts_outermost_first(impl, samples, start, end):
    first = [start(0, "a", 0), start(0, "b", 1), start(0, "c", 2), start(0, "d", 3)]
    check_returns(
        [
            *first,
            end(1, "d", 3),
            end(1, "c", 2),
            start(1, "x", 2),
            start(1, "y", 3),
            start(1, "z", 4),
        ],
        "within one sample, ends deepest first, then starts outermost first",
        impl.convert_to_trace,
        samples((0, "a b c d"), (1, "a b x y z")),
    )


def test_an_empty_stack_ends_every_frame_and_the_next_stack_starts_again(impl, samples, start, end):
    check_returns(
        [
            start(0, "a", 0),
            start(0, "b", 1),
            end(1, "b", 1),
            end(1, "a", 0),
            start(2, "a", 0),
            start(2, "b", 1),
        ],
        "an empty stack ends every frame; the next stack starts all its frames again",
        impl.convert_to_trace,
        samples((0, "a b"), (1, ""), (2, "a b")),
    )


def test_empty_stacks_first_or_in_a_row_emit_nothing(impl, samples, start, end):
    check_returns(
        [start(2, "a", 0), end(3, "a", 0)],
        "an empty stack first, or several in a row, emit nothing",
        impl.convert_to_trace,
        samples((0, ""), (1, ""), (2, "a"), (3, ""), (4, "")),
    )


def test_equal_timestamps_keep_input_order(impl, samples, start, end):
    check_returns(
        [
            start(1, "a", 0),
            end(1, "a", 0),
            start(1, "b", 0),
            start(1, "c", 1),
            end(1, "c", 1),
            end(1, "b", 0),
        ],
        "samples with equal ts are fine and taken in input order",
        impl.convert_to_trace,
        samples((1, "a"), (1, "b"), (1, "b c"), (1, "")),
    )


@pytest.mark.parametrize(
    ("timestamps", "index"), [([5, 4], 1), ([10, 20, 20, 15, 25], 3), ([0.5, 0.5, 0.25], 2)]
)
def test_a_decreasing_timestamp_raises_value_error_naming_its_index(
    impl, samples, timestamps, index
):
    rows = samples(*[(ts, "a") for ts in timestamps])
    error = check_raises(
        ValueError, "timestamps must be non-decreasing", impl.convert_to_trace, rows
    )
    assert re.search(rf"(?<![\w.-]){index}(?!\w|\.\d)", str(error)), (
        f"{render_call(impl.convert_to_trace, rows)} raised ValueError({str(error)!r}); the "
        f"message must name the 0-based index {index} of the sample going back in time"
    )


def test_samples_may_be_any_iterable(impl, samples, start, end):
    rows = samples((0, "a"), (1, "b"))
    expected = [start(0, "a", 0), end(1, "a", 0), start(1, "b", 0)]
    check_returns(expected, "a list of samples", impl.convert_to_trace, rows)
    events = impl.convert_to_trace(sample for sample in rows)
    assert events == expected, (
        f"convert_to_trace(a generator of {rows!r}) returned {events!r}; expected {expected!r} "
        "(samples is any iterable, read once)"
    )
    check_returns(expected, "samples is any iterable", impl.convert_to_trace, tuple(rows))


def test_a_stack_given_as_a_list_works_like_a_tuple(impl, start):
    listed = impl.Sample(0, ["a", "b"])
    check_returns(
        [start(0, "a", 0), start(0, "b", 1)],
        "the same stack as a list or as a tuple is the same stack",
        impl.convert_to_trace,
        [listed, impl.Sample(1, ("a", "b"))],
    )
    assert type(listed.stack) is tuple and listed == impl.Sample(0, ("a", "b")), (
        f"Sample(0, ['a', 'b']).stack is {listed.stack!r}; expected ('a', 'b'): a list is "
        "stored as a tuple"
    )


@pytest.mark.parametrize(
    ("what", "field"),
    [("sample", "ts"), ("sample", "stack"), ("event", "kind"), ("event", "ts"), ("event", "depth")],
)
def test_samples_and_events_are_frozen(impl, start, what, field):
    sample = impl.Sample(0, ["a"])
    (event,) = check_returns(
        [start(0, "a", 0)], "one sample, one frame", impl.convert_to_trace, [sample]
    )
    target = {"sample": sample, "event": event}[what]
    with pytest.raises(AttributeError):
        setattr(target, field, getattr(target, field))
        pytest.fail(
            f"{what}.{field} = {getattr(target, field)!r} on {target!r} raised nothing: "
            f"a {type(target).__name__} is a frozen dataclass, as the starter gives it"
        )
    assert hash(target) == hash(type(target)(*dataclasses.astuple(target))), (
        f"hash({target!r}) differs from the hash of an equal {type(target).__name__}"
    )


def test_events_carry_the_sample_timestamp_unchanged(impl, samples, start, end):
    rows = samples((3, "a"), (4.75, ""))
    events = check_returns(
        [start(3, "a", 0), end(4.75, "a", 0)],
        "events carry the ts of their sample",
        impl.convert_to_trace,
        rows,
    )
    assert [type(event.ts) for event in events] == [int, float], (
        f"{render_call(impl.convert_to_trace, rows)}: the ts types are "
        f"{[type(e.ts).__name__ for e in events]}; expected [int, float] (ts is carried unchanged)"
    )


@pytest.mark.parametrize("table", example_params("stack_trace", 1))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
