"""Stage 4: a Chrome trace and per-function statistics (spec: stages/stack_trace/stage4.md)."""

from __future__ import annotations

import json

import pytest

from dojo.testing import check_raises, check_returns, example_params, short

pytestmark = pytest.mark.stage(4)


def build(impl, rows, close=None, min_samples=1):
    """Events of ``rows`` (``(ts, "stack words"[, thread])``) fed to a builder, then closed."""
    builder = impl.TraceBuilder(min_samples=min_samples)
    events = [
        e for row in rows for e in builder.feed(impl.Sample(row[0], row[1].split(), *row[2:]))
    ]
    return events + ([] if close is None else builder.close(close))


def validate_chrome_trace(trace: dict, events) -> dict[int, list[str]]:
    """The rules of the spec, checked on the JSON-loaded trace of ``events``;
    returns the names still open per tid."""
    call = f"to_chrome_trace({short(events)})"
    assert set(trace) == {"traceEvents", "displayTimeUnit"}, (
        f"{call} has the keys {sorted(trace)}; expected displayTimeUnit and traceEvents only"
    )
    assert trace["displayTimeUnit"] == "ms", f"{call}['displayTimeUnit'] is not 'ms'"
    entries = trace["traceEvents"]
    assert len(entries) == len(events), (
        f"{call} has {len(entries)} traceEvents for {len(events)} events: one entry per event"
    )
    open_frames: dict[int, list[str]] = {}
    for index, (entry, event) in enumerate(zip(entries, events, strict=True)):
        where = f"{call}['traceEvents'][{index}] is {entry!r} for {short(event)}"
        assert set(entry) == {"name", "ph", "ts", "pid", "tid"}, (
            f"{where}; expected exactly the keys name, ph, ts, pid, tid"
        )
        assert entry["ph"] == {"start": "B", "end": "E"}[event.kind], (
            f"{where}: ph is B for a start, E for an end, in the order of the events"
        )
        assert type(entry["ts"]) is int and entry["ts"] == round(event.ts * 1_000_000), (
            f"{where}: ts is round(ts * 1_000_000), an int"
        )
        assert (entry["pid"], entry["tid"], entry["name"]) == (1, event.thread, event.name), (
            f"{where}: pid is 1, tid the event's thread, name the event's name"
        )
        stack = open_frames.setdefault(entry["tid"], [])
        if entry["ph"] == "B":
            stack.append(entry["name"])
        else:
            assert stack and stack[-1] == entry["name"], (
                f"{where}: an E closes the innermost open B of its tid, open there: {stack}"
            )
            stack.pop()
    return open_frames


def test_a_chrome_trace_written_to_a_file_follows_the_format(impl, tmp_path):
    rows = [
        (0.0, "main parse", 1),
        (0.000_001_5, "main parse", 2),
        (0.25, "main eval eval", 1),
        (0.5, "main", 2),
        (0.75, "main eval", 1),
        (1.0, "", 2),
        (1.25, "idle", 3),
    ]
    events = impl.convert_to_trace([impl.Sample(ts, s.split(), t) for ts, s, t in rows])
    path = tmp_path / "trace.json"
    with path.open("w") as file:
        json.dump(impl.to_chrome_trace(events), file)
    trace = json.loads(path.read_text())
    still_open = validate_chrome_trace(trace, events)
    assert still_open == {1: ["main", "eval"], 2: [], 3: ["idle"]}, (
        f"the B entries left without an E, per tid, are {still_open}; expected "
        "{1: ['main', 'eval'], 2: [], 3: ['idle']}: a B without its E only for frames still "
        "open at the end"
    )
    stamps = [e["ts"] for e in trace["traceEvents"][:4]]
    assert stamps == [0, 0, 2, 2], (
        f"the first four ts of the trace are {stamps}; expected [0, 0, 2, 2]: 1.5 µs rounds to 2"
    )


@pytest.mark.parametrize("ts", [0.1, 1.000_000_4, 1.000_000_6, 123.456_789, 7], ids=repr)
def test_chrome_timestamps_are_rounded_integer_microseconds(impl, ts):
    entry = {"name": "a", "ph": "B", "ts": round(ts * 1_000_000), "pid": 1, "tid": 0}
    check_returns(
        {"traceEvents": [entry], "displayTimeUnit": "ms"},
        "ts is round(ts * 1_000_000), an int (not a float)",
        impl.to_chrome_trace,
        [impl.Event("start", ts, "a", 0)],
    )


def test_the_chrome_trace_of_no_events_is_empty(impl):
    trace = check_returns(
        {"traceEvents": [], "displayTimeUnit": "ms"},
        "no events, no entries, and nothing else",
        impl.to_chrome_trace,
        [],
    )
    assert json.loads(json.dumps(trace)) == trace, "json.dumps of the trace must work"


def test_function_stats_count_only_completed_frames(impl):
    check_returns(
        {"a": impl.FunctionStats(1, 2.0, 2.0)},
        "main, b and c never end: they count nowhere",
        impl.function_stats,
        build(impl, [(0, "main a"), (2, "main b"), (3, "main b c")]),
    )


