"""The hypothesis profiles of the kit.

Hypothesis profiles cannot be written in ``pyproject.toml``, so they live
here. ``dojo``: no deadline (machines are noisy), bounded examples, one bug at
a time; ``dojo-ci``: the same, derandomized, for CI and timed attempts (a rerun
must not pass by luck). ``--hypothesis-profile`` still overrides (and makes a
learner run practice).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, settings


def load(config: pytest.Config, derandomize: bool) -> None:
    """Load ``dojo-ci`` when derandomizing (or under CI), else ``dojo``."""
    if config.getoption("hypothesis_profile", None):
        return
    # One bug at a time: a learner reads one shrunk counterexample, and
    # shrinking several distinct failures multiplies the time it takes. No
    # explain phase: on a stub that always fails it costs seconds per test.
    # The parent is hypothesis' default, not the profile loaded now, which may
    # be dojo-ci from an earlier in-process run.
    settings.register_profile(
        "dojo",
        settings.get_profile("default"),
        deadline=None,
        max_examples=50,
        print_blob=False,
        report_multiple_bugs=False,
        phases=[p for p in Phase if p is not Phase.explain],
    )
    settings.register_profile("dojo-ci", settings.get_profile("dojo"), derandomize=True)
    settings.load_profile("dojo-ci" if derandomize or os.environ.get("CI") else "dojo")
