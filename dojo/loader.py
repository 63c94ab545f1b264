"""Import a family package (learner, reference or starter) from its folder.

The implementation under test is chosen by the path given to pytest, never by
``sys.path``: the folder is imported under a name of our choosing, fresh for
each session. Import faults in learner code become one ``ImplementationError``
with a one-line reason, raised inside the test that first touches the code, so
a syntax error fails tests instead of crashing the run.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType


class ImplementationError(Exception):
    """The code under test could not be imported; the message says why."""


class MissingName(AttributeError):
    """The code under test lacks a public name the tests use."""


def load_package(folder: Path, name: str, label: str) -> ModuleType:
    """Import ``folder/__init__.py`` as the package ``name``.

    Any earlier module of that name (and its submodules) is dropped first, so
    a second load in one process sees the files as they are now. ``label`` is
    how messages name the folder (e.g. ``katas/inmem_db``).

    Raises ``ImplementationError`` with a one-line reason for a missing file, a
    syntax error (file and line), an exception or ``sys.exit`` at import time.
    """
    init = folder / "__init__.py"
    if not init.is_file():
        raise ImplementationError(f"{label}/__init__.py not found: the code under test goes there")
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        where = _relative(Path(exc.filename or init), folder, label)
        raise ImplementationError(
            f"cannot import {label}: SyntaxError at {where}:{exc.lineno}: {exc.msg}"
        ) from None
    except SystemExit as exc:
        del sys.modules[name]
        raise ImplementationError(
            f"cannot import {label}: it called sys.exit({exc.code!r}) while being imported"
        ) from None
    except Exception as exc:
        del sys.modules[name]
        raise ImplementationError(
            f"cannot import {label}: {type(exc).__name__} at {_origin(exc, folder, label)}: {exc}"
        ) from None
    except BaseException:  # the kit's timer, os._exit: they pass through, half-imported module gone
        del sys.modules[name]
        raise
    return module


def _relative(path: Path, folder: Path, label: str) -> str:
    try:
        return f"{label}/{path.resolve().relative_to(folder.resolve()).as_posix()}"
    except ValueError:
        return str(path)


def _origin(exc: BaseException, folder: Path, label: str) -> str:
    """``file:line`` of the deepest traceback frame inside ``folder``."""
    inside = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if Path(frame.filename).resolve().is_relative_to(folder.resolve())
    ]
    if not inside:
        return label
    return f"{_relative(Path(inside[-1].filename), folder, label)}:{inside[-1].lineno}"


class Implementation:
    """The family package under test, imported on first attribute access.

    Tests receive this through the ``impl`` fixture and write
    ``impl.InMemoryDB(...)``. Importing lazily puts an import fault inside the
    test that needs the code, where it fails that test with its reason.
    """

    def __init__(self, folder: Path, name: str, label: str) -> None:
        self._folder = folder
        self._name = name
        self._label = label
        self._module: ModuleType | None = None
        self._error: ImplementationError | None = None

    def __repr__(self) -> str:
        return f"<implementation {self._label}>"

    @property
    def module(self) -> ModuleType:
        """The imported package; an import fault is raised again on every access."""
        if self._error is not None:
            raise ImplementationError(str(self._error))
        if self._module is None:
            try:
                self._module = load_package(self._folder, self._name, self._label)
            except ImplementationError as exc:
                self._error = exc
                raise
        return self._module

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        module = self.module
        try:
            return getattr(module, attr)
        except AttributeError:
            raise MissingName(
                f"{self._label} defines no {attr!r}: the spec asks for it in __init__.py"
            ) from None
