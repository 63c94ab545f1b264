"""Learner faults fail their own tests with a one-line reason; the run goes on."""

from __future__ import annotations

import pytest

from tests.runner.conftest import Kit

LOOP_IN_ADD = """\
def add(a, b):
    if a > 100:
        while True:
            pass
    return a + b
"""


def assert_clean_run(result: pytest.RunResult) -> None:
    """The runner itself never crashes: no internal error, no traceback of ours."""
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "dojo/" not in result.stdout.str(), "a runner frame leaked into the report"


def test_a_syntax_error_fails_each_test_naming_file_and_line(kit: Kit) -> None:
    kit.write_learner("def add(a, b):\n    return a +\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(
        ["cannot import katas/toy: SyntaxError at katas/toy/__init__.py:2: *"] * 2
    )


def test_an_exception_at_import_names_its_line(kit: Kit) -> None:
    kit.write_learner("X = 1\nY = X / 0\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(
        ["cannot import katas/toy: ZeroDivisionError at katas/toy/__init__.py:2: division by zero"]
    )


def test_a_missing_function_fails_with_its_name(kit: Kit) -> None:
    kit.write_learner("def plus(a, b):\n    return a + b\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(
        ["katas/toy defines no 'add': the spec asks for it in __init__.py"] * 2
    )


def test_a_missing_init_file_says_where_the_code_goes(kit: Kit) -> None:
    (kit.root / "katas/toy").mkdir(parents=True)
    (kit.root / "katas/toy/solution.py").write_text("def add(a, b):\n    return a + b\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["katas/toy/__init__.py not found: the code under test goes there"])


def test_an_exception_in_learner_code_fails_only_its_tests(kit: Kit) -> None:
    kit.write_learner(
        "def add(a, b):\n    if a == 2:\n        raise KeyError(a)\n    return a + b\n"
    )
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(passed=1, failed=1)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(["FAILED *test_add_adds - KeyError: 2"])


def test_sys_exit_fails_the_test_and_the_run_goes_on(kit: Kit) -> None:
    kit.write_learner("import sys\n\ndef add(a, b):\n    sys.exit(3)\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(["the code under test called sys.exit(3)"] * 2)


def test_sys_exit_at_import_fails_the_tests(kit: Kit) -> None:
    kit.write_learner("raise SystemExit('bye')\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["cannot import katas/toy: it called sys.exit('bye')*"])


def test_an_infinite_loop_times_out_only_its_test(kit: Kit) -> None:
    kit.write_learner("def add(a, b):\n    while True:\n        pass\n")
    result = kit.run("--stage", "1", "katas/toy", "-k", "adds")
    result.assert_outcomes(failed=1)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(["timed out: this looks like an infinite loop*"])


def test_an_infinite_loop_inside_a_hypothesis_test_does_not_hang_the_run(kit: Kit) -> None:
    kit.write_learner(LOOP_IN_ADD)
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(passed=1, failed=1)
    assert_clean_run(result)
    result.stdout.fnmatch_lines(["FAILED *test_add_commutes - Failed: timed out: *"])


def test_a_loop_that_swallows_the_timeout_is_stopped_all_the_same(kit: Kit) -> None:
    kit.write_learner(
        "def add(a, b):\n    while True:\n        try:\n            pass\n"
        "        except BaseException:\n            pass\n"
    )
    result = kit.run("--stage", "1", "katas/toy", "-k", "adds")
    result.assert_outcomes(failed=1)
    assert_clean_run(result)


def test_an_infinite_loop_at_import_times_out_and_the_run_goes_on(kit: Kit) -> None:
    kit.write_learner("while True:\n    pass\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert_clean_run(result)


def test_the_table_counts_stubs_apart_from_failures(kit: Kit) -> None:
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    kit.write_learner(
        "def add(a, b):\n    return a + b\n\n"
        "def sub(a, b):\n    raise NotImplementedError('TODO(stage 2): sub')\n"
    )
    result = kit.run("--stage", "2", "katas/toy")
    result.stdout.fnmatch_lines(
        [
            "    1       2       0         0      2  passed",
            "    2       0       0         1      1  failing",
        ]
    )


SLOW_TESTS = """

import pytest


@pytest.mark.perf(
    workload="1,000 adds", reference="0.1 s", naive="adding one by one takes about 100 s"
)
def test_many_adds_are_fast(impl):
    for _ in range(1000):
        impl.add(1, 2)


@pytest.mark.parametrize("n", range(4))
def test_add_again(impl, n):
    assert impl.add(n, 1) == n + 1
"""


def test_a_slow_performance_test_names_the_workload_the_designs_and_the_frame(kit: Kit) -> None:
    with (kit.root / "tests/toy/test_stage1.py").open("a") as tests:
        tests.write(SLOW_TESTS)
    kit.write_learner("import time\n\ndef add(a, b):\n    time.sleep(1)\n    return a + b\n")
    result = kit.run("--stage", "1", "katas/toy", "-k", "fast", "-o", "kata_perf_timeout=0.5")
    result.stdout.fnmatch_lines(
        [
            "too slow: 1,000 adds; the reference takes 0.1 s; adding one by one takes about "
            "100 s. Your code was in add(), katas/toy/__init__.py:4 when the 0.5 s limit passed."
        ]
    )


def test_after_two_timeouts_the_later_tests_get_the_short_limit_and_say_why(kit: Kit) -> None:
    with (kit.root / "tests/toy/test_stage1.py").open("a") as tests:
        tests.write(SLOW_TESTS)
    kit.write_learner(LOOP_IN_ADD.replace("if a > 100:", "if True:"))
    result = kit.run("--stage", "1", "katas/toy", "-k", "again", "-o", "kata_timeout=1")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    reasons = [line for line in out.splitlines() if line.startswith("timed out: ")]
    assert [r.endswith("when the 1 s limit passed.") for r in reasons] == [True, True, False, False]
    assert all(
        "when the 0.5 s limit passed. (The limit is short because" in r for r in reasons[2:]
    ), out
