"""The kit checks its hints and debriefs, for every family found under ``stages/``.

Every stage has a hints file of two or three ``## Hint k`` sections and a
debrief; neither names anything a later stage adds (a hint is read before the
next round is unlocked, a debrief right after its own round passes); every
test a debrief cites exists in that stage or an earlier one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dojo.hints import parse_hints
from dojo.layout import STAGES, Repo
from tests.kit.stage_api import later_names

REPO = Repo(Path(__file__).resolve().parents[2])
FAMILIES = REPO.families()
PER_STAGE = [(f, s) for f in FAMILIES for s in STAGES]


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as code: in backquotes, called, or as an
    attribute; a distinctive name (with ``_`` or a capital) anywhere as a word."""
    word = re.escape(name.strip("_")) if name.startswith("__") else re.escape(name)
    spans = re.findall(r"`([^`\n]+)`", text)
    if any(re.search(rf"\b{word}\b", span) for span in spans):
        return True
    if re.search(rf"\b{word}\(|\.{word}\b", text):
        return True
    distinctive = "_" in name.strip("_") or name != name.lower()
    return distinctive and re.search(rf"\b{word}\b", text) is not None


@pytest.mark.parametrize(("family", "stage"), PER_STAGE)
def test_every_stage_has_two_or_three_hints_and_a_debrief(family: str, stage: int) -> None:
    path = REPO.hints(family, stage)
    assert path.is_file(), f"{REPO.relative(path)} is missing"
    hints = parse_hints(path.read_text(encoding="utf-8"))
    assert 2 <= len(hints) <= 3, f"{REPO.relative(path)} has {len(hints)} hints; expected 2 or 3"
    debrief = REPO.debrief(family, stage)
    assert debrief.is_file(), f"{REPO.relative(debrief)} is missing"
    assert len(debrief.read_text(encoding="utf-8").split()) > 50, f"{debrief} is too short"


@pytest.mark.parametrize(("family", "stage"), PER_STAGE)
def test_no_hint_or_debrief_names_what_a_later_stage_adds(family: str, stage: int) -> None:
    later = later_names(family, stage)
    for path in (REPO.hints(family, stage), REPO.debrief(family, stage)):
        text = path.read_text(encoding="utf-8")
        named = sorted(name for name in later if mentions(text, name))
        assert not named, f"{REPO.relative(path)} names {named}, added by a later stage"


@pytest.mark.parametrize(("family", "stage"), PER_STAGE)
def test_the_tests_a_debrief_cites_exist_by_its_stage(family: str, stage: int) -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for k in STAGES
        if k <= stage
        for path in REPO.tests(family).glob(f"test_stage{k}.py")
    )
    defined = set(re.findall(r"^def (test_\w+)", sources, re.MULTILINE))
    debrief = REPO.debrief(family, stage)
    cited = set(re.findall(r"`(test_\w+)`", debrief.read_text(encoding="utf-8")))
    assert cited <= defined, (
        f"{REPO.relative(debrief)} cites unknown tests {sorted(cited - defined)}"
    )


def test_the_leak_check_sees_names_as_code_and_distinctive_names_as_words() -> None:
    assert mentions("use `db.scan`", "scan")
    assert mentions("call scan(prefix)", "scan")
    assert mentions("then cache.delete the key", "delete")
    assert mentions("a TraceBuilder keeps state", "TraceBuilder")
    assert mentions("the top_spenders query", "top_spenders")
    assert not mentions("scan every key on each call", "scan")
    assert not mentions("each call checks its arguments", "call")
    assert not mentions("`a` then call `b`", "call")
