"""The backstop of a kit run: a separate process that ends a test the timer cannot.

The per-test timer (``dojo.timeout``) needs the test's cooperation: a loop in
C holds the interpreter and never runs a signal handler, and code can ignore
``SIGALRM``. The process that runs the tests starts this watchdog
(:class:`Watchdog`) and tells it, over a pipe, when each test starts (with
its limit) and how each one ended. If a test is still running a grace
period after its limit (half the limit, from 1 to 5 s), the watchdog prints
the table of what ran, names the test, and kills the run (``SIGKILL``):
nothing is recorded, and the exit status is non-zero. When the run ends
normally the pipe closes and the watchdog exits.

Run as ``python -m dojo.watchdog PID``; it reads lines ``start SECONDS
NODEID``, ``end STAGE STATE NODEID`` and ``bye``.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import defaultdict

from dojo.summary import StageRow, stage_table


def grace(limit: float) -> float:
    """How long past its limit a test may run before the watchdog ends the run."""
    return max(1.0, min(5.0, limit / 2))


class Watchdog:
    """The run's side of the pipe. Every method is a no-op once the watchdog is gone."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dojo.watchdog", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is the run's, not its
            )
        except OSError:
            self.process = None

    def _send(self, line: str) -> None:
        if self.process is None or self.process.stdin is None:
            return
        try:
            self.process.stdin.write((line.replace("\n", " ") + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            self.process = None

    def start(self, seconds: float, nodeid: str) -> None:
        self._send(f"start {seconds} {nodeid}")

    def end(self, stage: int, state: str, nodeid: str) -> None:
        self._send(f"end {stage} {state.replace(' ', '_')} {nodeid}")

    def close(self) -> None:
        """The run is over: the watchdog exits."""
        self._send("bye")
        if self.process is not None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


def _table(ended: dict[int, dict[str, int]]) -> list[str]:
    rows = []
    for stage in sorted(ended):
        counts = ended[stage]
        total = sum(counts.values())
        passed, not_impl = counts.get("passed", 0), counts.get("not_implemented", 0)
        rows.append(StageRow(stage, passed, total - passed - not_impl, not_impl, total, "ran"))
    return stage_table(rows) if rows else ["(no test had finished)"]


def watch(parent: int) -> int:
    """Watch the run of process ``parent`` until it says bye or its pipe closes."""
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.buffer, selectors.EVENT_READ)
    ended: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    running: tuple[float, float, str] | None = None  # deadline, limit, nodeid
    buffer = b""
    while True:
        wait = None if running is None else max(0.0, running[0] - time.monotonic())
        if selector.select(wait):
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                return 0
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                verb, _, rest = line.decode().partition(" ")
                if verb == "bye":
                    return 0
                if verb == "start":
                    seconds, _, nodeid = rest.partition(" ")
                    limit = float(seconds)
                    running = (time.monotonic() + limit + grace(limit), limit, nodeid)
                elif verb == "end":
                    stage, state, _ = rest.split(" ", 2)
                    ended[int(stage)][state] += 1
                    running = None
        elif running is not None and time.monotonic() >= running[0]:
            _, limit, nodeid = running
            lines = [
                "",
                f"kata: {nodeid} ran past its {limit:g} s limit and ignored the timer for "
                f"{grace(limit):g} s more (a loop in C code, or a SIGALRM handler replaced).",
                "The run was stopped; it recorded nothing. What ran before it:",
                *_table(ended),
            ]
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()
            with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
                os.kill(parent, signal.SIGKILL)
            return 1


if __name__ == "__main__":
    sys.exit(watch(int(sys.argv[1])))
