"""One-line reasons for the faults of code under test.

A learner's stub, syntax error, missing name, infinite loop or exit fails the
test that met it with one line saying what happened and where, instead of a
traceback through the runner or hypothesis.
"""

from __future__ import annotations

from dojo.loader import ImplementationError, MissingName
from dojo.timeout import KataTimeout, Perf


class KataExit(BaseException):
    """Raised in place of ``os._exit``, which would end the whole run silently."""

    def __init__(self, status: object) -> None:
        super().__init__(status)
        self.status = status


NOT_IMPLEMENTED = "not implemented"
TIMEOUT = "timeout"
EXIT = "exit"
IMPORT = "import"


def fault(exc: BaseException, perf: Perf | None) -> tuple[str, str] | None:
    """``(kind, reason)`` for a fault with a one-line explanation, else None.

    ``perf`` is the failing test's ``perf`` mark, if it has one. Hypothesis
    may report several failures as an exception group; it is one fault when
    all of them are the same.
    """
    inner = getattr(exc, "exceptions", None)
    if inner:
        kinds = {fault(e, perf) for e in inner}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(exc, NotImplementedError):
        return NOT_IMPLEMENTED, f"not implemented: {exc}" if str(exc) else "not implemented"
    if isinstance(exc, KataTimeout):
        return TIMEOUT, timeout_reason(exc, perf)
    if isinstance(exc, SystemExit):
        return EXIT, f"the code under test called sys.exit({exc.code!r})"
    if isinstance(exc, KataExit):
        return EXIT, f"the code under test called os._exit({exc.status!r})"
    if isinstance(exc, ImplementationError | MissingName):
        return IMPORT, str(exc)
    return None


def timeout_reason(exc: KataTimeout, perf: Perf | None) -> str:
    """Why a test ran out of time: workload and designs for a perf test, else a loop."""
    if exc.where:
        where = f" Your code was in {exc.where} when the {exc.seconds:g} s limit passed."
        after = ""
    else:
        where, after = "", f" after {exc.seconds:g} s"
    if exc.shortened:
        where += " (The limit is short because earlier tests of this run timed out too.)"
    if perf is not None:
        return (
            f"too slow{after}: {perf.workload}; the reference takes {perf.reference}; "
            f"{perf.naive}.{where}"
        )
    return f"timed out{after}: this looks like an infinite loop.{where}"
