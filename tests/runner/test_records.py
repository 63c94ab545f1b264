"""Records you can trust: only the kit's own complete run records; nothing hangs.

A run records only when it ran exactly the collected tests of stages 1..N,
each once to the end, under the kit's own options and limits. Anything else
is practice and says why in one line. Hostile learner code (a loop in C, a
replaced SIGALRM handler, ``os._exit``, threads left running) never hangs a
run and never records.
"""

from __future__ import annotations

import json

import pytest

from dojo.tally import Tally
from tests.runner.conftest import Kit

WRONG_SUB = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return 0\n"


def unlocked(kit: Kit) -> int:
    if not kit.progress.exists():
        return 1
    return json.loads(kit.progress.read_text())["families"].get("toy", {}).get("unlocked", 1)


@pytest.mark.timeout(60)
def test_a_failing_stage_run_with_xdist_records_the_failure_and_unlocks_nothing(kit: Kit) -> None:
    result = kit.pytester.runpytest_subprocess("-n", "2", "--stage", "1", "katas/toy", timeout=60)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["    1       0       0         2      2  failing"])
    assert unlocked(kit) == 1
    stage = json.loads(kit.progress.read_text())["families"]["toy"]["stages"]["1"]
    assert (stage["passed"], stage["total"]) == (0, 2), "xdist results are tallied"


@pytest.mark.timeout(60)
def test_a_passing_stage_run_with_xdist_records_exactly_as_without(kit: Kit) -> None:
    kit.solve()
    result = kit.pytester.runpytest_subprocess("-n", "2", "--stage", "1", "katas/toy", timeout=60)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["Stage 1 passed! Stage 2 is unlocked*"])
    assert unlocked(kit) == 2


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--sw-skip"], "--stepwise-skip"),
        (["-o", "python_functions=test_add_add*"], "--override-ini"),
        (["--timeout", "0"], "--timeout"),
        (["-o", "timeout=60"], "--override-ini"),
        (["--hypothesis-seed", "1"], "--hypothesis-seed"),
        (["-p", "no:hypothesispytest"], "-p no:hypothesispytest"),
        (["--lf"], "--last-failed"),
    ],
)
def test_an_option_that_narrows_skips_or_loosens_makes_the_run_practice(
    kit: Kit, args: list[str], named: str
) -> None:
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy", *args)
    result.stdout.fnmatch_lines([f"Practice run (*{named}*): nothing recorded.*"])
    assert not kit.progress.exists()


def test_options_that_only_change_the_output_still_record(kit: Kit) -> None:
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy", "-v", "--tb=line", "-rA", "--color=no")
    result.stdout.fnmatch_lines(["Stage 1 passed! Stage 2 is unlocked*"])
    assert unlocked(kit) == 2


def test_pytest_addopts_counts_like_the_command_line(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.solve()
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k adds")
    result = kit.run("--stage", "1", "katas/toy")
    result.stdout.fnmatch_lines(["Practice run (*-k*): nothing recorded.*"])
    assert unlocked(kit) == 1


def test_a_stage_with_no_tests_is_never_passed() -> None:
    tally = Tally(stage=1)
    tally.expect([])
    assert not tally.all_passed()
    assert tally.problems() == ["stage 1 has no tests in this run"]


def test_a_test_that_never_reported_keeps_the_run_from_recording() -> None:
    tally = Tally(stage=1)
    tally.expect(["t::a"])
    assert "1 test did not run to the end (first: t::a)" in tally.problems()


def test_a_report_file_gives_counts_and_failures_for_tools(kit: Kit) -> None:
    kit.write_learner(WRONG_SUB)
    kit.run("--stage", "1", "katas/toy")
    report = kit.root / "report.json"
    kit.run("--stage", "2", "katas/toy", f"--kata-report={report}")
    data = json.loads(report.read_text())
    assert data["recorded"] is True and data["passed"] is False and data["unlocked"] == 2
    assert [(s["stage"], s["passed"], s["total"]) for s in data["stages"]] == [(1, 2, 2), (2, 0, 1)]
    (failure,) = data["failures"]
    assert failure["test"].endswith("test_stage2.py::test_sub_subtracts")
    assert failure["stage"] == 2 and failure["reason"]


# --- hostile learner code: every case runs in its own process ------------------------


def run_alone(kit: Kit, *args: str) -> pytest.RunResult:
    return kit.pytester.runpytest_subprocess("--stage", "1", "katas/toy", *args, timeout=60)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("collections.deque(itertools.count(), maxlen=0)", id="a loop in C"),
        pytest.param(
            "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass",
            id="the alarm ignored",
        ),
        pytest.param(
            "while True:\n        try:\n            time.sleep(0.05)\n"
            "        except BaseException:\n            pass",
            id="every timeout swallowed",
        ),
    ],
)
def test_code_the_timer_cannot_stop_is_ended_by_the_watchdog_which_records_nothing(
    kit: Kit, body: str
) -> None:
    kit.write_learner(
        f"import collections, itertools, signal, time\n\ndef add(a, b):\n    {body}\n"
    )
    result = run_alone(kit, "-p", "no:randomly", "-o", "kata_timeout=1")
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    result.stderr.fnmatch_lines(
        [
            "kata: tests/toy/test_stage1.py::test_add_adds ran past its 1 s limit*",
            "*recorded nothing*",
        ]
    )
    assert not kit.progress.exists()


@pytest.mark.timeout(60)
def test_os_exit_fails_its_test_and_threads_left_running_never_keep_the_run_alive(
    kit: Kit,
) -> None:
    kit.write_learner(
        "import os, threading, time\n\n"
        "def add(a, b):\n"
        "    if (a, b) == (2, 3):\n        os._exit(0)\n"
        "    threading.Thread(target=time.sleep, args=(600,), name='forgotten').start()\n"
        "    return a + b\n"
    )
    result = run_alone(kit)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*the code under test called os._exit(0)*"])
    result.stdout.fnmatch_lines(["    1       1       1         0      2  failing"])
    result.stderr.fnmatch_lines(["kata: the code under test left * thread(s) running (forgotten*"])
