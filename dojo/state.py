"""The learner's state in ``.kata/`` (``KATA_HOME`` relocates it).

This module owns every file under ``.kata/``:

- ``progress.json``: per family, the highest unlocked stage and each stage's
  last full run;
- ``attempts.json``: the timed attempts on, at most one per family;
- ``history.jsonl``: closed attempts, one JSON object a line;
- ``backups/F-<UTC>/``: learner code set aside before a reset or restore;
- ``lock``: the file whose OS lock serialises every change.

Every change is a read-modify-write under :func:`locked`, which re-reads the
files inside the lock, so concurrent runs and commands each apply their change
to the latest state and none is lost. Writes are atomic (a temp file in the
same folder, fsynced, then ``os.replace``). Every file is validated completely
(encoding, nesting depth, every field's type and range) before it is trusted;
an invalid one is moved aside with a warning and the learner starts from a
clean state: a broken state file never crashes a run or a command.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypedDict

from dojo.clock import now, parse_stamp, stamp
from dojo.layout import STAGES

VERSION = 1
PROGRESS_FILE = "progress.json"
ATTEMPTS_FILE = "attempts.json"
HISTORY_FILE = "history.jsonl"
BACKUPS_DIR = "backups"
LOCK_FILE = "lock"
MAX_DEPTH = 8  # the deepest nesting a valid state file has; deeper is damage


def kata_home(root: Path) -> Path:
    """The state folder: ``$KATA_HOME`` if set, else ``<root>/.kata``."""
    override = os.environ.get("KATA_HOME")
    return Path(override).expanduser() if override else root / ".kata"


# --- the records ------------------------------------------------------------------


class StageRun(TypedDict, total=False):
    """progress.json: one stage's last full run (``first_passed``: when it first passed)."""

    passed: int
    total: int
    last_run: str
    first_passed: str


class FamilyProgress(TypedDict, total=False):
    """progress.json: one family. ``since`` is when ``kata start``/``reset`` last reset it."""

    unlocked: int
    since: str
    stages: dict[str, StageRun]


class AttemptStage(TypedDict, total=False):
    """attempts.json: one stage of an attempt; ``best_*`` is its best full run in time."""

    runs: int
    overtime_runs: int
    best_passed: int
    best_total: int
    first_passed: str


class Attempt(TypedDict):
    """attempts.json: the attempt on one family."""

    start: str
    deadline: str
    minutes: int
    stages: dict[str, AttemptStage]


class _ClosedAttempt(TypedDict):
    family: str
    start: str
    end: str
    minutes: int
    used_seconds: int
    stages: dict[str, AttemptStage]
    splits: dict[str, list[int] | None]
    score: int


class HistoryRecord(_ClosedAttempt, total=False):
    """history.jsonl: one closed attempt; ``hints``, how many it used, is absent in old ones."""

    hints: int


# --- validation -------------------------------------------------------------------


