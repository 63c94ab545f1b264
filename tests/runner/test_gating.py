"""Stage runs: workspace creation, gating, unlocking, recording, usage errors."""

from __future__ import annotations

import json

import pytest

from tests.runner.conftest import Kit


def test_first_learner_run_creates_the_workspace_from_the_starter(kit: Kit) -> None:
    result = kit.run("--stage", "1", "katas/toy")
    starter = (kit.root / "stages/toy/starter/__init__.py").read_text()
    assert (kit.root / "katas/toy/__init__.py").read_text() == starter
    result.stdout.fnmatch_lines(["Created katas/toy/ from the stage-1 starter*"])


def test_notices_are_printed_even_with_quiet_output(kit: Kit) -> None:
    kit.progress.parent.mkdir()
    kit.progress.write_text("{not json")
    result = kit.run("-q", "--stage", "1", "katas/toy")
    result.stdout.fnmatch_lines(["Created katas/toy/ from the stage-1 starter*"])
    result.stdout.fnmatch_lines(["Warning: *progress.json was not valid JSON*"])


def test_existing_workspace_is_never_overwritten(kit: Kit) -> None:
    kit.write_learner("def add(a, b):\n    return a + b\n")
    result = kit.run("--stage", "1", "katas/toy")
    assert "return a + b" in (kit.root / "katas/toy/__init__.py").read_text()
    assert "Created" not in result.stdout.str()


