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
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
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
    return stamp(datetime.now(timezone.utc))


def stamp(moment: datetime) -> str:
    """``moment`` as an ISO 8601 UTC string (second precision), as state files hold it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    """The aware UTC datetime of a state file's ISO string; ValueError if it is not one."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(timezone.utc)


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
        data, self.warning = read_json(self.path, _problem, "progress starts fresh")
        if data is not None:
            self._data = data

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

    def reset(self, family: str) -> None:
        """Forget ``family``'s results: back to stage 1 (not saved until ``save``)."""
        self._data["families"].pop(family, None)

    def save(self) -> None:
        """Write the progress file atomically."""
        write_atomic(self.path, json.dumps(self._data, indent=2, sort_keys=True) + "\n")

    def _family(self, family: str, create: bool = False) -> dict[str, Any]:
        families = self._data["families"]
        if create:
            return families.setdefault(family, {"unlocked": 1, "stages": {}})
        return families.get(family, {})


def read_json(
    path: Path, problem: Callable[[Any], str | None], fallback: str
) -> tuple[Any, str | None]:
    """``(data, warning)`` of a state file; a bad file is moved aside, data None.

    ``problem`` says what is wrong with decoded data (None: usable);
    ``fallback`` ends the warning, saying what the learner gets instead.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror}; {fallback}"
    try:
        data = json.loads(text)
        found = problem(data)
    except ValueError as exc:
        found = f"not valid JSON ({exc})"
    if found is None:
        return data, None
    aside = path.with_name(f"{path.name}.corrupt-{now_utc().replace(':', '')}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        return None, f"{path} was {found} and could not be moved aside ({exc.strerror})"
    return None, f"{path} was {found}; moved it to {aside.name}, {fallback}"


def _envelope_problem(data: Any, table: str) -> str | None:
    """What is wrong with a state file's envelope: a JSON object of this
    version holding the object ``table``; None if it is usable."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("version") != VERSION:
        return f"written by another version (version {data.get('version')!r}, expected {VERSION})"
    if not isinstance(data.get(table), dict):
        return f"missing its {table!r} table"
    return None


def _problem(data: Any) -> str | None:
    """What is wrong with a decoded progress file, or None if it is usable."""
    problem = _envelope_problem(data, "families")
    if problem is not None:
        return problem
    for name, fam in data["families"].items():
        if not isinstance(fam, dict) or not isinstance(fam.get("stages", {}), dict):
            return f"damaged at family {name!r}"
        unlocked = fam.get("unlocked", 1)
        if type(unlocked) is not int or unlocked not in STAGES:
            return f"damaged at family {name!r} (unlocked stage {unlocked!r})"
        if not all(isinstance(s, dict) for s in fam.get("stages", {}).values()):
            return f"damaged at family {name!r}"
    return None


# --- timed attempts ---------------------------------------------------------

ATTEMPTS_FILE = "attempts.json"
HISTORY_FILE = "history.jsonl"
BACKUPS_DIR = "backups"


