"""Fixtures of the cloud_storage tests: a storage whose calls are checked with
messages that name them, and the argument checks every method shares.

Every check names the call with its arguments, what came back, what was
expected and the rule (issue 12): ``add_file('a', True) returned True;
expected TypeError (sizes are int, and bool is not an int)``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from dojo.testing import same

# The kinds of arguments, by the rules of the specs: what each refuses.
NOT_STR = (1, None, b"a", ["a"], 1.5)
NOT_INT = (True, False, 1.0, "1", None)
BAD_TYPES = {"name": NOT_STR, "text": NOT_STR, "size": NOT_INT, "count": NOT_INT}
BAD_VALUES: dict[str, tuple[Any, ...]] = {
    "name": ("",),
    "text": (),
    "size": (-1,),
    "count": (0, -1),
}
RULES = {
    "name": "names and user ids are non-empty str",
    "text": "prefixes and suffixes are str, possibly empty",
    "size": "sizes and capacities are int >= 0, and bool is not an int",
    "count": "n is an int >= 1, and bool is not an int",
}

# The parameters of each method, with their kinds.
SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "add_file": (("name", "name"), ("size", "size")),
    "get_file_size": (("name", "name"),),
    "delete_file": (("name", "name"),),
    "copy_file": (("source", "name"), ("target", "name")),
    "find_files": (("prefix", "text"), ("suffix", "text")),
    "largest_files": (("prefix", "text"), ("n", "count")),
    "add_user": (("user_id", "name"), ("capacity", "size")),
    "add_file_by": (("user_id", "name"), ("name", "name"), ("size", "size")),
    "update_capacity": (("user_id", "name"), ("capacity", "size")),
    "merge_user": (("target_id", "name"), ("source_id", "name")),
    "backup_user": (("user_id", "name"),),
    "restore_user": (("user_id", "name"),),
}


def render(method: str, args: Sequence[object]) -> str:
    """``add_file('a', 1)``: the call as a learner would type it."""
    return f"{method}({', '.join(map(repr, args))})"


class Checked:
    """One ``CloudStorage`` of the code under test; each call is checked with a
    message that names it. ``storage`` is the object itself."""

    def __init__(self, storage: object) -> None:
        self.storage = storage

    render = staticmethod(render)

    def call(self, method: str, *args: object) -> Any:
        return getattr(self.storage, method)(*args)

    def expect(
        self, method: str, *args: object, returns: object, rule: str, exact: bool = True
    ) -> None:
        """The call returns ``returns``: the same value and, if ``exact``, the same type
        (an int subclass given as a size may come back as itself)."""
        actual = self.call(method, *args)
        assert same(actual, returns) if exact else actual == returns, (
            f"{render(method, args)} returned {actual!r}; expected {returns!r} ({rule})"
        )

    def refuses(
        self, error: type[Exception], method: str, *args: object, rule: str, names: str = ""
    ) -> None:
        """The call raises ``error``, with a message (that contains ``names``: the
        argument at fault)."""
        call = render(method, args)
        try:
            actual = self.call(method, *args)
        except error as exc:
            assert str(exc), f"{call} raised {error.__name__} with no message; say what was wrong"
            assert re.search(rf"\b{re.escape(names)}\b", str(exc)), (
                f"{call} raised {error.__name__}({str(exc)!r}); the message must name the "
                f"argument at fault, {names!r}"
            )
            return
        except NotImplementedError:
            raise
        except Exception as exc:  # any other exception is the failure to report
            pytest.fail(
                f"{call} raised {type(exc).__name__}({exc}); expected {error.__name__} ({rule})",
                pytrace=False,
            )
        pytest.fail(
            f"{call} returned {actual!r}; expected {error.__name__} ({rule})", pytrace=False
        )

    def changes_nothing(
        self, method: str, args: Sequence[object], error: type[Exception], observe: Callable
    ) -> None:
        """The call, expected to raise ``error``, leaves ``observe(self)`` as it was."""
        before = observe(self)
        with contextlib.suppress(TypeError, ValueError):
            self.call(method, *args)
        after = observe(self)
        assert after == before, (
            f"{render(method, args)} changed what the storage holds from {before} to {after}; "
            f"expected {error.__name__} and no change (a rejected call changes nothing)"
        )

    def given(self, **sizes: int) -> Checked:
        """Store files of the given sizes with add_file; the setup is checked too."""
        for name, size in sizes.items():
            self.expect("add_file", name, size, returns=True, rule="setup: a new name is stored")
        return self

    def room(self, user_id: str) -> object:
        """The user's remaining capacity, read by adding and deleting a file of size 0
        (None if there is no such user)."""
        probe = "\x00room probe"
        room = self.call("add_file_by", user_id, probe, 0)
        if room is not None:
            self.expect("delete_file", probe, returns=0, rule="setup: the probe is deleted")
        return room


@pytest.fixture
def new_storage(impl) -> Callable[[], Checked]:
    """Makes an empty ``CloudStorage`` of the code under test, checked.

    Tests call it in their body, so that a constructor that raises fails the
    test itself rather than its setup.
    """
    return lambda: Checked(impl.CloudStorage())


# --- the argument checks every method shares -----------------------------------


def bad_calls(method: str, args: Sequence[object]) -> list[tuple[tuple, type[Exception], str, str]]:
    """Each argument in turn replaced by one of a wrong type (TypeError) or of
    the right type and a refused value (ValueError): ``(args, error, rule,
    parameter)``."""
    calls = []
    for position, (parameter, kind) in enumerate(SIGNATURES[method]):
        for error, bads in ((TypeError, BAD_TYPES[kind]), (ValueError, BAD_VALUES[kind])):
            for bad in bads:
                bad_args = (*args[:position], bad, *args[position + 1 :])
                calls.append((bad_args, error, RULES[kind], parameter))
    return calls


def types_before_values_calls(method: str, args: Sequence[object]) -> list[tuple[tuple, str, str]]:
    """One argument of a wrong type, every other one of a refused value where
    its kind has one: ``(args, rule, parameter)``; each must raise TypeError
    naming that parameter."""
    kinds = [kind for _, kind in SIGNATURES[method]]
    worst = [BAD_VALUES[k][0] if BAD_VALUES[k] else a for k, a in zip(kinds, args, strict=True)]
    calls = []
    for position, (parameter, kind) in enumerate(SIGNATURES[method]):
        if any(BAD_VALUES[k] for i, k in enumerate(kinds) if i != position):
            for bad in BAD_TYPES[kind]:
                bad_args = (*worst[:position], bad, *worst[position + 1 :])
                calls.append((bad_args, RULES[kind], parameter))
    return calls


@pytest.fixture
def rejected_calls() -> Callable[[str, Sequence[object]], list]:
    """``rejected_calls(method, args)``: see :func:`bad_calls`."""
    return bad_calls


@pytest.fixture
def type_first_calls() -> Callable[[str, Sequence[object]], list]:
    """``type_first_calls(method, args)``: see :func:`types_before_values_calls`."""
    return types_before_values_calls