def test_function_stats_of_no_events_is_empty(impl):
    check_returns({}, "function_stats([]) is {}", impl.function_stats, [])


def test_recursion_counts_every_call_but_inclusive_time_once(impl):
    check_returns(
        {"a": impl.FunctionStats(3, 10.0, 10.0)},
        "a -> a -> a is 3 calls; nested calls of a add nothing to a's total; self time "
        "is split among them: 2 + 1 + 2 + 5",
        impl.function_stats,
        build(impl, [(0, "a"), (2, "a a"), (3, "a a a"), (5, "a")], close=10),
    )


def test_recursive_calls_in_turn_add_nothing_to_the_total_of_the_call_around_them(impl):
    check_returns(
        {"a": impl.FunctionStats(3, 10.0, 10.0)},
        "a from 0 to 10 holds a from 1 to 2, then a from 3 to 5: a's total is 10, "
        "every nested call of a inside it adds nothing",
        impl.function_stats,
        build(impl, [(0, "a"), (1, "a a"), (2, "a"), (3, "a a"), (5, "a")], close=10),
    )


def test_self_time_excludes_the_direct_callees_only(impl):
    check_returns(
        {
            "main": impl.FunctionStats(1, 8.0, 4.0),
            "f": impl.FunctionStats(1, 4.0, 2.0),
            "g": impl.FunctionStats(1, 2.0, 2.0),
        },
        "main's self time is 8 minus f's 4 (g is f's callee, not main's)",
        impl.function_stats,
        build(impl, [(0, "main"), (1, "main f"), (2, "main f g"), (4, "main f"), (5, "main")], 8),
    )


def test_stats_add_up_over_threads_even_when_they_overlap(impl):
    rows = [(0, "work", 1), (0, "work", 2), (1, "work", 3), (4, "", 1), (4, "", 2), (5, "", 3)]
    check_returns(
        {"work": impl.FunctionStats(3, 12.0, 12.0)},
        "activations on different threads add up, even when they overlap in time",
        impl.function_stats,
        build(impl, rows),
    )


def test_a_completed_call_nested_in_one_that_never_ends_adds_its_time(impl):
    check_returns(
        {"a": impl.FunctionStats(1, 2.0, 2.0), "b": impl.FunctionStats(1, 2.0, 2.0)},
        "the outer a never ends: the inner a counts on its own",
        impl.function_stats,
        build(impl, [(0, "a"), (1, "a a"), (3, "a"), (4, "a b"), (6, "a")]),
    )


def test_function_stats_of_filtered_events_count_reported_frames_only(impl):
    rows = [(0, "a"), (1, "a x"), (2, "a"), (3, "a b"), (4, "a b"), (5, "a")]
    check_returns(
        {"a": impl.FunctionStats(1, 6.0, 4.0), "b": impl.FunctionStats(1, 2.0, 2.0)},
        "x was never reported: it is not a callee of a",
        impl.function_stats,
        build(impl, rows, close=6, min_samples=2),
    )


@pytest.mark.parametrize(
    "events",
    [
        [("end", 1, "a", 0)],
        [("start", 0, "a", 0), ("end", 1, "b", 0)],
        [("start", 0, "a", 0), ("start", 0, "b", 1), ("end", 1, "a", 0)],
        [("start", 0, "a", 1)],
    ],
    ids=["end-without-start", "other-name", "not-innermost", "start-too-deep"],
)
def test_function_stats_reject_events_that_do_not_nest(impl, events):
    good = [impl.Event("start", 0, "a", 0), impl.Event("end", 1, "a", 0)]
    check_returns({"a": impl.FunctionStats(1, 1.0, 1.0)}, "a nests", impl.function_stats, good)
    check_raises(
        ValueError,
        "an end must end the innermost open frame of its thread, a start must be at "
        "the thread's depth",
        impl.function_stats,
        [impl.Event(*event) for event in events],
    )


def test_format_stats_orders_rows_by_total_descending_then_name(impl):
    stats = {
        "b": impl.FunctionStats(1, 1.0, 1.0),
        "c": impl.FunctionStats(1, 2.5, 0.0),
        "a": impl.FunctionStats(12, 1.0, 0.25),
    }
    check_returns(
        "function     calls         total          self\n"
        "c                1      2.500000      0.000000\n"
        "a               12      1.000000      0.250000\n"
        "b                1      1.000000      1.000000",
        "rows by total descending, then name ascending",
        impl.format_stats,
        stats,
    )


def test_format_stats_widens_the_function_column_for_long_names(impl):
    check_returns(
        "function               calls         total          self\n"
        "a_rather_long_name         3      0.250000   1234.500000",
        "the function column is as wide as the longest name (18 here), no trailing spaces",
        impl.format_stats,
        {"a_rather_long_name": impl.FunctionStats(3, 0.25, 1234.5)},
    )


def test_format_stats_of_no_stats_is_the_header_line(impl):
    check_returns(
        "function     calls         total          self",
        "format_stats({}) is the header line alone",
        impl.format_stats,
        {},
    )


@pytest.mark.parametrize("table", example_params("stack_trace", 4))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
