"""``kata watch F``: rerun the current stage on every save, with the clock on screen.

Each run is a full stage run in a fresh process, the very command a learner
types plus a report file: ``python -m pytest --stage N katas/F -p
no:cacheprovider --kata-report=FILE``. It records progress exactly as that
command does, and a learner's infinite loop or crash ends that process, never
the watcher. A run has a time limit; a save during a run stops it (a stopped
run records nothing, as a pytest run interrupted by Ctrl-C) and starts another.

Two threads feed one queue that the main thread reads: file events from
``watchfiles`` (debounced; only ``.py`` files, so editor swap, backup and
temp files never trigger a run) and key presses from the terminal. The main
thread polls the run and refreshes the attempt's clock every second. The
screen is ``rich`` on a terminal (a live panel redrawn in place, specs and
hints printed above it into the scrollback) and plain lines when stdout is
not a terminal.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from dojo.clock import now as clock_now
from dojo.clock import parse_stamp
from dojo.hints import HintLog, next_hint
from dojo.layout import LAST_STAGE, STAGES, Repo
from dojo.report import RunReport, read_report
from dojo.state import Attempts, Progress, kata_home, locked, score, splits
from dojo.summary import StageRow, attempt_line, split_text, stage_table

RUN_LIMIT = 300.0  # seconds a run may take before it is stopped
STOP_GRACE = 3.0  # seconds between asking a run to stop (SIGINT) and killing it
DEBOUNCE_MS = 300  # a burst of saves (an editor writing several files) is one change
STEP_MS = 50  # ...that ends 50 ms after its last event
READY_MS = 100  # a quiet period after which the file watch is surely in place
TICK = 1.0  # seconds between clock refreshes
POLL = 0.05  # seconds between looks at a running run
KEYS = "q quit  r rerun  h hint  s spec  o full output"
PANEL, STATUS = "panel", "status"  # what is new on the panel, for a screen that prints lines


# --- one run in a fresh process ---------------------------------------------------


def pytest_command(family: str, stage: int, report: Path) -> list[str]:
    """The stage run a learner would type, plus the report file."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--stage",
        str(stage),
        f"katas/{family}",
        "-p",
        "no:cacheprovider",
        f"--kata-report={report}",
    ]


@dataclass
class Outcome:
    """How a run ended: its report, or why there is none; its whole output."""

    stage: int
    seconds: float
    report: RunReport | None
    problem: str | None  # set when there is no usable report
    output: str


