"""The learner's progress in ``.kata/`` (``KATA_HOME`` relocates it).

This module owns every file under ``.kata/``. Writes are atomic (a temp file
in the same folder, flushed and fsynced, then ``os.replace``), so a crash
leaves the old file or the new one. A file that cannot be read, or that another
version wrote, is moved aside with a warning and the learner starts from a
clean state: a broken state file never crashes a run.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dojo.layout import LAST_STAGE, STAGES

VERSION = 1
PROGRESS_FILE = "progress.json"


def kata_home(root: Path) -> Path:
    """The state folder: ``$KATA_HOME`` if set, else ``<root>/.kata``."""
    override = os.environ.get("KATA_HOME")
    return Path(override).expanduser() if override else root / ".kata"


def now_utc() -> str:
    """The current time as an ISO 8601 UTC string (second precision)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Progress:
    """Which stages each family has unlocked and passed.

    Layout of ``progress.json``::

        {"version": 1,
         "families": {"inmem_db": {"unlocked": 2,
                                   "stages": {"1": {"passed": 14, "total": 14,
                                                    "last_run": "...Z",
                                                    "first_passed": "...Z"}}}}}

    ``unlocked`` is the highest stage the learner may run (1 when absent).
    """

    def __init__(self, home: Path) -> None:
        self.path = home / PROGRESS_FILE
        self.warning: str | None = None
        self._data: dict[str, Any] = {"version": VERSION, "families": {}}
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"cannot read {self.path}: {exc.strerror}; progress starts fresh"
            return
        try:
            data = json.loads(text)
            problem = _problem(data)
        except ValueError as exc:
            problem = f"not valid JSON ({exc})"
        if problem is None:
            self._data = data
            return
        aside = self.path.with_name(f"{PROGRESS_FILE}.corrupt-{now_utc().replace(':', '')}")
        try:
            os.replace(self.path, aside)
            self.warning = (
                f"{self.path} was {problem}; moved it to {aside.name}, progress starts fresh"
            )
        except OSError as exc:
            self.warning = (
                f"{self.path} was {problem} and could not be moved aside ({exc.strerror})"
            )

    def unlocked(self, family: str) -> int:
        """The highest stage of ``family`` the learner may run."""
        return int(self._family(family).get("unlocked", 1))

    def passed(self, family: str, stage: int) -> bool:
        """Whether ``stage`` of ``family`` has ever passed in full."""
        return "first_passed" in self._family(family).get("stages", {}).get(str(stage), {})

    def record(self, family: str, stage: int, passed: int, total: int) -> None:
        """Record one full run's result for ``stage`` (not saved until ``save``)."""
        stages = self._family(family, create=True).setdefault("stages", {})
        entry = stages.setdefault(str(stage), {})
        stamp = now_utc()
        entry.update(passed=passed, total=total, last_run=stamp)
        if passed == total:
            entry.setdefault("first_passed", stamp)

    def unlock(self, family: str, stage: int) -> bool:
        """Unlock ``stage`` (capped at the last stage); True if it was locked."""
        stage = min(stage, LAST_STAGE)
        fam = self._family(family, create=True)
        if stage <= fam.get("unlocked", 1):
            return False
        fam["unlocked"] = stage
        return True

    def save(self) -> None:
        """Write the progress file atomically."""
        write_atomic(self.path, json.dumps(self._data, indent=2, sort_keys=True) + "\n")

    def _family(self, family: str, create: bool = False) -> dict[str, Any]:
        families = self._data["families"]
        if create:
            return families.setdefault(family, {"unlocked": 1, "stages": {}})
        return families.get(family, {})


def _problem(data: Any) -> str | None:
    """What is wrong with a decoded progress file, or None if it is usable."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("version") != VERSION:
        return f"written by another version (version {data.get('version')!r}, expected {VERSION})"
    families = data.get("families")
    if not isinstance(families, dict):
        return "missing its 'families' table"
    for name, fam in families.items():
        if not isinstance(fam, dict) or not isinstance(fam.get("stages", {}), dict):
            return f"damaged at family {name!r}"
        unlocked = fam.get("unlocked", 1)
        if type(unlocked) is not int or unlocked not in STAGES:
            return f"damaged at family {name!r} (unlocked stage {unlocked!r})"
        if not all(isinstance(s, dict) for s in fam.get("stages", {}).values()):
            return f"damaged at family {name!r}"
    return None
