"""Fixtures for the runner's tests: a toy kit in a temporary folder.

The toy family has four stages with one function each (add, sub, mul, div).
Its test folders have no ``__init__.py`` so that pytester can run it in-process
beside the real kit (whose ``tests`` package is already imported).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TOY_KIT = Path(__file__).with_name("toy_kit")

collect_ignore = ["toy_kit"]


class Kit:
    """A copy of the toy kit, and ways to run pytest in it."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path
        shutil.copytree(TOY_KIT, self.root, dirs_exist_ok=True)

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest in-process in the kit (the way a learner would, minus a shell)."""
        return self.pytester.runpytest(*args)

    def write_learner(self, source: str) -> None:
        """Replace the learner's code in ``katas/toy/__init__.py``."""
        workspace = self.root / "katas" / "toy"
        workspace.mkdir(parents=True, exist_ok=True)
        (workspace / "__init__.py").write_text(source)

    def solve(self) -> None:
        """Put the reference in the learner's place."""
        self.write_learner((self.root / "solutions" / "toy" / "__init__.py").read_text())

    @property
    def progress(self) -> Path:
        return self.root / ".kata" / "progress.json"


@pytest.fixture
def kit(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Kit:
    monkeypatch.delenv("KATA_HOME", raising=False)
    return Kit(pytester)
