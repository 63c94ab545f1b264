"""Stage 4: a Chrome trace and per-function statistics (spec: stages/stack_trace/stage4.md)."""

from __future__ import annotations

import json

import pytest

from dojo.testing import example_params

pytestmark = pytest.mark.stage(4)


def build(impl, rows, close=None, min_samples=1):
    """Events of ``rows`` (``(ts, "stack words"[, thread])``) fed to a builder, then closed."""
    builder = impl.TraceBuilder(min_samples=min_samples)
    events = [
        e for row in rows for e in builder.feed(impl.Sample(row[0], row[1].split(), *row[2:]))
    ]
    return events + ([] if close is None else builder.close(close))


SPEC_ROWS = [(0, "main"), (1, "main parse"), (3, "main eval eval"), (4, "main")]


def validate_chrome_trace(trace: dict, events) -> None:
    """The rules of the spec, checked on the JSON-loaded trace of ``events``."""
    assert set(trace) == {"traceEvents", "displayTimeUnit"}
    assert trace["displayTimeUnit"] == "ms"
    entries = trace["traceEvents"]
    assert len(entries) == len(events), "one entry per event"
    open_frames: dict[int, list[str]] = {}
    for entry, event in zip(entries, events, strict=True):
        assert set(entry) == {"name", "ph", "ts", "pid", "tid"}, entry
        assert entry["ph"] == {"start": "B", "end": "E"}[event.kind], "in the order given"
        assert type(entry["ts"]) is int and entry["ts"] == round(event.ts * 1_000_000)
        assert (entry["pid"], entry["tid"], entry["name"]) == (1, event.thread, event.name)
        stack = open_frames.setdefault(entry["tid"], [])
        if entry["ph"] == "B":
            stack.append(entry["name"])
        else:
            assert stack and stack[-1] == entry["name"], "E closes the innermost open B"
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
        "a B without its E only for frames still open at the end"
    )
    assert [e["ts"] for e in trace["traceEvents"][:4]] == [0, 0, 2, 2], "round(1.5) is 2"


def test_the_chrome_trace_of_the_spec_example(impl):
    trace = impl.to_chrome_trace(build(impl, SPEC_ROWS, close=6))
    assert trace["displayTimeUnit"] == "ms"
    assert trace["traceEvents"][:3] == [
        {"name": "main", "ph": "B", "ts": 0, "pid": 1, "tid": 0},
        {"name": "parse", "ph": "B", "ts": 1_000_000, "pid": 1, "tid": 0},
        {"name": "parse", "ph": "E", "ts": 3_000_000, "pid": 1, "tid": 0},
    ]
    assert [(e["ph"], e["name"]) for e in trace["traceEvents"][3:]] == [
        ("B", "eval"),
        ("B", "eval"),
        ("E", "eval"),
        ("E", "eval"),
        ("E", "main"),
    ]


@pytest.mark.parametrize("ts", [0.1, 1.000_000_4, 1.000_000_6, 123.456_789, 7], ids=repr)
def test_chrome_timestamps_are_rounded_integer_microseconds(impl, ts):
    (entry,) = impl.to_chrome_trace([impl.Event("start", ts, "a", 0)])["traceEvents"]
    assert entry["ts"] == round(ts * 1_000_000) and type(entry["ts"]) is int


def test_the_chrome_trace_of_no_events_is_empty(impl):
    assert impl.to_chrome_trace([]) == {"traceEvents": [], "displayTimeUnit": "ms"}
    assert json.loads(json.dumps(impl.to_chrome_trace([]))) == impl.to_chrome_trace([])


def test_function_stats_of_the_spec_example(impl):
    stats = impl.function_stats(build(impl, SPEC_ROWS, close=6))
    assert stats == {
        "main": impl.FunctionStats(1, 6.0, 3.0),
        "parse": impl.FunctionStats(1, 2.0, 2.0),
        "eval": impl.FunctionStats(2, 1.0, 1.0),
    }
    assert (stats["eval"].calls, stats["eval"].total, stats["eval"].self_time) == (2, 1.0, 1.0)


