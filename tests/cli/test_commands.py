"""The other kata commands: names, show, backups, restore, reset, broken state, help."""

from __future__ import annotations

import io
import json

import pytest

from dojo.cli import Style
from tests.cli.conftest import Dojo

MINE = "def add(a, b):\n    return a + b  # my work\n"


def test_an_unknown_family_lists_the_known_ones_and_suggests_a_close_name(dojo: Dojo) -> None:
    code, _, err = dojo.kata("start", "tyo")
    assert code == 2
    assert err == "kata: unknown family 'tyo' (did you mean 'toy'?); families: toy\n"
    code, _, err = dojo.kata("show", "bank")
    assert err == "kata: unknown family 'bank'; families: toy\n"
    assert not (dojo.root / "katas").exists()


def test_show_prints_an_unlocked_spec_and_refuses_a_locked_one_as_the_runner_does(
    dojo: Dojo,
) -> None:
    code, out, _ = dojo.kata("show", "toy")
    assert code == 0
    assert out == (dojo.root / "stages/toy/stage1.md").read_text()
    runner = dojo.run("--stage", "3", "katas/toy").stderr.str()
    code, out, err = dojo.kata("show", "toy", "--stage", "3")
    assert code == 4
    assert out == ""
    assert err.startswith("kata: Stage 3 of toy is locked: pass stage 1 first with ")
    assert err.removeprefix("kata: ").strip() in runner


def test_start_backs_up_the_learner_code_and_restore_puts_it_back(dojo: Dojo) -> None:
    dojo.write_learner(MINE)
    code, out, _ = dojo.kata("start", "toy")
    assert "Backed up katas/toy/ to .kata/backups/toy-20260302T090000Z/" in out
    starter = (dojo.root / "stages/toy/starter/__init__.py").read_text()
    assert (dojo.root / "katas/toy/__init__.py").read_text() == starter
    assert (dojo.home / "backups/toy-20260302T090000Z/__init__.py").read_text() == MINE

    dojo.write_learner("# attempt code\n")
    dojo.at(1)
    code, out, _ = dojo.kata("restore", "toy", "toy-20260302T090000Z")
    assert code == 0
    assert (dojo.root / "katas/toy/__init__.py").read_text() == MINE
    code, out, _ = dojo.kata("backups", "toy")
    lines = out.splitlines()
    assert lines[0].split() == ["backup", "taken", "size"]
    assert [line.split()[0] for line in lines[1:3]] == [
        "toy-20260302T090100Z",
        "toy-20260302T090000Z",
    ]
    assert (dojo.home / "backups/toy-20260302T090100Z/__init__.py").read_text() == (
        "# attempt code\n"
    ), "restoring backs up the code it replaces"


def test_backups_made_in_the_same_second_never_overwrite_each_other(dojo: Dojo) -> None:
    for n in range(3):
        dojo.write_learner(f"# version {n}\n")
        dojo.kata("reset", "toy")
    names = [p.name for p in sorted((dojo.home / "backups").iterdir())]
    assert names == ["toy-20260302T090000Z", "toy-20260302T090000Z-2", "toy-20260302T090000Z-3"]
    assert dojo.kata("restore", "toy")[0] == 0
    assert (dojo.root / "katas/toy/__init__.py").read_text() == "# version 2\n"


def test_reset_backs_up_restores_the_starter_and_returns_to_stage_one(dojo: Dojo) -> None:
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy")
    code, out, _ = dojo.kata("reset", "toy")
    assert code == 0
    assert "is back at stage 1" in out
    assert json.loads((dojo.progress).read_text())["families"] == {
        "toy": {"since": "2026-03-02T09:00:00Z", "stages": {}, "unlocked": 1}
    }
    (backup,) = (dojo.home / "backups").iterdir()
    assert "return a + b" in (backup / "__init__.py").read_text()


def test_restore_without_backups_or_with_an_unknown_name_changes_nothing(dojo: Dojo) -> None:
    dojo.write_learner(MINE)
    code, _, err = dojo.kata("restore", "toy")
    assert (code, err) == (1, "kata: no backups of toy to restore\n")
    dojo.kata("reset", "toy")
    dojo.write_learner(MINE)
    code, _, err = dojo.kata("restore", "toy", "toy-nope")
    assert code == 1
    assert "backups: toy-20260302T090000Z" in err
    assert (dojo.root / "katas/toy/__init__.py").read_text() == MINE


def test_a_corrupt_attempts_file_is_set_aside_with_a_warning(dojo: Dojo) -> None:
    dojo.home.mkdir()
    (dojo.home / "attempts.json").write_text("{broken")
    code, out, err = dojo.kata("status")
    assert code == 0
    assert "Warning: " in err
    assert "attempts.json was not valid JSON" in err
    assert "No attempt is on." in out
    assert [p.name for p in dojo.home.glob("attempts.json.corrupt-*")]
    assert dojo.kata("start", "toy")[0] == 0


def test_a_corrupt_history_line_is_set_aside_and_the_others_kept(dojo: Dojo) -> None:
    dojo.kata("start", "toy")
    dojo.at(10)
    dojo.kata("finish", "toy")
    history = dojo.home / "history.jsonl"
    history.write_text(history.read_text() + '{"family": 3}\nnot json\n')
    code, out, err = dojo.kata("history")
    assert code == 0
    assert "2 damaged line(s)" in err, err
    assert "toy     10 min of 90 min" in out
    assert len(history.read_text().splitlines()) == 1
    (aside,) = dojo.home.glob("history.jsonl.corrupt-*")
    assert aside.read_text() == '{"family": 3}\nnot json\n'


def test_list_shows_progress_the_attempt_on_and_the_best_score(dojo: Dojo) -> None:
    assert dojo.kata("list")[1].splitlines()[1].split() == ["toy", "stage", "1", "0/4", "-", "-"]
    dojo.kata("start", "toy", "--minutes", "45")
    assert "on, 45 min left" in dojo.kata("list")[1]


@pytest.mark.parametrize(
    "command",
    ["list", "show", "start", "status", "finish", "history", "reset", "backups", "restore"],
)
def test_every_command_has_help(dojo: Dojo, command: str) -> None:
    code, out, _ = dojo.kata(command, "--help")
    assert code == 0
    assert out.startswith(f"usage: kata {command}")


def test_version_prints_the_version_and_a_missing_command_is_a_usage_error(dojo: Dojo) -> None:
    assert dojo.kata("--version")[:2] == (0, "kata 0.1.0\n")
    code, _, err = dojo.kata()
    assert code == 2
    assert "required: COMMAND" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Style(Terminal()).bold("x") == "\033[1mx\033[0m"
    assert Style(io.StringIO()).bold("x") == "x"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style(Terminal()).bold("x") == "x"
