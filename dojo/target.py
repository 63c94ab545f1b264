"""Which code a run tests: the family path among pytest's arguments.

``katas/F`` names the learner's code, ``solutions/F`` the reference; any other
path is a plain run against the reference. Beside a family path the arguments
may name tests of that family only (``tests/F/test_stage1.py::test_x``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo.layout import Repo, Target


def resolve(config: pytest.Config, repo: Repo) -> tuple[Target | None, list[str]]:
    """The family path among the arguments, if any, and the tests it selects.

    Raises ``pytest.UsageError`` for a path that names no known family, a node
    id on a family path, two family paths, or a family path beside anything
    but tests of that family.
    """
    families = repo.families()
    known = ", ".join(families) or "none"
    targets: set[Target] = set()
    others: dict[str, tuple[str, ...]] = {}
    for arg in config.args:
        path_part, _, node = arg.partition("::")
        path = Path(config.invocation_params.dir, path_part).resolve()
        try:
            parts = path.relative_to(repo.root).parts
        except ValueError:
            parts = ()
        if not parts or parts[0] not in ("katas", "solutions"):
            others[arg] = parts
            continue
        if len(parts) == 1:
            raise pytest.UsageError(
                f"Name one family: pytest {parts[0]}/{families[0] if families else 'F'} "
                f"(families: {known})"
            )
        if parts[1] not in families:
            raise pytest.UsageError(f"Unknown family {parts[1]!r} in {arg!r}; families: {known}")
        target = Target(parts[1], parts[0] == "katas")
        if node:
            raise pytest.UsageError(
                f"{arg!r}: a family path takes no node id. To run some tests, add -k "
                f"NAME, or name them: pytest {target.label} tests/{target.family}/FILE::TEST"
            )
        targets.add(target)
    if not targets:
        return None, []
    target = min(targets, key=str)
    stray = [arg for arg, parts in others.items() if parts[:2] != ("tests", target.family)]
    if len(targets) > 1 or stray:
        named = ", ".join(sorted(config.args))
        raise pytest.UsageError(
            f"One family path per run, beside only tests of that family: got {named}. "
            f"Run each family separately, e.g. pytest --stage 1 {target.label}"
        )
    return target, list(others)
