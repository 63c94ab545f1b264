"""A timed attempt end to end: start, stage runs, splits, overtime, score, history."""

from __future__ import annotations

import json

import hypothesis
import pytest

from dojo.state import Attempts, score
from tests.cli.conftest import T0, Dojo

HALF_RIGHT = "def add(a, b):\n    return 5\n"  # passes test_add_adds only
STAGE_ONE_ONLY = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return 0\n"


def test_a_whole_attempt_records_best_runs_splits_and_overtime_and_scores_in_time(
    dojo: Dojo,
) -> None:
    code, out, _ = dojo.kata("start", "toy", "--minutes", "90")
    assert code == 0
    assert "Read the spec: stages/toy/stage1.md" in out
    assert "  pytest --stage 1 katas/toy" in out

    dojo.at(5)
    dojo.write_learner(HALF_RIGHT)
    result = dojo.run("--stage", "1", "katas/toy")
    result.stdout.fnmatch_lines(
        [
            "stage  passed  failed  not impl  total  split  state",
            "    1       1       1         0      2      -  failing",
            "Attempt: 5 min of 90 min used, 1 h 25 min left; score 50/1000",
        ]
    )

    dojo.at(20)
    dojo.write_learner(STAGE_ONE_ONLY)
    dojo.run("--stage", "1", "katas/toy").stdout.fnmatch_lines(
        ["    1       2       0         0      2  20 min (+20 min)  passed"]
    )

    dojo.at(32)
    dojo.run("--stage", "2", "katas/toy").assert_outcomes(passed=2, failed=1)
    code, out, _ = dojo.kata("status", "toy")
    assert out.splitlines()[1:] == [
        "stage  best  split             overtime   points",
        "1       2/2  20 min (+20 min)         0  100/100",
        "2       0/1  -                        0    0/200",
        "3         -  -                        0    0/300",
        "4         -  -                        0    0/400",
        "Time: 32 min of 90 min used, 58 min left; score 100/1000",
        "Hints used: 0",
    ]

    dojo.at(95)
    dojo.solve()
    result = dojo.run("--stage", "2", "katas/toy")
    result.stdout.fnmatch_lines(["Overtime: the attempt's deadline has passed*"])

    dojo.at(100)
    code, out, _ = dojo.kata("finish", "toy")
    assert code == 0
    assert "The time for the attempt on toy is up." in out
    assert "Attempt on toy finished: 100/1000 points." in out
    assert "2       0/1  -                        1    0/200" in out
    assert "Time used: 1 h 30 min of 90 min; score 100/1000" in out
    (line,) = (dojo.home / "history.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["score"] == 100
    assert record["end"] == "2026-03-02T10:30:00Z", "closed at the deadline, not later"
    assert record["used_seconds"] == 90 * 60
    assert record["splits"] == {"1": [1200, 1200], "2": None, "3": None, "4": None}
    assert record["stages"]["2"]["overtime_runs"] == 1
    assert not Attempts(dojo.home).families()

    code, out, _ = dojo.kata("history")
    assert out.splitlines() == [
        "date                  family  time used             stages passed  hints  score",
        "2026-03-02 09:00 UTC  toy     1 h 30 min of 90 min  1/4            0      100/1000",
        "Best per family:",
        "  toy: 100/1000 on 2026-03-02 09:00 UTC",
    ]


def test_finishing_early_records_the_minutes_used_and_the_best_run_of_each_stage(
    dojo: Dojo,
) -> None:
    dojo.kata("start", "toy", "--minutes", "30")
    dojo.at(3)
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy")
    dojo.at(4)
    dojo.write_learner(HALF_RIGHT)
    dojo.run("--stage", "1", "katas/toy")
    dojo.at(10.5)
    assert dojo.kata("finish", "toy")[0] == 0
    record = json.loads((dojo.home / "history.jsonl").read_text())
    assert record["stages"]["1"]["best_passed"] == 2, "a worse later run keeps the best"
    assert record["score"] == 100
    assert record["used_seconds"] == 630
    assert "10 min 30 s of 30 min" in dojo.kata("history", "toy")[1]


def test_the_score_is_the_rounded_sum_of_stage_weighted_fractions() -> None:
    stages = {
        "1": {"best_passed": 2, "best_total": 3},  # 66.67
        "2": {"best_passed": 1, "best_total": 1},  # 200
        "3": {"best_passed": 0, "best_total": 5},  # 0
    }  # stage 4 never run: 0
    assert score(stages) == 267
    assert score({}) == 0
    full = {str(k): {"best_passed": 7, "best_total": 7} for k in range(1, 5)}
    assert score(full) == 1000


def test_only_runs_before_the_deadline_count_and_the_best_one_wins(tmp_path) -> None:
    from datetime import timedelta

    attempts = Attempts(tmp_path)
    attempts.start("toy", T0, 10)
    assert attempts.record("toy", 1, 1, 4, T0 + timedelta(minutes=1))
    assert attempts.record("toy", 1, 3, 4, T0 + timedelta(minutes=2))
    assert attempts.record("toy", 1, 2, 4, T0 + timedelta(minutes=3))
    assert not attempts.record("toy", 1, 4, 4, T0 + timedelta(minutes=11))
    entry = attempts.get("toy")["stages"]["1"]
    assert (entry["best_passed"], entry["best_total"]) == (3, 4)
    assert (entry["runs"], entry["overtime_runs"]) == (3, 1)
    assert "first_passed" not in entry
    assert attempts.close("toy", T0 + timedelta(minutes=12))["score"] == 75


def test_starting_while_an_attempt_is_on_asks_for_force_which_finishes_it_first(
    dojo: Dojo,
) -> None:
    dojo.kata("start", "toy")
    dojo.at(1)
    code, _, err = dojo.kata("start", "toy")
    assert code == 1
    assert "`kata start toy --force`" in err
    assert not (dojo.home / "history.jsonl").exists()
    code, out, _ = dojo.kata("start", "toy", "--force")
    assert code == 0
    assert "Attempt on toy finished: 0/1000 points." in out
    assert len((dojo.home / "history.jsonl").read_text().splitlines()) == 1
    assert Attempts(dojo.home).get("toy")["start"] == "2026-03-02T09:01:00Z"


def test_start_resets_progress_to_stage_one(dojo: Dojo) -> None:
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy")
    dojo.kata("start", "toy")
    result = dojo.run("--stage", "2", "katas/toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_hypothesis_runs_derandomized_during_an_attempt_only(dojo: Dojo) -> None:
    dojo.run("--stage", "1", "katas/toy")
    assert not hypothesis.settings.default.derandomize
    dojo.kata("start", "toy")
    dojo.run("--stage", "1", "katas/toy")
    assert hypothesis.settings.default.derandomize


def test_any_kata_command_after_the_deadline_closes_the_attempt_with_what_it_earned(
    dojo: Dojo,
) -> None:
    dojo.kata("start", "toy", "--minutes", "10")
    dojo.at(4)
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy")
    dojo.at(60)
    code, out, _ = dojo.kata("list")
    assert code == 0
    assert out.startswith(
        "The time for the attempt on toy is up.\nAttempt on toy finished: 100/1000"
    )
    assert "toy     stage 2   1/4     -        100" in out
    assert (
        dojo.kata("status", "toy")[1] == "No attempt on toy is on. `kata start toy` starts one.\n"
    )


def test_a_narrowed_run_during_an_attempt_earns_nothing(dojo: Dojo) -> None:
    dojo.kata("start", "toy")
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy", "-k", "adds")
    assert Attempts(dojo.home).get("toy")["stages"] == {}


def test_a_corrupt_attempts_file_never_stops_a_stage_run(dojo: Dojo) -> None:
    dojo.home.mkdir()
    (dojo.home / "attempts.json").write_text('{"version": 1, "attempts": {"toy": 7}}')
    result = dojo.run("--stage", "1", "katas/toy")
    result.stdout.fnmatch_lines(["Warning: *attempts.json was attempt 'toy' is not a JSON object*"])
    result.assert_outcomes(failed=2)
