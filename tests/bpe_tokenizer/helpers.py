"""Helpers of the bpe_tokenizer tests: calls whose failures name the call and the rule,
and the random texts the property tests draw."""

from __future__ import annotations

import reprlib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from dojo.testing import example_tables, same

# Random texts: a few letters (ties at almost every step), ASCII with
# punctuation, accented letters, CJK and emoji (2-, 3- and 4-byte characters),
# and any text at all (without lone surrogates, which have no UTF-8).
SMALL = st.text(st.sampled_from("ab "), max_size=40)
MIXED = st.text(
    st.sampled_from([*"abc ,'\n1", "é", "ü", "ñ", "東", "京", "語", "😀", "🎉", "€"]), max_size=60
)
ANY = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
TEXTS = st.one_of(SMALL, MIXED, ANY)
VOCAB_SIZES = st.integers(256, 256 + 40)

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = 24
_short.maxtuple = 24
_short.maxdict = 12
_short.maxset = 12


def show(value: object) -> str:
    """``repr`` cut to a readable length (texts of a megabyte stay one line)."""
    return _short.repr(value)


def render(name: str, args: tuple, kwargs: dict[str, Any]) -> str:
    """How messages name a call: ``train('aaa', 300, pattern=None)``.

    ``name`` is the callee (``t.encode``), or a template whose ``(...)`` the
    arguments fill (``Tokenizer.train(...).merges``), or a description already
    complete, marked by a ``;`` after it (``t.merges; getattr``: the arguments
    are not shown).
    """
    shown = ", ".join([show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()])
    text, complete, _ = name.partition(";")
    if "(...)" in text:
        return text.replace("(...)", f"({shown})", 1)
    return text if complete else f"{text}({shown})"


def raised(exc: BaseException) -> str:
    """``ValueError: bad (at katas/bpe_tokenizer/__init__.py:42, in encode)``: the
    exception and the innermost frame it came from."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return f"{type(exc).__name__}: {exc}"
    last = frames[-1]
    path = Path(last.filename)
    shown = "/".join(path.parts[-3:]) if len(path.parts) >= 3 else last.filename
    return f"{type(exc).__name__}: {exc} (at {shown}:{last.lineno}, in {last.name})"


def expect(name: str, fn: Callable[..., Any], *args: Any, result: Any, rule: str, **kwargs: Any):
    """Call ``fn(*args, **kwargs)``; it must return exactly ``result`` (same value and types).

    ``name`` is how the message names the call (``t.encode``); ``rule`` is
    quoted on failure. Returns what the call returned.
    """
    call = render(name, args, kwargs)
    try:
        actual = fn(*args, **kwargs)
    except NotImplementedError:
        raise  # the runner reports a stub as "not implemented"
    except Exception as exc:  # the learner's exception, named in the message
        failure = f"{call} raised {raised(exc)}; expected {show(result)} ({rule})"
    else:
        if same(actual, result):
            return actual
        failure = f"{call} returned {show(actual)}; expected {show(result)} ({rule})"
    pytest.fail(failure, pytrace=False)


def expect_raises(
    name: str,
    fn: Callable[..., Any],
    *args: Any,
    error: type[BaseException],
    rule: str,
    **kwargs: Any,
) -> BaseException:
    """Call ``fn(*args, **kwargs)``; it must raise ``error`` (or a subclass) with a message."""
    call = render(name, args, kwargs)
    try:
        actual = fn(*args, **kwargs)
    except error as exc:
        if str(exc):
            return exc
        failure = f"{call} raised {error.__name__} with no message ({rule})"
    except NotImplementedError:
        raise
    except Exception as exc:
        failure = f"{call} raised {raised(exc)}; expected {error.__name__} ({rule})"
    else:
        failure = f"{call} returned {show(actual)}; expected {error.__name__} ({rule})"
    pytest.fail(failure, pytrace=False)


def check(condition: bool, message: str) -> None:
    """``assert condition, message`` that reads as a failure of the code under test."""
    if not condition:
        pytest.fail(message, pytrace=False)


def spec_examples(stage: int) -> list[Any]:
    """One ``pytest.param`` per example table of ``stageN.md``, without a stage mark:
    the test file's ``pytestmark`` gives it (``all_example_tables`` adds a second one)."""
    return [pytest.param(t, id=t.id) for t in example_tables("bpe_tokenizer", stage)]