class Damaged(ValueError):
    """A state file that is not what this version writes; the message says where."""


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` levels of lists and objects."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level >= limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return True


def whole_number(value: Any, where: str, low: int = 0, high: int | None = None) -> int:
    """``value`` if it is an int (not a bool) from ``low`` to ``high``; Damaged otherwise."""
    if type(value) is not int or value < low or (high is not None and value > high):
        bound = f"from {low}" + (f" to {high}" if high is not None else "")
        raise Damaged(f"{where} is {value!r}, expected a whole number {bound}")
    return value


def time_field(value: Any, where: str) -> str:
    """``value`` if it is a UTC time as state files write it; Damaged otherwise."""
    try:
        parse_stamp(value)
    except (TypeError, ValueError):
        raise Damaged(f"{where} is {value!r}, expected a UTC time") from None
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Damaged(f"{where} is not a JSON object")
    return value


def _only(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise Damaged(f"{where} has unknown field {extra[0]!r}")


def _stage_key(key: str, where: str) -> None:
    if key not in {str(k) for k in STAGES}:
        raise Damaged(f"{where} names stage {key!r}, expected 1 to {STAGES[-1]}")


def envelope(data: Any, table: str) -> Any:
    """The one table of a state file: ``{"version": VERSION, table: ...}``; Damaged otherwise."""
    if not isinstance(data, dict):
        raise Damaged("not a JSON object")
    if data.get("version") != VERSION:
        raise Damaged(
            f"written by another version (version {data.get('version')!r}, expected {VERSION})"
        )
    _only(data, {"version", table}, "the file")
    if table not in data:
        raise Damaged(f"its {table!r} table is missing")
    return data[table]


def _envelope(data: Any, table: str) -> dict[str, Any]:
    return _object(envelope(data, table), f"its {table!r} table")


def check_progress(data: Any) -> None:
    """Raise Damaged unless ``data`` is a valid progress file."""
    for name, fam in _envelope(data, "families").items():
        where = f"family {name!r}"
        _only(_object(fam, where), {"unlocked", "since", "stages"}, where)
        whole_number(fam.get("unlocked", 1), f"{where} unlocked stage", 1, STAGES[-1])
        if "since" in fam:
            time_field(fam["since"], f"{where} since")
        for key, run in _object(fam.get("stages", {}), f"{where} stages").items():
            at = f"{where} stage {key}"
            _stage_key(key, at)
            _only(_object(run, at), {"passed", "total", "last_run", "first_passed"}, at)
            total = whole_number(run.get("total", 0), f"{at} total")
            whole_number(run.get("passed", 0), f"{at} passed", 0, total)
            for field in ("last_run", "first_passed"):
                if field in run:
                    time_field(run[field], f"{at} {field}")


def _check_attempt_stages(stages: Any, where: str) -> None:
    fields = {"runs", "overtime_runs", "best_passed", "best_total", "first_passed"}
    for key, entry in _object(stages, f"{where} stages").items():
        at = f"{where} stage {key}"
        _stage_key(key, at)
        _only(_object(entry, at), fields, at)
        for field in ("runs", "overtime_runs"):
            whole_number(entry.get(field, 0), f"{at} {field}")
        if ("best_total" in entry) != ("best_passed" in entry):
            raise Damaged(f"{at} has only one of best_passed and best_total")
        if "best_total" in entry:
            total = whole_number(entry["best_total"], f"{at} best_total")
            whole_number(entry["best_passed"], f"{at} best_passed", 0, total)
        if "first_passed" in entry:
            time_field(entry["first_passed"], f"{at} first_passed")


def _check_attempt(attempt: Any, where: str) -> None:
    _only(_object(attempt, where), {"start", "deadline", "minutes", "stages"}, where)
    whole_number(attempt.get("minutes"), f"{where} minutes", 1, 24 * 60)
    start = parse_stamp(time_field(attempt.get("start"), f"{where} start"))
    if parse_stamp(time_field(attempt.get("deadline"), f"{where} deadline")) < start:
        raise Damaged(f"{where} ends before it starts")
    _check_attempt_stages(attempt.get("stages"), where)


def check_attempts(data: Any) -> None:
    """Raise Damaged unless ``data`` is a valid attempts file."""
    for name, attempt in _envelope(data, "attempts").items():
        _check_attempt(attempt, f"attempt {name!r}")


def check_history_record(record: Any) -> None:
    """Raise Damaged unless ``record`` is a valid history line."""
    where = "the record"
    fields = {"family", "start", "end", "minutes", "used_seconds", "stages", "splits", "score"}
    fields.add("hints")
    _only(_object(record, where), fields, where)
    if not isinstance(record.get("family"), str):
        raise Damaged("its family is not a name")
    time_field(record.get("start"), "start")
    time_field(record.get("end"), "end")
    whole_number(record.get("minutes"), "minutes", 1, 24 * 60)
    whole_number(record.get("used_seconds"), "used_seconds")
    whole_number(record.get("score"), "score", 0, 1000)
    whole_number(record.get("hints", 0), "hints")
    _check_attempt_stages(record.get("stages"), where)
    for key, split in _object(record.get("splits", {}), "splits").items():
        _stage_key(key, "splits")
        if split is not None and not (
            isinstance(split, list) and len(split) == 2 and all(type(s) is int for s in split)
        ):
            raise Damaged(f"split of stage {key} is {split!r}")


def decode(text: bytes) -> Any:
    """The JSON value of a state file's bytes; Damaged for bad UTF-8, bad JSON or deep nesting."""
    try:
        data = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Damaged(f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise Damaged("nested too deeply to be a state file") from None
    except ValueError as exc:
        raise Damaged(f"not valid JSON ({exc})") from None
    if not _depth(data, MAX_DEPTH):
        raise Damaged("nested too deeply to be a state file")
    return data


# --- files ------------------------------------------------------------------------


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


def set_aside(path: Path, moment: datetime) -> Path:
    """Move a damaged ``path`` to ``<name>.corrupt-<UTC>`` beside it; returns where."""
    aside = path.with_name(f"{path.name}.corrupt-{moment:%Y%m%dT%H%M%SZ}")
    n = 2
    while aside.exists():
        aside, n = path.with_name(f"{path.name}.corrupt-{moment:%Y%m%dT%H%M%SZ}-{n}"), n + 1
    os.replace(path, aside)
    return aside


def read_json(path: Path, check: Callable[[Any], None], fallback: str) -> tuple[Any, str | None]:
    """``(data, warning)`` of a state file; a damaged file is moved aside, data None.

    ``check`` raises Damaged for data that is not usable; ``fallback`` ends the
    warning, saying what the learner gets instead.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror}; {fallback}"
    try:
        data = decode(raw)
        check(data)
    except Damaged as exc:
        try:
            aside = set_aside(path, now())
        except OSError as err:
            return None, f"{path} was {exc} and could not be moved aside ({err.strerror})"
        return None, f"{path} was {exc}; moved it to {aside.name}, {fallback}"
    return data, None


_held = threading.local()


@contextmanager
def locked(home: Path) -> Iterator[None]:
    """Hold the state folder's OS lock (re-entrant within a thread).

    Every read-modify-write of ``.kata/`` runs inside this and reads the files
    after taking it, so no change is lost to a concurrent run or command.
    """
    depth = getattr(_held, "depth", {})
    _held.depth = depth
    key = str(home.resolve())
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        depth[key] = 1
        try:
            yield
        finally:
            depth[key] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- progress ---------------------------------------------------------------------


class Progress:
    """Which stages each family has unlocked and passed (``progress.json``)."""

    def __init__(self, home: Path) -> None:
        self.path = home / PROGRESS_FILE
        data, self.warning = read_json(self.path, check_progress, "progress starts fresh")
        self._families: dict[str, FamilyProgress] = data["families"] if data else {}

    def unlocked(self, family: str) -> int:
        """The highest stage of ``family`` the learner may run."""
        return self._families.get(family, {}).get("unlocked", 1)

    def since(self, family: str) -> str | None:
        """When ``family`` was last reset by ``kata start`` or ``kata reset``."""
        return self._families.get(family, {}).get("since")

    def stage(self, family: str, stage: int) -> StageRun:
        """The last full run of ``stage`` (empty if none)."""
        return self._families.get(family, {}).get("stages", {}).get(str(stage), {})

    def passed(self, family: str, stage: int) -> bool:
        """Whether ``stage`` of ``family`` has ever passed in full."""
        return "first_passed" in self.stage(family, stage)

    def record(self, family: str, stage: int, passed: int, total: int, moment: datetime) -> None:
        """Record one full run's result for ``stage`` (not saved until ``save``).

        A stage passes only with every test passed and at least one test.
        """
        fam = self._families.setdefault(family, {"unlocked": 1, "stages": {}})
        entry = fam.setdefault("stages", {}).setdefault(str(stage), {})
        entry.update(passed=passed, total=total, last_run=stamp(moment))
        if total > 0 and passed == total:
            entry.setdefault("first_passed", stamp(moment))

    def unlock(self, family: str, stage: int) -> bool:
        """Unlock ``stage`` (capped at the last stage); True if it was locked."""
        stage = min(stage, STAGES[-1])
        fam = self._families.setdefault(family, {"unlocked": 1, "stages": {}})
        if stage <= fam.get("unlocked", 1):
            return False
        fam["unlocked"] = stage
        return True

    def reset(self, family: str, moment: datetime) -> None:
        """Forget ``family``'s results: back to stage 1 (not saved until ``save``)."""
        self._families[family] = {"unlocked": 1, "since": stamp(moment), "stages": {}}

    def save(self) -> None:
        """Write the progress file atomically."""
        data = {"version": VERSION, "families": self._families}
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")


# --- timed attempts ---------------------------------------------------------------


class Attempts:
    """The timed attempts on, at most one per family (``attempts.json``)."""

    def __init__(self, home: Path) -> None:
        self.path = home / ATTEMPTS_FILE
        data, self.warning = read_json(self.path, check_attempts, "no attempt is on")
        self._attempts: dict[str, Attempt] = data["attempts"] if data else {}

    def families(self) -> list[str]:
        """The families with an attempt on, sorted."""
        return sorted(self._attempts)

    def get(self, family: str) -> Attempt | None:
        """The attempt on ``family``, or None."""
        return self._attempts.get(family)

    def start(self, family: str, moment: datetime, minutes: int) -> Attempt:
        """Start the clock on ``family`` (not saved until ``save``)."""
        attempt: Attempt = {
            "start": stamp(moment),
            "deadline": stamp(moment + timedelta(minutes=minutes)),
            "minutes": minutes,
            "stages": {},
        }
        self._attempts[family] = attempt
        return attempt

    def record(self, family: str, stage: int, passed: int, total: int, moment: datetime) -> bool:
        """Record one full run of ``stage``; False if it came after the deadline."""
        attempt = self._attempts[family]
        entry = attempt["stages"].setdefault(str(stage), {"runs": 0, "overtime_runs": 0})
        if moment > parse_stamp(attempt["deadline"]):
            entry["overtime_runs"] = entry.get("overtime_runs", 0) + 1
            return False
        entry["runs"] = entry.get("runs", 0) + 1
        # Compare passed/total ratios by cross-multiplying: exact, and total may be 0.
        if "best_total" not in entry or passed * entry["best_total"] > entry["best_passed"] * total:
            entry.update(best_passed=passed, best_total=total)
        if total and passed == total:
            entry.setdefault("first_passed", stamp(moment))
        return True

    def close(self, family: str, moment: datetime) -> HistoryRecord:
        """End the attempt on ``family`` and return its history record.

        The end is ``moment``, or the deadline when that came first: time
        after the deadline earns nothing. Not saved until ``save``.
        """
        attempt = self._attempts.pop(family)
        start = parse_stamp(attempt["start"])
        end = min(moment, parse_stamp(attempt["deadline"]))
        return {
            "family": family,
            "start": attempt["start"],
            "end": stamp(end),
            "minutes": attempt["minutes"],
            "used_seconds": max(0, int((end - start).total_seconds())),
            "stages": attempt["stages"],
            "splits": {str(k): list(v) if v else None for k, v in splits(attempt).items()},
            "score": score(attempt["stages"]),
        }

    def save(self) -> None:
        """Write the attempts file atomically."""
        data = {"version": VERSION, "attempts": self._attempts}
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def points(stage: int, entry: AttemptStage | None) -> float:
    """What ``stage`` earns: 100·stage·passed/total of its best run in time."""
    if not entry or not entry.get("best_total"):
        return 0.0
    return 100 * stage * entry["best_passed"] / entry["best_total"]


def score(stages: dict[str, AttemptStage]) -> int:
    """The attempt's score, 0..1000: the rounded sum of every stage's points."""
    return round(sum(points(k, stages.get(str(k))) for k in STAGES))


def splits(attempt: Attempt) -> dict[int, tuple[int, int] | None]:
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


class History:
    """Closed attempts, one JSON object per line of ``history.jsonl``.

    A line that is not a valid record is moved to ``history.jsonl.corrupt-*``
    with a warning; the other lines stay.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / HISTORY_FILE
        self.records: list[HistoryRecord] = []
        self.warning: str | None = None
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"cannot read {self.path}: {exc.strerror}; history shown empty"
            return
        bad: list[bytes] = []
        for line in filter(bytes.strip, lines):
            try:
                record = decode(line)
                check_history_record(record)
            except Damaged:
                bad.append(line)
                continue
            self.records.append(record)
        if bad:
            aside = self.path.with_name(f"{HISTORY_FILE}.corrupt-{now():%Y%m%dT%H%M%SZ}")
            try:
                with open(aside, "ab") as f:
                    f.write(b"\n".join(bad) + b"\n")
                self._write()
                self.warning = f"{len(bad)} damaged line(s) of {self.path} moved to {aside.name}"
            except OSError as exc:
                self.warning = f"{len(bad)} damaged line(s) of {self.path} skipped ({exc})"

    def append(self, record: HistoryRecord) -> None:
        """Add one closed attempt and write the file atomically."""
        self.records.append(record)
        self._write()

    def _write(self) -> None:
        write_atomic(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records))


# --- learner code: backups and all-or-nothing swaps -----------------------------------

BACKUP_NAME = re.compile(r"(?P<family>.+)-(?P<time>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?")


def _exists(path: Path) -> bool:
    """Whether anything is at ``path``: a folder, a file, or a link (even dangling)."""
    return os.path.lexists(path)


def _staged_copy(source: Path, beside: Path) -> Path:
    """A complete copy of ``source`` next to ``beside``, symlinks kept as symlinks."""
    staging = beside.with_name(f".{beside.name}.staging-{os.getpid()}-{threading.get_ident()}")
    _remove(staging)
    try:
        shutil.copytree(
            source,
            staging,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    except BaseException:
        _remove(staging)
        raise
    return staging


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif _exists(path):
        path.unlink()


def backup_name(home: Path, family: str, moment: datetime) -> Path:
    """A free ``backups/F-<UTC>[-n]`` path for a backup taken at ``moment``."""
    folder = home / BACKUPS_DIR
    name = f"{family}-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    target, n = folder / name, 2
    while _exists(target):
        target, n = folder / f"{name}-{n}", n + 1
    return target


def replace_workspace(
    home: Path, workspace: Path, source: Path, family: str, moment: datetime
) -> Path | None:
    """Put a complete copy of ``source`` at ``workspace``; back up what was there.

    All or nothing: the new workspace is staged completely beside the old one
    first, then the old one (a folder, a file or a dangling link) is renamed
    into ``backups/`` and the staged copy renamed into place. If any step
    fails, the old workspace is where it was. Returns the backup, or None when
    there was nothing to back up.
    """
    workspace.parent.mkdir(parents=True, exist_ok=True)
    staging = _staged_copy(source, workspace)
    saved = None
    try:
        if _exists(workspace):
            saved = backup_name(home, family, moment)
            saved.parent.mkdir(parents=True, exist_ok=True)
            os.rename(workspace, saved)
        try:
            os.rename(staging, workspace)
        except BaseException:
            if saved is not None:
                os.rename(saved, workspace)
            raise
    except BaseException:
        _remove(staging)
        raise
    return saved


def backups(home: Path, family: str) -> list[tuple[datetime, Path]]:
    """The backups of ``family`` with the time each was taken, newest first."""
    folder = home / BACKUPS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = BACKUP_NAME.fullmatch(path.name)
        if match and match["family"] == family and _exists(path):
            taken = datetime.strptime(match["time"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            found.append(((taken, int(match["n"] or 1)), path))
    return [(key[0], path) for key, path in sorted(found, reverse=True)]