def test_function_stats_count_only_completed_frames(impl):
    stats = impl.function_stats(build(impl, [(0, "main a"), (2, "main b"), (3, "main b c")]))
    assert stats == {"a": impl.FunctionStats(1, 2.0, 2.0)}, (
        "main, b and c never end: they count nowhere"
    )
    assert impl.function_stats([]) == {}


def test_recursion_counts_every_call_but_inclusive_time_once(impl):
    rows = [(0, "a"), (2, "a a"), (3, "a a a"), (5, "a")]
    stats = impl.function_stats(build(impl, rows, close=10))
    assert stats == {"a": impl.FunctionStats(3, 10.0, 10.0)}, (
        "a -> a -> a is 3 calls; nested calls of a add nothing to a's total; "
        "self time is split among them: 2 + 1 + 2 + 5"
    )


def test_self_time_excludes_the_direct_callees_only(impl):
    rows = [(0, "main"), (1, "main f"), (2, "main f g"), (4, "main f"), (5, "main")]
    stats = impl.function_stats(build(impl, rows, close=8))
    assert stats == {
        "main": impl.FunctionStats(1, 8.0, 4.0),
        "f": impl.FunctionStats(1, 4.0, 2.0),
        "g": impl.FunctionStats(1, 2.0, 2.0),
    }


def test_stats_add_up_over_threads_even_when_they_overlap(impl):
    rows = [(0, "work", 1), (0, "work", 2), (1, "work", 3), (4, "", 1), (4, "", 2), (5, "", 3)]
    stats = impl.function_stats(build(impl, rows))
    assert stats == {"work": impl.FunctionStats(3, 12.0, 12.0)}


def test_a_completed_call_nested_in_one_that_never_ends_adds_its_time(impl):
    rows = [(0, "a"), (1, "a a"), (3, "a"), (4, "a b"), (6, "a")]
    stats = impl.function_stats(build(impl, rows))
    assert stats == {"a": impl.FunctionStats(1, 2.0, 2.0), "b": impl.FunctionStats(1, 2.0, 2.0)}


def test_function_stats_of_filtered_events_count_reported_frames_only(impl):
    rows = [(0, "a"), (1, "a x"), (2, "a"), (3, "a b"), (4, "a b"), (5, "a")]
    stats = impl.function_stats(build(impl, rows, close=6, min_samples=2))
    assert stats == {"a": impl.FunctionStats(1, 6.0, 4.0), "b": impl.FunctionStats(1, 2.0, 2.0)}


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
    assert impl.function_stats(good) == {"a": impl.FunctionStats(1, 1.0, 1.0)}
    with pytest.raises(ValueError):
        impl.function_stats([impl.Event(*event) for event in events])


def test_format_stats_of_the_spec_example(impl):
    text = impl.format_stats(impl.function_stats(build(impl, SPEC_ROWS, close=6)))
    assert text == (
        "function     calls         total          self\n"
        "main             1      6.000000      3.000000\n"
        "parse            1      2.000000      2.000000\n"
        "eval             2      1.000000      1.000000"
    )


def test_format_stats_orders_rows_by_total_descending_then_name(impl):
    stats = {
        "b": impl.FunctionStats(1, 1.0, 1.0),
        "c": impl.FunctionStats(1, 2.5, 0.0),
        "a": impl.FunctionStats(12, 1.0, 0.25),
    }
    lines = impl.format_stats(stats).split("\n")
    assert [line.split()[0] for line in lines] == ["function", "c", "a", "b"]
    assert lines[2] == "a               12      1.000000      0.250000"


def test_format_stats_widens_the_function_column_for_long_names(impl):
    text = impl.format_stats({"a_rather_long_name": impl.FunctionStats(3, 0.25, 1234.5)})
    assert text == (
        "function               calls         total          self\n"
        "a_rather_long_name         3      0.250000   1234.500000"
    ), "the function column is as wide as the longest name (18 here)"
    assert not any(line.endswith(" ") for line in text.split("\n"))


def test_format_stats_of_no_stats_is_the_header_line(impl):
    assert impl.format_stats({}) == "function     calls         total          self"


@pytest.mark.parametrize("table", example_params("stack_trace", 4))
def test_the_spec_example_table_holds(replay_example, table):
    replay_example(table)