class Run:
    """One stage run in its own process group, output to a temporary file."""

    def __init__(self, repo: Repo, family: str, stage: int, limit: float) -> None:
        self.stage = stage
        self.limit = limit
        self.folder = Path(tempfile.mkdtemp(prefix="kata-watch-"))
        self.report = self.folder / "report.json"
        self.started = time.monotonic()
        with open(self.folder / "output.txt", "wb") as out:
            # A new session: the terminal's Ctrl-C reaches the watcher, which
            # stops the run itself; the run never reads the learner's keys.
            self.process = subprocess.Popen(
                pytest_command(family, stage, self.report),
                cwd=repo.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def done(self) -> bool:
        return self.process.poll() is not None

    def overdue(self) -> bool:
        return time.monotonic() - self.started > self.limit

    def stop(self) -> None:
        """End the run: SIGINT first (pytest stops and records nothing), then SIGKILL."""
        for sig, wait in ((signal.SIGINT, STOP_GRACE), (signal.SIGKILL, STOP_GRACE)):
            if self.done():
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(wait)

    def outcome(self, problem: str | None = None) -> Outcome:
        """The finished run's outcome; ``problem`` overrides (a run that was stopped)."""
        output = (self.folder / "output.txt").read_text(encoding="utf-8", errors="replace")
        report = None
        if problem is None:
            try:
                report = read_report(self.report)
            except ValueError as exc:
                last = [line for line in output.splitlines() if line.strip()][-1:]
                problem = f"{exc}; it exited with code {self.process.returncode}" + (
                    f": {last[0].strip()}" if last else ""
                )
        return Outcome(self.stage, time.monotonic() - self.started, report, problem, output)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- what feeds the main loop -------------------------------------------------------


Event = tuple[str, Any]  # ("save", [paths]) or ("key", character)


def is_source(path: str) -> bool:
    """Whether a change to ``path`` is a save of learner code: a ``.py`` file that
    is no editor artefact (``.#x.py`` and ``#x.py#`` of Emacs, ``.x.py.swp`` of
    Vim, ``x.py~`` backups, ``x.py___jb_tmp___`` of JetBrains all fail)."""
    name = os.path.basename(path)
    return name.endswith(".py") and not name.startswith((".", "#")) and "__pycache__" not in path


def watch_files(
    workspace: Path, events: queue.Queue[Event], ready: threading.Event, stop: threading.Event
) -> None:
    """Put one ``save`` event per debounced burst of source changes under ``workspace``.

    Watches ``katas/`` rather than ``katas/F``: ``kata reset`` or ``restore``
    in another terminal replaces the folder, and the new one is watched too.
    Sets ``ready`` once the watch is in place (its first quiet period), so
    that no save made after the first run started goes unseen.
    """
    import watchfiles

    inside = str(workspace) + os.sep

    def wanted(change: watchfiles.Change, path: str) -> bool:
        return path.startswith(inside) and is_source(path)

    for changes in watchfiles.watch(
        workspace.parent,
        watch_filter=wanted,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=READY_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        ready.set()
        if changes:
            events.put(("save", sorted({path for _, path in changes})))


def read_keys(fd: int, events: queue.Queue[Event], stop: threading.Event) -> None:
    """Put one ``key`` event per character typed on the terminal ``fd``."""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        data = os.read(fd, 64)
        if not data:
            return
        for char in data.decode(errors="ignore"):
            events.put(("key", char.lower()))


@contextlib.contextmanager
def keys_from(stream: TextIO, events: queue.Queue[Event]) -> Iterator[None]:
    """Read single key presses from ``stream`` if it is a terminal, and restore it after.

    cbreak mode: characters arrive one at a time and are not echoed, while
    Ctrl-C still sends SIGINT. The terminal's settings come back however the
    watcher ends (q, Ctrl-C, an exception).
    """
    if not stream.isatty():
        yield
        return
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    stop = threading.Event()
    reader = threading.Thread(target=read_keys, args=(fd, events, stop), daemon=True)
    try:
        tty.setcbreak(fd)
        reader.start()
        yield
    finally:
        stop.set()
        reader.join(1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# --- the screen -----------------------------------------------------------------


Line = tuple[str, str]  # text and a rich style ("" for none)


class Screen(Protocol):
    """Where the watcher shows things: the panel, and lines printed above it."""

    def draw(self, lines: list[Line], new: str) -> None: ...
    def say(self, text: str, style: str = "") -> None: ...
    def markdown(self, text: str) -> None: ...
    def output(self, text: str) -> None: ...


class LiveScreen:
    """A terminal: the panel redrawn in place, everything else printed above it."""

    def __init__(self, console: Any) -> None:
        from rich.live import Live

        self.console = console
        self.live = Live(
            console=console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.shown: list[Line] = []

    def __enter__(self) -> LiveScreen:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def draw(self, lines: list[Line], new: str) -> None:
        if lines == self.shown:
            return
        from rich.console import Group
        from rich.text import Text

        self.shown = lines
        texts = [
            Text(text, style=style, no_wrap=True, overflow="ellipsis") for text, style in lines
        ]
        self.live.update(Group(*texts), refresh=True)

    def say(self, text: str, style: str = "") -> None:
        self.console.print(text, style=style, markup=False, highlight=False)

    def markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console.print(Markdown(text))

    def output(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text.from_ansi(text))


class PlainScreen:
    """Not a terminal: each run's panel printed once, as plain lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __enter__(self) -> PlainScreen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()

    def draw(self, lines: list[Line], new: str) -> None:
        if new == PANEL:
            for text, _ in lines[:-1]:
                self.say(text)
        elif new == STATUS:
            self.say(lines[-2][0])

    def say(self, text: str, style: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def markdown(self, text: str) -> None:
        self.say(text.rstrip("\n"))

    def output(self, text: str) -> None:
        self.say(text.rstrip("\n"))


def screen_for(stream: TextIO) -> LiveScreen | PlainScreen:
    """A live screen on a capable terminal; plain lines when piped or on a dumb one."""
    if not stream.isatty():
        return PlainScreen(stream)
    from rich.console import Console

    console = Console(file=stream)
    if console.is_dumb_terminal:
        return PlainScreen(stream)
    return LiveScreen(console)


# --- the watcher ----------------------------------------------------------------


class Stop(Exception):
    """The learner asked to stop (q), or the process was told to end."""


class Watcher:
    """The state of one ``kata watch F`` session and what each event does to it."""

    def __init__(
        self,
        repo: Repo,
        family: str,
        screen: Screen,
        limit: float = RUN_LIMIT,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        self.repo, self.family, self.screen = repo, family, screen
        self.limit, self.clock = limit, clock
        self.home = kata_home(repo.root)
        self.workspace = repo.workspace(family)
        self.stage = self.current_stage()
        self.run: Run | None = None
        self.last: Outcome | None = None
        self.runs = 0
        self.status = "starting"
        self.message: list[Line] = []
        self.completed = False
        self.told_time_up = False
        self.warned: set[str] = set()

    # -- state read from .kata/ --

    def _warn(self, warning: str | None) -> None:
        if warning and warning not in self.warned:
            self.warned.add(warning)
            self.screen.say(f"Warning: {warning}", "yellow")

    def current_stage(self) -> int:
        progress = Progress(self.home)
        self._warn(progress.warning)
        return progress.unlocked(self.family)

    def attempt(self) -> dict[str, Any] | None:
        attempts = Attempts(self.home)
        self._warn(attempts.warning)
        return attempts.get(self.family)

    def hint_log(self) -> HintLog:
        log = HintLog(self.home)
        self._warn(log.warning)
        return log

    # -- runs --

    def start_run(self, why: str) -> None:
        """Start a run of the current stage, stopping the one going on (it is stale)."""
        self.runs += 1
        self.stage = self.current_stage()
        self.status = f"Run {self.runs} ({why}): running stage {self.stage}..."
        self.redraw(STATUS)  # at once: stopping the stale run may take a moment
        if self.run is not None:
            self.run.close()
        if self.current_stage() != self.stage:  # the stale run passed as it was stopped
            self.stage = self.current_stage()
            self.status = f"Run {self.runs} ({why}): running stage {self.stage}..."
            self.redraw(STATUS)
        self.run = Run(self.repo, self.family, self.stage, self.limit)

    def poll_run(self) -> None:
        run = self.run
        if run is None:
            return
        if run.done():
            outcome = run.outcome()
        elif run.overdue():
            run.stop()
            outcome = run.outcome(
                f"the run took more than {self.limit:g} s and was stopped; it recorded nothing"
            )
        else:
            return
        run.close()
        self.run = None
        self.finished(outcome)

    def finished(self, outcome: Outcome) -> None:
        self.last = outcome
        report = outcome.report
        self.status = f"Run {self.runs} took {outcome.seconds:.1f} s; watching for saves"
        self.message = []
        if report is None:
            self.message.append((f"No result: {outcome.problem}", "red"))
            self.message.append(("o shows the run's full output.", ""))
        else:
            self.message.extend(self._result_lines(report))
        self.redraw(PANEL)
        if report is not None and report.passed and report.recorded:
            self.passed(report)

    def _result_lines(self, report: RunReport) -> list[Line]:
        lines: list[Line] = []
        if report.failures:
            first = report.failures[0]
            lines.append((f"First failure (stage {first.stage}): {first.test}", "bold red"))
            wrapped = textwrap.wrap(first.reason, 76) or [""]
            lines += [(f"  {text}", "red") for text in wrapped[:3]]
            more = len(report.failures) - 1
            if more:
                lines.append((f"...and {more} more failing; o shows the full output.", ""))
        if not report.recorded:
            lines.append(
                (f"Not recorded: {report.why_not or 'the runner did not say why'}", "yellow")
            )
        return lines

    def passed(self, report: RunReport) -> None:
        """Announce a pass: the next spec, or the end of the family with the score."""
        if report.stage < LAST_STAGE and report.unlocked > report.stage:
            nxt = report.unlocked
            spec = self.repo.relative(self.repo.spec(self.family, nxt))
            self.screen.say(
                f"Stage {report.stage} passed! Stage {nxt} is unlocked, its spec is {spec}; "
                f"from now on a save runs stage {nxt}.",
                "bold green",
            )
            self.screen.markdown(self.repo.spec(self.family, nxt).read_text(encoding="utf-8"))
            self.stage = nxt
            self.message = [
                (
                    f"Stage {report.stage} passed! Now on stage {nxt}: the spec is above.",
                    "bold green",
                )
            ]
            self.status = f"Watching for saves to run stage {nxt} (r runs it now)"
            self.redraw()
        elif report.stage == LAST_STAGE:
            self.message = [
                (f"Stage {LAST_STAGE} passed: {self.family} is complete!", "bold green")
            ]
            self.redraw()
            if not self.completed:
                self.completed = True
                self.announce_complete()

    def announce_complete(self) -> None:
        attempt = self.attempt()
        if attempt is not None:
            self.screen.say(
                f"{self.family} complete: {score(attempt['stages'])}/1000 points so far in this "
                f"attempt. `kata finish {self.family}` records it; `kata compare "
                f"{self.family}` sets your code beside the reference.",
                "bold green",
            )
        else:
            self.screen.say(
                f"{self.family} complete. `kata compare {self.family}` sets your code beside "
                f"the reference; `kata start {self.family}` tries it against the clock.",
                "bold green",
            )

    # -- keys --

    def key(self, char: str) -> None:
        if char == "q":
            raise Stop
        if char == "r":
            self.start_run("r pressed")
        elif char == "h":
            self.show_hint()
        elif char == "s":
            self.screen.markdown(
                self.repo.spec(self.family, self.stage).read_text(encoding="utf-8")
            )
            self.redraw()
        elif char == "o":
            if self.last is None:
                self.screen.say("No run has finished yet.")
            else:
                self.screen.output(self.last.output)
            self.redraw()

    def show_hint(self) -> None:
        attempt = self.attempt()
        start = attempt["start"] if attempt is not None else None
        try:
            with locked(self.home):  # read, add one, write: no other change may slip between
                answer = next_hint(
                    self.repo, self.hint_log(), self.family, self.stage, self.clock(), start
                )
        except ValueError as exc:
            self.screen.say(str(exc), "red")
            return
        self.screen.say(answer.title, "bold")
        for hint in answer.hints:
            self.screen.markdown(hint)
        self.redraw()

    # -- the panel --

    def tick(self) -> None:
        """Once a second: the clock, and the deadline said once."""
        attempt = self.attempt()
        if (
            attempt is not None
            and not self.told_time_up
            and self.clock() > parse_stamp(attempt["deadline"])
        ):
            self.told_time_up = True
            self.screen.say(
                f"The time is up: runs from now on are overtime and earn nothing. "
                f"`kata finish {self.family}` closes the attempt.",
                "bold yellow",
            )
        self.redraw(attempt=attempt)

    def redraw(self, new: str = "", attempt: dict[str, Any] | None = None) -> None:
        """Draw the panel; ``new`` says what changed (a plain screen prints only that)."""
        if attempt is None:
            attempt = self.attempt()
        self.screen.draw(self.panel(attempt), new)

    def panel(self, attempt: dict[str, Any] | None) -> list[Line]:
        spec = self.repo.relative(self.repo.spec(self.family, self.stage))
        lines: list[Line] = [(f"kata watch {self.family}: stage {self.stage}, spec {spec}", "bold")]
        report = self.last.report if self.last is not None else None
        rows = report.rows if report is not None else [StageRow(k) for k in STAGES]
        if attempt is not None:  # the split column, as in the runner's table
            split = splits(attempt)
            rows = [replace(r, split=split_text(split[r.stage])) for r in rows]
        for n, text in enumerate(stage_table(rows)):
            state = rows[n - 1].state if n else ""
            lines.append(
                (text, "green" if state == "passed" else "red" if state == "failing" else "")
            )
        lines += self.message
        if attempt is not None:
            hints = self.hint_log().count(self.family, attempt["start"])
            used = f"{hints} hint{'s' if hints != 1 else ''} used"
            lines.append((f"Attempt: {attempt_line(attempt, self.clock())}; {used}", "bold"))
        lines.append((self.status, "dim"))
        lines.append((KEYS, "dim"))
        return lines

    # -- the loop --

    def loop(self, events: queue.Queue[Event]) -> None:
        self.start_run("started")
        next_tick = time.monotonic() + TICK
        while True:
            try:
                kind, value = events.get(timeout=POLL if self.run else TICK)
            except queue.Empty:
                kind, value = "", None
            if kind == "save":
                names = ", ".join(self.repo.relative(Path(p)) for p in value[:3])
                self.start_run(f"saved {names}")
            elif kind == "key":
                self.key(value)
            self.poll_run()
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK
                self.tick()

    def close(self) -> None:
        if self.run is not None:
            self.run.close()
            self.run = None


def _end(signum: int, frame: object) -> None:
    raise Stop


def watch(repo: Repo, family: str, *, limit: float = RUN_LIMIT) -> int:
    """Run ``kata watch`` on ``family`` until q (exit 0) or Ctrl-C (exit 130)."""
    stdout = sys.stdout
    if not repo.workspace(family).exists():
        repo.create_workspace(family)
        print(f"Created katas/{family}/ from the stage-1 starter.", file=stdout)
    events: queue.Queue[Event] = queue.Queue()
    ready, stop = threading.Event(), threading.Event()
    files = threading.Thread(
        target=watch_files, args=(repo.workspace(family), events, ready, stop), daemon=True
    )
    previous = {sig: signal.signal(sig, _end) for sig in (signal.SIGTERM, signal.SIGHUP)}
    code = 0
    screen = screen_for(stdout)
    watcher = Watcher(repo, family, screen, limit)
    try:
        files.start()
        ready.wait(5)
        with keys_from(sys.stdin, events), screen:
            try:
                watcher.loop(events)
            except Stop:
                pass
            except KeyboardInterrupt:
                code = 130
            finally:
                watcher.close()
    finally:
        stop.set()
        files.join(1)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"Stopped watching {family}.", file=stdout)
    return code
