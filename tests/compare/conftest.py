"""Fixtures for ``kata compare`` and ``kata bench``: the toy kit with a learner to write.

The kit is the runner's toy kit in a temporary folder (its family has a tiny
workload in ``tests/toy/workload.py``); ``kata`` runs in-process, the tests and
workloads it starts run in subprocesses, as for a learner.
"""

from __future__ import annotations

import pytest

from tests.cli.conftest import Dojo


@pytest.fixture
def kit(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Dojo:
    monkeypatch.delenv("KATA_HOME", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return Dojo(pytester, monkeypatch, capsys)
