"""Fixtures for the ``kata`` command's tests: a toy kit and a clock to set.

The kit is the runner's toy kit (``tests/runner/toy_kit``) in a temporary
folder; pytest runs in it happen in-process, as in the runner's tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import hypothesis
import pytest

from dojo.cli import main
from dojo.state import stamp
from tests.runner.conftest import Kit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Dojo(Kit):
    """The toy kit, the ``kata`` command and pytest, all at a time the test sets."""

    def __init__(
        self,
        pytester: pytest.Pytester,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        super().__init__(pytester)
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.at(0)

    def at(self, minutes: float) -> None:
        """Set the clock of both kata and pytest to ``minutes`` after T0."""
        self.now = T0 + timedelta(minutes=minutes)
        self.monkeypatch.setenv("KATA_NOW", stamp(self.now))

    def kata(self, *argv: str) -> tuple[int, str, str]:
        """Run ``kata ARGV`` in the kit: (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        code = main(list(argv), clock=lambda: self.now)
        out, err = self.capsys.readouterr()
        return code, out, err

    @property
    def home(self) -> Path:
        return self.root / ".kata"


@pytest.fixture
def dojo(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Dojo]:
    monkeypatch.delenv("KATA_HOME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    # In-process runs during an attempt load the derandomized profile; the
    # tests after this one get back the profile they ran with.
    profile = hypothesis.settings.get_current_profile_name()
    yield Dojo(pytester, monkeypatch, capsys)
    hypothesis.settings.load_profile(profile)
