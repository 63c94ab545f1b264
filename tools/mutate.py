"""Mutation testing of one family's reference with mutmut 3.

Usage, from the kit's root, with mutmut installed in the venv
(``.venv/bin/pip install mutmut``)::

    .venv/bin/python tools/mutate.py inmem_db                    # a fresh full run
    .venv/bin/python tools/mutate.py inmem_db results            # the survivors
    .venv/bin/python tools/mutate.py inmem_db show NAME          # one mutant's diff
    .venv/bin/python tools/mutate.py inmem_db run NAME [NAME...] # rerun some (after new tests)

mutmut 3 mutates a copy of the project (its ``mutants/`` folder) and reads its
settings from the ``[tool.mutmut]`` table of ``pyproject.toml`` in the folder it
runs in. One family at a time needs its own settings, so this script builds
``build/mutmut/F/`` (ignored by git): a copy of the kit's files the tests need
(``pyproject.toml`` with a ``[tool.mutmut]`` table for F appended,
``conftest.py``, ``dojo/``, ``stages/``, ``tests/``, ``solutions/F/``), and runs
mutmut there. A full run starts from a fresh copy; the other commands refresh
``tests/``, ``stages/`` and ``dojo/`` first, so ``run NAME`` after adding a test
checks the mutant against the test as it is now.

What runs: the family's tests, ``tests/F``, against ``solutions/F`` (the path
the runner maps to the reference), without the tests marked ``perf`` (each
mutant runs only the tests that call the mutated function; the size tests
would multiply the time without killing anything the small tests miss).
Hypothesis runs derandomized (``CI=1``), so a verdict does not depend on luck.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("conftest.py", "dojo", "stages", "tests")


def settings(family: str) -> str:
    """The ``[tool.mutmut]`` table for ``family``."""
    return f"""

[tool.mutmut]
source_paths = ["solutions/{family}"]
also_copy = ["conftest.py", "dojo", "stages"]
pytest_add_cli_args_test_selection = ["tests/{family}", "-m", "not perf"]
pytest_add_cli_args = ["-p", "no:cacheprovider"]
"""


def prepare(family: str, fresh: bool) -> Path:
    """Build (or refresh) ``build/mutmut/F``, and return it."""
    work = ROOT / "build" / "mutmut" / family
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for name in COPIED:
        source, target = ROOT / name, work / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=ignore)
            # mutmut copies these into mutants/ only when it creates it
            if (work / "mutants").is_dir():
                shutil.rmtree(work / "mutants" / name, ignore_errors=True)
                shutil.copytree(source, work / "mutants" / name, ignore=ignore)
        else:
            shutil.copy2(source, target)
            if (work / "mutants").is_dir():
                shutil.copy2(source, work / "mutants" / name)
    solution = work / "solutions" / family
    if not solution.is_dir():
        shutil.copytree(ROOT / "solutions" / family, solution, ignore=ignore)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(pyproject + settings(family), encoding="utf-8")
    return work


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    family, command = argv[0], argv[1:] or ["run"]
    if not (ROOT / "solutions" / family / "__init__.py").is_file():
        print(f"no reference solutions/{family}/__init__.py", file=sys.stderr)
        return 2
    names = [arg for arg in command[1:] if not arg.startswith("-") and not arg.isdigit()]
    work = prepare(family, fresh=command[0] == "run" and not names)
    mutmut = Path(sys.executable).with_name("mutmut")
    env = {**os.environ, "CI": "1"}
    return subprocess.call([str(mutmut), *command], cwd=work, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