class Attempts:
    """The timed attempts on, at most one per family.

    Layout of ``attempts.json``::

        {"version": 1,
         "attempts": {"inmem_db": {"start": "...Z", "deadline": "...Z", "minutes": 90,
                                   "stages": {"1": {"best_passed": 12, "best_total": 14,
                                                    "runs": 3, "overtime_runs": 0,
                                                    "first_passed": "...Z"}}}}}

    ``best_*`` is the best full run before the deadline; ``first_passed`` the
    time of the first full run before the deadline that passed every test.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / ATTEMPTS_FILE
        self._data: dict[str, Any] = {"version": VERSION, "attempts": {}}
        data, self.warning = read_json(self.path, _attempts_problem, "no attempt is on")
        if data is not None:
            self._data = data

    def families(self) -> list[str]:
        """The families with an attempt on, sorted."""
        return sorted(self._data["attempts"])

    def get(self, family: str) -> dict[str, Any] | None:
        """The attempt on ``family`` (see the class layout), or None."""
        return self._data["attempts"].get(family)

    def start(self, family: str, now: datetime, minutes: int) -> dict[str, Any]:
        """Start the clock on ``family`` (not saved until ``save``)."""
        attempt = {
            "start": stamp(now),
            "deadline": stamp(now + timedelta(minutes=minutes)),
            "minutes": minutes,
            "stages": {},
        }
        self._data["attempts"][family] = attempt
        return attempt

    def record(self, family: str, stage: int, passed: int, total: int, now: datetime) -> bool:
        """Record one full run of ``stage``; False if it came after the deadline."""
        attempt = self._data["attempts"][family]
        entry = attempt["stages"].setdefault(str(stage), {"runs": 0, "overtime_runs": 0})
        if now > parse_stamp(attempt["deadline"]):
            entry["overtime_runs"] += 1
            return False
        entry["runs"] += 1
        # Compare passed/total ratios by cross-multiplying: exact, and total may be 0.
        if "best_total" not in entry or passed * entry["best_total"] > entry["best_passed"] * total:
            entry.update(best_passed=passed, best_total=total)
        if total and passed == total:
            entry.setdefault("first_passed", stamp(now))
        return True

    def close(self, family: str, now: datetime) -> dict[str, Any]:
        """End the attempt on ``family`` and return its history record.

        The end is ``now``, or the deadline when that came first: time after
        the deadline earns nothing. Not saved until ``save``.
        """
        attempt = self._data["attempts"].pop(family)
        start = parse_stamp(attempt["start"])
        end = min(now, parse_stamp(attempt["deadline"]))
        return {
            "family": family,
            "start": attempt["start"],
            "end": stamp(end),
            "minutes": attempt["minutes"],
            "used_seconds": max(0, int((end - start).total_seconds())),
            "stages": attempt["stages"],
            "splits": {str(k): v for k, v in splits(attempt).items()},
            "score": score(attempt["stages"]),
        }

    def save(self) -> None:
        """Write the attempts file atomically."""
        write_atomic(self.path, json.dumps(self._data, indent=2, sort_keys=True) + "\n")


def points(stage: int, entry: dict[str, Any] | None) -> float:
    """What ``stage`` earns: 100·stage·passed/total of its best run in time."""
    if not entry or not entry.get("best_total"):
        return 0.0
    return 100 * stage * entry["best_passed"] / entry["best_total"]


def score(stages: dict[str, Any]) -> int:
    """The attempt's score, 0..1000: the rounded sum of every stage's points."""
    return round(sum(points(k, stages.get(str(k))) for k in STAGES))


def splits(attempt: dict[str, Any]) -> dict[int, tuple[int, int] | None]:
    """Per stage, ``(seconds since the start, seconds on the stage)`` to first pass.

    Time on a stage runs from the previous stage's first pass (the start for
    stage 1). None for a stage not passed in time.
    """
    start = previous = parse_stamp(attempt["start"])
    result: dict[int, tuple[int, int] | None] = {}
    for k in STAGES:
        passed_at = attempt["stages"].get(str(k), {}).get("first_passed")
        if passed_at is None:
            result[k] = None
            continue
        moment = parse_stamp(passed_at)
        result[k] = (
            int((moment - start).total_seconds()),
            max(0, int((moment - previous).total_seconds())),
        )
        previous = moment
    return result


def _attempts_problem(data: Any) -> str | None:
    """What is wrong with a decoded attempts file, or None if it is usable."""
    problem = _envelope_problem(data, "attempts")
    if problem is not None:
        return problem
    for name, attempt in data["attempts"].items():
        if not _attempt_ok(attempt):
            return f"damaged at family {name!r}"
    return None


def _attempt_ok(attempt: Any) -> bool:
    if not isinstance(attempt, dict) or type(attempt.get("minutes")) is not int:
        return False
    try:
        parse_stamp(attempt["start"])
        parse_stamp(attempt["deadline"])
    except (KeyError, TypeError, ValueError):
        return False
    stages = attempt.get("stages")
    counts = ("runs", "overtime_runs", "best_passed", "best_total")
    return isinstance(stages, dict) and all(
        isinstance(e, dict) and all(type(e.get(n, 0)) is int for n in counts)
        for e in stages.values()
    )


class History:
    """Closed attempts, one JSON object per line of ``history.jsonl``.

    A line that is not a usable record is moved to ``history.jsonl.corrupt-*``
    with a warning; the other lines stay.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / HISTORY_FILE
        self.records: list[dict[str, Any]] = []
        self.warning: str | None = None
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"cannot read {self.path}: {exc.strerror}; history shown empty"
            return
        bad = []
        for line in filter(str.strip, lines):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if _record_ok(record):
                self.records.append(record)
            else:
                bad.append(line)
        if bad:
            aside = self.path.with_name(f"{HISTORY_FILE}.corrupt-{now_utc().replace(':', '')}")
            try:
                write_atomic(aside, "\n".join(bad) + "\n")
                self._write()
                self.warning = f"{len(bad)} damaged line(s) of {self.path} moved to {aside.name}"
            except OSError as exc:
                self.warning = f"{len(bad)} damaged line(s) of {self.path} skipped ({exc})"

    def append(self, record: dict[str, Any]) -> None:
        """Add one closed attempt and write the file atomically."""
        self.records.append(record)
        self._write()

    def _write(self) -> None:
        write_atomic(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records))


def _record_ok(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    try:
        parse_stamp(record["start"])
        parse_stamp(record["end"])
    except (KeyError, TypeError, ValueError):
        return False
    return (
        isinstance(record.get("family"), str)
        and type(record.get("score")) is int
        and type(record.get("minutes")) is int
        and type(record.get("used_seconds")) is int
        and isinstance(record.get("stages"), dict)
    )


# --- backups of learner code --------------------------------------------------


def backup(home: Path, workspace: Path, family: str, now: datetime) -> Path | None:
    """Move ``workspace`` to ``backups/F-<UTC time>/``; None if there is none.

    A move, not a copy and a delete: the code is in one place or the other,
    never in neither.
    """
    if not workspace.exists():
        return None
    folder = home / BACKUPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{family}-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    target, n = folder / name, 2
    while target.exists():
        target, n = folder / f"{name}-{n}", n + 1
    shutil.move(workspace, target)
    return target


def backups(home: Path, family: str) -> list[Path]:
    """The backups of ``family``, newest first."""
    folder = home / BACKUPS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = re.fullmatch(rf"{re.escape(family)}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?", path.name)
        if match and path.is_dir():
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return [path for _, path in sorted(found, reverse=True)]
