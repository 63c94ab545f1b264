"""Hints one at a time, recorded in an attempt; debriefs once a stage has passed."""

from __future__ import annotations

import json

import pytest

from dojo.hints import parse_hints
from tests.cli.conftest import Dojo
from tests.watch.conftest import add_hints


def test_hints_parse_into_numbered_sections_and_a_gap_is_refused() -> None:
    hints = parse_hints("# Hints\n\n## Hint 1\n\nA nudge.\n\n## Hint 2\n\nThe name.\n")
    assert hints == ["## Hint 1\n\nA nudge.\n", "## Hint 2\n\nThe name.\n"]
    with pytest.raises(ValueError, match=r"got \[1, 3\]"):
        parse_hints("## Hint 1\n\nA.\n\n## Hint 3\n\nC.\n")
    with pytest.raises(ValueError, match="hint 2 has no text"):
        parse_hints("## Hint 1\n\nA.\n\n## Hint 2\n\n")


def test_hint_shows_the_next_unseen_hint_and_all_shows_the_seen_ones(dojo: Dojo) -> None:
    add_hints(dojo.root)
    code, out, _ = dojo.kata("hint", "toy", "--all")
    assert out.startswith("No hint of stage 1 of toy seen yet")
    code, out, _ = dojo.kata("hint", "toy")
    assert code == 0
    assert out == "Hint 1 of 2, stage 1 of toy:\n## Hint 1\n\nStart from the toy's 1 spec.\n"
    code, out, _ = dojo.kata("hint", "toy")
    assert out.startswith("Hint 2 of 2, stage 1 of toy:\n## Hint 2\n\nThe operator does it.")
    code, out, _ = dojo.kata("hint", "toy")
    assert out.startswith("You have seen all 2 hints of stage 1 of toy")
    code, out, _ = dojo.kata("hint", "toy", "--all")
    assert "## Hint 1" in out and "## Hint 2" in out
    shown = json.loads((dojo.home / "hints.json").read_text())["shown"]
    assert [(s["stage"], s["hint"], s["attempt"]) for s in shown] == [(1, 1, None), (1, 2, None)]


def test_hints_shown_in_an_attempt_are_counted_by_status_finish_and_history(dojo: Dojo) -> None:
    add_hints(dojo.root)
    dojo.kata("hint", "toy")  # before the attempt: not counted in it
    dojo.kata("start", "toy")
    dojo.at(5)
    _, out, _ = dojo.kata("hint", "toy")
    assert out.startswith("Hint 1 of 2, stage 1 of toy (recorded in your attempt):")
    assert dojo.kata("status", "toy")[1].splitlines()[-1] == "Hints used: 1"
    dojo.at(6)
    _, out, _ = dojo.kata("finish", "toy")
    assert "Hints used: 1\n" in out
    record = json.loads((dojo.home / "history.jsonl").read_text())
    assert record["hints"] == 1
    assert dojo.kata("history")[1].splitlines()[1].split()[-2] == "1"
    dojo.kata("start", "toy")
    assert dojo.kata("hint", "toy")[1].startswith("Hint 1 of 2"), "a new attempt starts unseen"


def test_a_damaged_hints_file_is_set_aside_with_a_warning(dojo: Dojo) -> None:
    add_hints(dojo.root)
    dojo.home.mkdir()
    (dojo.home / "hints.json").write_text('{"version": 1, "shown": [{"stage": "one"}]}')
    code, out, err = dojo.kata("hint", "toy")
    assert code == 0
    assert "hints.json was entry 0 does not have exactly family, stage, hint, at" in err
    assert "moved it to hints.json.corrupt-" in err
    assert out.startswith("Hint 1 of 2")


def test_show_appends_the_debrief_only_once_the_stage_has_passed(dojo: Dojo) -> None:
    add_hints(dojo.root)
    spec = (dojo.root / "stages/toy/stage1.md").read_text()
    assert dojo.kata("show", "toy")[1] == spec
    dojo.solve()
    dojo.run("--stage", "1", "katas/toy")
    _, out, _ = dojo.kata("show", "toy", "--stage", "1")
    assert out == spec + "\n# Debrief 1\n\nWell done.\n"
    assert dojo.kata("show", "toy")[1] == (dojo.root / "stages/toy/stage2.md").read_text()


def test_compare_names_the_debriefs_of_the_passed_stages(
    dojo: Dojo, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_hints(dojo.root)
    monkeypatch.setattr("dojo.cli.compare", lambda *args: {"family": "toy"})
    monkeypatch.setattr("dojo.cli.render_compare", lambda report: ["(the comparison)"])
    dojo.solve()
    assert dojo.kata("compare", "toy")[1] == "(the comparison)\n"
    dojo.run("--stage", "1", "katas/toy")
    out = dojo.kata("compare", "toy")[1]
    assert out.endswith("Debriefs of the stages you passed: stages/toy/stage1.debrief.md\n")
    report = json.loads(dojo.kata("compare", "toy", "--json")[1])
    assert report["debriefs"] == ["stages/toy/stage1.debrief.md"]
