"""The public names each stage of a family adds, as its ``tests/F/api.py`` declares them."""

from __future__ import annotations

import importlib

from dojo.layout import STAGES

Api = dict[int, dict[str, frozenset[str]]]


def stage_api(family: str) -> Api:
    """``STAGE_API`` of ``tests/F/api.py``: the public names each stage adds."""
    return importlib.import_module(f"tests.{family}.api").STAGE_API


def later_names(family: str, stage: int) -> set[str]:
    """The public names stages after ``stage`` add, minus those it already has."""
    api = stage_api(family)

    def names(stages: list[int]) -> set[str]:
        return {n for s in stages for name, added in api[s].items() for n in (name, *added)}

    return names([s for s in STAGES if s > stage]) - names([s for s in STAGES if s <= stage])
