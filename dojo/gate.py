"""Gating a learner run: read the state, refuse a locked stage, create the workspace.

Reads ``.kata/`` without changing it, except to set a damaged file aside (with
a warning that is shown even when the run is then refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dojo.layout import Repo, Target, locked_sentence
from dojo.state import Attempts, Progress, kata_home


@dataclass
class Gate:
    """What a learner run knows from the state when it starts."""

    stage: int
    unlocked: int
    since: str | None  # the family's reset time; a run records only if it is unchanged
    attempt_start: str | None  # the attempt on when the run started, if any
    notices: list[str] = field(default_factory=list)


def gate(repo: Repo, target: Target, stage: int | None, ignore_lock: bool, cwd: Path) -> Gate:
    """Pick the stage (the highest unlocked one by default) and create ``katas/F`` if missing.

    Raises ``pytest.UsageError`` for a locked stage (its message carries any
    warning about damaged state first) or a workspace that cannot be created.
    """
    family, home = target.family, kata_home(repo.root)
    progress, attempts = Progress(home), Attempts(home)
    warnings = [f"Warning: {w}" for w in (progress.warning, attempts.warning) if w]
    unlocked = progress.unlocked(family)
    if stage is None:
        stage = unlocked
    elif stage > unlocked and not ignore_lock:
        sentence = locked_sentence(family, stage, unlocked, repo.command(family, unlocked, cwd))
        raise pytest.UsageError("\n".join([*warnings, sentence]))
    attempt = attempts.get(family)
    result = Gate(
        stage,
        unlocked,
        progress.since(family),
        attempt["start"] if attempt is not None else None,
        warnings,
    )
    if not repo.workspace(family).exists():
        try:
            repo.create_workspace(family)
        except OSError as exc:
            raise pytest.UsageError(
                f"Cannot create {target.label}/ from {repo.relative(repo.starter(family))}/: {exc}"
            ) from None
        result.notices.append(
            f"Created {target.label}/ from the stage-1 starter: write your code in "
            f"{target.label}/__init__.py"
        )
    return result
