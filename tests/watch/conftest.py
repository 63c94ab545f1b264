"""Fixtures for ``kata watch``: the toy kit in a temporary folder, and a terminal.

``kata watch`` runs as a learner runs it, in its own process on a
pseudo-terminal of 80 columns by 24 rows: the test types keys into it, saves
files in ``katas/toy/`` and reads the screen (escape sequences stripped). The
toy kit's per-test timeout is 1 s here, so that an infinite loop costs little.

The stage runs load no other plugin than pytest-timeout
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): the toy kit needs no other, and each one
slows the start of every run.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.conftest import TOY_KIT

HERE = Path(__file__).parent
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
HINTS = """\
# Hints, stage {stage}

## Hint 1

Start from the toy's {stage} spec.

## Hint 2

The operator does it.
"""


def add_hints(root: Path) -> None:
    """Give the toy kit at ``root`` two hints and a debrief per stage."""
    for stage in (1, 2, 3, 4):
        folder = root / "stages" / "toy"
        (folder / f"stage{stage}.hints.md").write_text(HINTS.format(stage=stage))
        (folder / f"stage{stage}.debrief.md").write_text(f"# Debrief {stage}\n\nWell done.\n")


class ToyKit:
    """A copy of the toy kit with hints and debriefs, and a learner to write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(TOY_KIT, root, dirs_exist_ok=True)
        ini = root / "pyproject.toml"
        ini.write_text(ini.read_text().replace("\nkata_timeout = 5", "\nkata_timeout = 1"))
        add_hints(root)

    def write_learner(self, source: str) -> None:
        workspace = self.root / "katas" / "toy"
        workspace.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed into place, as many editors save.
        tmp = workspace / ".__init__.py.swp"
        tmp.write_text(source)
        os.replace(tmp, workspace / "__init__.py")

    def solve(self) -> None:
        self.write_learner((self.root / "solutions" / "toy" / "__init__.py").read_text())

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KATA_HOME", "NO_COLOR", "CI")}
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        env["TERM"] = "xterm-256color"
        # The stage runs load only the plugins the toy kit needs: the other
        # installed ones (anyio, xdist, benchmark, hypothesis' reporting)
        # triple a run's start-up on a busy machine and change nothing here.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env["PYTEST_PLUGINS"] = "pytest_timeout"
        return env


def kata_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from dojo.cli import main; sys.exit(main())", *args]


def _controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A program on a pseudo-terminal: keys in, the screen's text out."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.settings = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            start_new_session=True,
            preexec_fn=_controlling_tty,
        )
        self.raw = bytearray()
        self.mark = 0
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while not self.closed.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            with self.lock:
                self.raw += data

    @property
    def text(self) -> str:
        """Everything shown so far, escape sequences removed."""
        with self.lock:
            raw = bytes(self.raw)
        return ESCAPES.sub(b"", raw).replace(b"\r", b"").decode(errors="replace")

    def expect(self, wanted: str, timeout: float) -> float:
        """Wait until ``wanted`` appears after the last match; the seconds it took."""
        start = time.monotonic()
        while True:
            text = self.text
            found = text.find(wanted, self.mark)
            if found >= 0:
                self.mark = found + len(wanted)
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                tail = text[self.mark :][-1500:]
                raise AssertionError(f"{wanted!r} not shown within {timeout} s; after it:\n{tail}")
            time.sleep(0.02)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 10) -> int:
        return self.process.wait(timeout)

    def restored(self) -> bool:
        """Whether the terminal's settings are back to what they were before."""
        return termios.tcgetattr(self.slave) == self.settings

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.closed.set()
        self.reader.join(1)
        os.close(self.slave)
        os.close(self.master)


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ToyKit:
    monkeypatch.delenv("KATA_HOME", raising=False)
    return ToyKit(tmp_path / "kit")


@pytest.fixture
def terminal(toy: ToyKit) -> Iterator[Terminal]:
    """``kata watch toy`` on a terminal of 80 columns."""
    term = Terminal(kata_argv("watch", "toy"), toy.root, toy.env())
    yield term
    term.close()
