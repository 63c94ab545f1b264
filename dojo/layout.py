"""Where things live in the repository, and which families and stages exist.

One place knows the layout (docs/DESIGN.md), so adding a family is adding its four
folders: ``stages/F`` (specs and starter), ``solutions/F``, ``tests/F`` and,
created on first use, the learner's ``katas/F``.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

STAGES = (1, 2, 3, 4)
LAST_STAGE = STAGES[-1]


def parse_stage(text: str) -> int:
    """A stage number from the command line (the argparse type of ``--stage``, for
    pytest and ``kata`` alike); ArgumentTypeError naming the range otherwise."""
    if text.strip().isdigit() and int(text) in STAGES:
        return int(text)
    raise argparse.ArgumentTypeError(
        f"expected a stage number from {STAGES[0]} to {LAST_STAGE}, got {text!r}"
    )


def stage_span(stage: int) -> str:
    """``stage 1`` or ``stage 3 (with stages 1-2)``... as headers say it."""
    if stage == 1:
        return "stage 1"
    earlier = "stage 1" if stage == 2 else f"stages 1-{stage - 1}"
    return f"stage {stage} (with {earlier})"


@dataclass(frozen=True)
class Target:
    """One family's code: the learner's (``katas/F``) or the reference (``solutions/F``).

    The one place that knows the folder, the import name and the label of each.
    """

    family: str
    learner: bool

    @property
    def label(self) -> str:
        """``katas/F`` or ``solutions/F``: how messages name the folder."""
        return f"{'katas' if self.learner else 'solutions'}/{self.family}"

    @property
    def module(self) -> str:
        """The name the package is imported under: ``katas.F`` or ``solutions.F``."""
        return self.label.replace("/", ".")

    def folder(self, repo: Repo) -> Path:
        return repo.workspace(self.family) if self.learner else repo.solution(self.family)


@dataclass(frozen=True)
class Repo:
    """The kit rooted at ``root`` (the folder holding ``pyproject.toml``)."""

    root: Path

    def families(self) -> list[str]:
        """Names of the families, sorted: every ``stages/F`` with a ``stage1.md``."""
        stages = self.root / "stages"
        if not stages.is_dir():
            return []
        return sorted(d.name for d in stages.iterdir() if (d / "stage1.md").is_file())

    def spec(self, family: str, stage: int) -> Path:
        return self.root / "stages" / family / f"stage{stage}.md"

    def hints(self, family: str, stage: int) -> Path:
        """``stages/F/stageN.hints.md``: the stage's hints, one ``## Hint k`` section each."""
        return self.root / "stages" / family / f"stage{stage}.hints.md"

    def debrief(self, family: str, stage: int) -> Path:
        """``stages/F/stageN.debrief.md``: shown once the stage has passed."""
        return self.root / "stages" / family / f"stage{stage}.debrief.md"

    def starter(self, family: str) -> Path:
        return self.root / "stages" / family / "starter"

    def solution(self, family: str) -> Path:
        return self.root / "solutions" / family

    def workspace(self, family: str) -> Path:
        return self.root / "katas" / family

    def tests(self, family: str) -> Path:
        return self.root / "tests" / family

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, with forward slashes, for messages."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def command(self, family: str, stage: int, cwd: Path) -> str:
        """The command that runs ``stage`` of ``family``, typed from ``cwd``."""
        path = Path(os.path.relpath(self.workspace(family), cwd)).as_posix()
        return f"pytest --stage {stage} {path}"

    def create_workspace(self, family: str) -> Path:
        """Copy the pristine starter to ``katas/F``, which must not exist yet.

        The copy is made beside the target and renamed into place, so an
        interrupted copy never leaves a half-filled workspace behind.
        """
        target = self.workspace(family)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{family}.creating-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(
            self.starter(family),
            staging,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        os.rename(staging, target)
        return target


def locked_sentence(family: str, stage: int, unlocked: int, command: str) -> str:
    """Why ``stage`` cannot run: the runner and ``kata show`` say it alike."""
    return f"Stage {stage} of {family} is locked: pass stage {unlocked} first with `{command}`"
