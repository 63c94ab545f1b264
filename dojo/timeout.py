"""The per-test time limit of a kit run, and where the code under test was when it passed.

In a run on ``katas/F`` or ``solutions/F`` the kit owns the limit: options that
would loosen it make the run practice (see ``dojo.practice``), and the limit
itself comes from the kind of test, not from pytest-timeout's settings. The
kit's ini file declares the figures (``kata_timeout``, ``kata_perf_timeout``,
``kata_short_timeout``):

- a test with the ``perf`` mark: ``kata_perf_timeout``, the size tests' budget;
- a test with a ``timeout(N)`` mark (the state machines, which need room to
  shrink a counterexample): N;
- any other test: ``kata_timeout``;
- once ``SHORT_AFTER`` tests of the run have timed out, every later test gets
  ``kata_short_timeout``, and a ``perf`` test a third of its budget: the code
  under test has an infinite loop, and every test that reaches it would
  otherwise wait the full limit (the report says the limit was shortened and
  why).

The timer is ``SIGALRM`` (POSIX), raising :class:`KataTimeout`, a
``BaseException`` that hypothesis does not catch; it fires again every
``RETIMEOUT`` seconds, so code that swallows it (a bare ``except:`` in a loop)
cannot hang the run either. Code that the signal cannot reach (a loop in C,
a handler replaced) is the watchdog's (``dojo.watchdog``).
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

SHORT_AFTER = 2
PERF_SHORTENED = 3  # after SHORT_AFTER timeouts a perf test gets a third of its budget
RETIMEOUT = 1.0
# Callbacks whose exceptions Python reports as "ignored" instead of raising:
# hypothesis times the garbage collector with a gc callback.
UNRAISABLE = frozenset({"gc_callback", "__del__"})
INI = {
    "kata_timeout": ("2", "seconds a kit test may take (the kit's limit, not pytest-timeout's)"),
    "kata_perf_timeout": ("10", "seconds a test with the perf mark may take"),
    "kata_short_timeout": ("0.25", "the limit of the tests after SHORT_AFTER timeouts in one run"),
}


def add_ini(parser: pytest.Parser) -> None:
    for name, (default, help) in INI.items():
        parser.addini(name, help, default=default)


class KataTimeout(BaseException):
    """Raised by the per-test timer: ``seconds`` passed; ``where`` is the code under test's frame.

    A ``BaseException`` on purpose: hypothesis catches ``Exception`` (and
    pytest's ``Failed``) to shrink and replay a failing example, which would
    re-enter an infinite loop forever. This one passes straight through it.
    """

    def __init__(self, seconds: float, where: str | None, shortened: bool) -> None:
        super().__init__(seconds, where, shortened)
        self.seconds = seconds
        self.where = where
        self.shortened = shortened


@dataclass(frozen=True)
class Perf:
    """What a ``perf`` mark declares: the workload and the figures to print on a timeout."""

    workload: str
    reference: str
    naive: str


def perf_of(item: pytest.Item) -> Perf | None:
    """The test's ``perf`` mark, or None for a test that is not a performance test."""
    mark = item.get_closest_marker("perf")
    if mark is None:
        return None
    return Perf(**{k: str(mark.kwargs.get(k, "")) for k in ("workload", "reference", "naive")})


class Limits:
    """The limits of one run: per kind of test, shortened after repeated timeouts."""

    def __init__(self, config: pytest.Config) -> None:
        self.plain, self.perf, self.short = (float(config.getini(name)) for name in INI)
        self.timeouts = 0

    def shortened(self, item: pytest.Item) -> bool:
        """Whether earlier timeouts of this run shortened this test's limit."""
        return self.timeouts >= SHORT_AFTER

    def seconds(self, item: pytest.Item) -> float:
        """The limit of ``item`` in this run."""
        if perf_of(item) is not None:
            # A third of the budget still leaves the references three times their need.
            return self.perf / PERF_SHORTENED if self.shortened(item) else self.perf
        if self.shortened(item):
            return self.short
        mark = item.get_closest_marker("timeout")
        if mark is not None and mark.args:
            return float(mark.args[0])
        return self.plain


def frame_in(frame: FrameType | None, folder: Path) -> str | None:
    """``function(), file:line`` of the innermost frame of code under ``folder``."""
    root = folder.resolve()
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_absolute() and path.resolve().is_relative_to(root):
            where = path.resolve().relative_to(root.parent.parent).as_posix()
            return f"{frame.f_code.co_name}(), {where}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class Timer:
    """The ``SIGALRM`` timer of the test running now (main thread only)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder  # the code under test, whose frame a timeout names
        self.armed = False

    def start(self, left: float, limit: float, shortened: bool) -> None:
        """Raise KataTimeout(limit) in ``left`` seconds, then every RETIMEOUT seconds."""
        if threading.current_thread() is not threading.main_thread():
            return

        def on_alarm(signum: int, frame: FrameType | None) -> None:
            if frame is not None and frame.f_code.co_name in UNRAISABLE:
                return  # raised here it would be swallowed and printed; the repeat comes soon
            where = frame_in(frame, self.folder) if self.folder is not None else None
            raise KataTimeout(limit, where, shortened)

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, left, RETIMEOUT)
        self.armed = True

    def stop(self) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            self.armed = False
