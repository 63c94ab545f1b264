"""Where things live in the repository, and which families and stages exist.

One place knows the layout of DESIGN.md, so adding a family is adding its four
folders: ``stages/F`` (specs and starter), ``solutions/F``, ``tests/F`` and,
created on first use, the learner's ``katas/F``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

STAGES = (1, 2, 3, 4)
LAST_STAGE = STAGES[-1]


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

    def create_workspace(self, family: str, source: Path | None = None) -> Path:
        """Copy ``source`` (the pristine starter by default) to ``katas/F``.

        The folder must not exist yet. The copy is made beside the target and
        renamed into place, so an interrupted copy never leaves a half-filled
        workspace behind.
        """
        target = self.workspace(family)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{family}.creating-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(
            source or self.starter(family),
            staging,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        os.rename(staging, target)
        return target


def locked_sentence(family: str, stage: int, unlocked: int, command: str) -> str:
    """Why ``stage`` cannot run: the runner and ``kata show`` say it alike."""
    return f"Stage {stage} of {family} is locked: pass stage {unlocked} first with `{command}`"