def test_starter_fails_every_stage_one_test_as_not_implemented(kit: Kit) -> None:
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*kata toy: katas/toy/*",
            "stage  passed  failed  not impl  total  state",
            "    1       0       0         2      2  failing",
            "    2       -       -         -      -  locked",
            "    3       -       -         -      -  locked",
            "    4       -       -         -      -  locked",
            "Stage 1 is not passed yet. Spec: stages/toy/stage1.md",
        ]
    )
    result.stdout.fnmatch_lines(["not implemented: TODO(stage 1): add"])


def test_locked_stage_exits_with_a_usage_error_naming_the_stage_to_pass(kit: Kit) -> None:
    result = kit.run("--stage", "3", "katas/toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: Stage 3 of toy is locked: pass stage 1 first with `pytest --stage 1 katas/toy`"]
    )
    assert not (kit.root / "katas").exists(), "a refused run must not create the workspace"


def test_passing_a_stage_unlocks_the_next_and_names_its_spec(kit: Kit) -> None:
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "    1       2       0         0      2  passed",
            "    2       -       -         -      -  not started",
            "    3       -       -         -      -  locked",
            "Stage 1 passed! Stage 2 is unlocked: read stages/toy/stage2.md,",
            "then run `pytest --stage 2 katas/toy`.",
        ]
    )
    progress = json.loads(kit.progress.read_text())
    assert progress["families"]["toy"]["unlocked"] == 2
    assert kit.run("--stage", "2", "katas/toy").ret == pytest.ExitCode.OK


def test_a_stage_run_includes_every_earlier_stage(kit: Kit) -> None:
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    result = kit.run("--stage", "2", "katas/toy")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["    1       2*passed", "    2       1*passed"])


def test_later_stage_tests_are_not_even_collected(kit: Kit) -> None:
    result = kit.run("--stage", "1", "katas/toy", "--collect-only", "-q")
    assert "test_stage2" not in result.stdout.str()
    assert "sub" not in result.stdout.str()


def test_run_without_a_stage_runs_the_highest_unlocked_stage(kit: Kit) -> None:
    kit.solve()
    kit.run("katas/toy").assert_outcomes(passed=2)
    kit.run("katas/toy").assert_outcomes(passed=3)
    kit.run("katas/toy").assert_outcomes(passed=4)
    result = kit.run("katas/toy")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["Stage 4 passed: toy is complete!*"])
    kit.run("katas/toy").assert_outcomes(passed=5)


def test_a_failing_later_stage_keeps_what_was_unlocked(kit: Kit) -> None:
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    kit.write_learner("def add(a, b):\n    return a + b\n")
    result = kit.run("--stage", "2", "katas/toy")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["    2       0       1         0      1  failing"])
    assert json.loads(kit.progress.read_text())["families"]["toy"]["unlocked"] == 2


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["-k", "adds"], "-k"),
        (["--deselect", "tests/toy/test_stage1.py::test_add_adds"], "--deselect"),
        (["-x"], "--exitfirst"),
        (["-m", "not slow"], "-m"),
    ],
)
def test_a_narrowed_run_records_and_unlocks_nothing(kit: Kit, args: list[str], flag: str) -> None:
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy", *args)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [f"Practice run (*{flag}*): nothing recorded. `pytest --stage 1 katas/toy` runs the whole*"]
    )
    assert not kit.progress.exists()


def test_a_narrowed_run_counts_only_the_selected_tests(kit: Kit) -> None:
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    result = kit.run("--stage", "2", "katas/toy", "-k", "sub")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "    1       -       -         -      -  passed",
            "    2       1       0         0      1  passing (practice run)",
            "    3       -       -         -      -  locked",
        ]
    )


def test_naming_tests_of_the_family_runs_only_those_and_records_nothing(kit: Kit) -> None:
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy", "tests/toy/test_stage1.py::test_add_adds")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["Practice run (naming tests*): nothing recorded.*"])
    assert not kit.progress.exists()


def test_naming_a_test_of_a_later_stage_is_a_usage_error(kit: Kit) -> None:
    kit.solve()
    result = kit.run("katas/toy", "tests/toy/test_stage2.py::test_sub_subtracts")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: tests/toy/test_stage2.py::test_sub_subtracts belongs to stage 2, and this run*"]
    )


def test_a_node_id_on_a_family_path_is_a_usage_error_that_says_what_to_do(kit: Kit) -> None:
    result = kit.run("--stage", "1", "katas/toy::test_add_adds")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: 'katas/toy::test_add_adds': a family path takes no node id*"]
    )


def test_a_stage_that_passed_before_and_fails_now_says_so(kit: Kit) -> None:
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    kit.write_learner("def add(a, b):\n    return a - b\n")
    result = kit.run("--stage", "1", "katas/toy")
    result.stdout.fnmatch_lines(["Stage 1 passed before but fails now. Spec: stages/toy/stage1.md"])
    assert json.loads(kit.progress.read_text())["families"]["toy"]["unlocked"] == 2


def test_ignore_lock_runs_a_locked_stage_as_practice_and_records_nothing(kit: Kit) -> None:
    kit.solve()
    result = kit.run("--stage", "3", "--ignore-lock", "katas/toy")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*practice run*", "Practice run (--ignore-lock): nothing recorded.*"]
    )
    assert not kit.progress.exists()


@pytest.mark.parametrize("stage", ["0", "5", "two", "-1"])
def test_a_stage_outside_one_to_four_is_a_usage_error(kit: Kit, stage: str) -> None:
    result = kit.run(f"--stage={stage}", "katas/toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--stage: expected a stage number from 1 to 4, got '{stage}'"])


@pytest.mark.parametrize(
    "args",
    [
        ["katas/toy", "solutions/toy"],
        ["--stage", "1", "katas/toy", "tests"],
        ["--stage", "1", "katas/toy", "stages/toy"],
    ],
)
def test_a_family_path_beside_another_path_is_a_usage_error(kit: Kit, args: list[str]) -> None:
    result = kit.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: One family path per run, beside only tests of that family*"]
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("katas/nope", "ERROR: Unknown family 'nope' in 'katas/nope'; families: toy"),
        ("katas", "ERROR: Name one family: pytest katas/toy (families: toy)"),
    ],
)
def test_a_path_naming_no_family_is_a_usage_error(kit: Kit, path: str, message: str) -> None:
    result = kit.run(path)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_solutions_path_runs_the_reference_without_gating_or_recording(kit: Kit) -> None:
    result = kit.run("--stage", "4", "solutions/toy")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["kata: toy, stage 4 (with stages 1-3), testing the reference in solutions/toy/"]
    )
    assert not kit.progress.exists()
    assert not (kit.root / "katas").exists()


def test_a_solutions_path_with_a_stage_runs_only_stages_up_to_it(kit: Kit) -> None:
    kit.run("--stage", "2", "solutions/toy").assert_outcomes(passed=3)


def test_a_plain_test_path_tests_the_reference(kit: Kit) -> None:
    kit.write_learner("def sub(a, b):\n    return 0\n")
    result = kit.run("tests/toy/test_stage2.py")
    result.assert_outcomes(passed=1)
    assert "kata:" not in result.stdout.str()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 99, "families": {}}', "written by another version"),
        ('{"version": 1, "families": {"toy": {"unlocked": 9}}}', "family 'toy' unlocked*9"),
        ("[]", "not a JSON object"),
    ],
)
def test_a_corrupt_progress_file_is_set_aside_with_a_warning(
    kit: Kit, content: str, problem: str
) -> None:
    kit.progress.parent.mkdir()
    kit.progress.write_text(content)
    kit.solve()
    result = kit.run("--stage", "1", "katas/toy")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"Warning: *progress.json was {problem}*moved it to *"])
    aside = list(kit.progress.parent.glob("progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == content
    assert json.loads(kit.progress.read_text())["families"]["toy"]["unlocked"] == 2


def test_kata_home_relocates_the_state_folder(
    kit: Kit, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("KATA_HOME", str(home))
    kit.solve()
    kit.run("--stage", "1", "katas/toy")
    assert json.loads((home / "progress.json").read_text())["families"]["toy"]["unlocked"] == 2
    assert not kit.progress.exists()
    assert sorted(p.name for p in home.iterdir()) == ["lock", "progress.json"], (
        "no temp file left behind"
    )
