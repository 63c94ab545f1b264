"""State you can trust: concurrent changes are never lost, bad bytes never crash,
learner code is never lost.

Concurrency is tested with real processes; damaged files with the bytes a
disk or a hand edit can leave.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dojo.gate import Gate
from dojo.record import record
from dojo.state import Attempts, History, Progress, locked
from dojo.tally import Tally
from tests.cli.conftest import Dojo

MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
WRITER = """
import sys, time
from datetime import datetime, timezone
from pathlib import Path
from dojo.state import Progress, locked
home, family, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
with locked(home):
    progress = Progress(home)
    time.sleep(0.02)  # widen the read-modify-write window on purpose
    progress.record(family, 1, 1, 1, datetime.now(timezone.utc))
    progress.unlock(family, 2)
    progress.save()
"""


def test_concurrent_processes_each_recording_a_family_lose_nothing(tmp_path: Path) -> None:
    home, go = tmp_path / "home", tmp_path / "go"
    families = [f"family{n}" for n in range(6)]
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(home), family, str(go)])
        for family in families
    ]
    go.touch()
    assert all(w.wait(timeout=30) == 0 for w in writers)
    progress = Progress(home)
    assert [f for f in families if progress.unlocked(f) != 2] == [], "a change was lost"


def test_kata_finish_run_twice_at_once_writes_one_history_line(dojo: Dojo) -> None:
    dojo.kata("start", "toy")
    env = {**os.environ, "KATA_NOW": "2026-03-02T09:10:00Z"}
    finishers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, dojo.cli; sys.exit(dojo.cli.main())",
                "finish",
                "toy",
            ],
            cwd=dojo.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    codes = sorted(f.wait(timeout=30) for f in finishers)
    assert codes == [0, 1, 1, 1], "one finish closes it; the others find no attempt"
    assert len(History(dojo.home).records) == 1


def gate_of(home: Path, stage: int = 1) -> Gate:
    progress, attempts = Progress(home), Attempts(home)
    attempt = attempts.get("toy")
    return Gate(stage, 1, progress.since("toy"), attempt["start"] if attempt else None)


def passing_tally() -> Tally:
    tally = Tally(stage=1)
    tally.expect(["t::a"])

    class Report:
        nodeid, kata_stage, failed, skipped, passed = "t::a", 1, False, False, True

    for when in ("setup", "call", "teardown"):
        report = Report()
        report.when = when  # type: ignore[attr-defined]
        tally.add(report)  # type: ignore[arg-type]
    return tally


def test_a_run_that_ends_after_kata_finish_does_not_bring_the_attempt_back(dojo: Dojo) -> None:
    dojo.kata("start", "toy")
    started = gate_of(dojo.home)
    dojo.at(5)
    dojo.kata("finish", "toy")
    record(dojo.home, "toy", started, passing_tally(), dojo.now)
    assert Attempts(dojo.home).get("toy") is None
    assert len(History(dojo.home).records) == 1


def test_a_run_that_ends_after_kata_start_reset_its_family_records_nothing(dojo: Dojo) -> None:
    started = gate_of(dojo.home)
    dojo.at(1)
    dojo.kata("start", "toy")
    outcome = record(dojo.home, "toy", started, passing_tally(), dojo.now)
    assert isinstance(outcome, str) and "reset toy during this run" in outcome
    assert Progress(dojo.home).unlocked("toy") == 1
    assert Attempts(dojo.home).get("toy")["stages"] == {}


def test_the_state_lock_is_reentrant_within_one_thread(tmp_path: Path) -> None:
    with locked(tmp_path), locked(tmp_path):
        Progress(tmp_path).save()
    assert (tmp_path / "progress.json").is_file()


BAD_PROGRESS = {
    "invalid UTF-8": b'{"version": 1, "families": {"\xff": {}}}',
    "JSON nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "a first_passed that is no time": json.dumps(
        {
            "version": 1,
            "families": {"toy": {"unlocked": 2, "stages": {"1": {"first_passed": "soon"}}}},
        }
    ).encode(),
    "a passed count above its total": json.dumps(
        {"version": 1, "families": {"toy": {"stages": {"1": {"passed": 3, "total": 2}}}}}
    ).encode(),
}


@pytest.mark.parametrize("content", BAD_PROGRESS.values(), ids=BAD_PROGRESS.keys())
def test_a_damaged_progress_file_is_set_aside_by_a_run_and_by_a_command(
    dojo: Dojo, content: bytes
) -> None:
    dojo.home.mkdir()
    progress = dojo.home / "progress.json"
    progress.write_bytes(content)
    result = dojo.run("--stage", "1", "katas/toy")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["Warning: *progress.json was *; moved it to *"])
    assert [p.read_bytes() for p in dojo.home.glob("progress.json.corrupt-*")] == [content]
    progress.write_bytes(content)
    code, _, err = dojo.kata("list")
    assert code == 0 and "Warning: " in err and "Traceback" not in err


def test_a_damaged_attempts_file_with_a_bad_time_never_crashes_a_command(dojo: Dojo) -> None:
    dojo.home.mkdir()
    (dojo.home / "attempts.json").write_text(
        json.dumps(
            {
                "version": 1,
                "attempts": {
                    "toy": {
                        "start": "2026-03-02T09:00:00Z",
                        "deadline": "2026-03-02T10:30:00Z",
                        "minutes": 90,
                        "stages": {"1": {"runs": 1, "first_passed": "not a time"}},
                    }
                },
            }
        )
    )
    code, _, err = dojo.kata("status")
    assert code == 0
    assert "attempt 'toy' stage 1 first_passed is 'not a time', expected a UTC time" in err


def test_the_warning_about_a_damaged_file_is_shown_when_the_run_is_refused_as_locked(
    dojo: Dojo,
) -> None:
    dojo.home.mkdir()
    (dojo.home / "progress.json").write_bytes(b"\xff\xfe")
    result = dojo.run("--stage", "3", "katas/toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*Warning: *progress.json was not UTF-8 text*", "*Stage 3 of toy is locked*"]
    )


# --- learner code is never lost --------------------------------------------------------


def test_restore_keeps_symlinks_even_dangling_ones_and_loses_nothing(dojo: Dojo) -> None:
    dojo.write_learner("# mine\n")
    os.symlink("nowhere", dojo.root / "katas/toy/dangling")
    dojo.kata("reset", "toy")
    (backup,) = (dojo.home / "backups").iterdir()
    assert (backup / "dangling").is_symlink()
    dojo.write_learner("# newer\n")
    dojo.at(1)
    code, _, err = dojo.kata("restore", "toy")
    assert code == 0, err
    workspace = dojo.root / "katas/toy"
    assert (workspace / "__init__.py").read_text() == "# mine\n"
    assert os.readlink(workspace / "dangling") == "nowhere"
    assert not list(dojo.root.glob("katas/.*staging*")), "no staging folder left behind"
    newest = max((dojo.home / "backups").iterdir())
    assert (newest / "__init__.py").read_text() == "# newer\n"


@pytest.mark.parametrize("kind", ["a file", "a dangling link"])
def test_start_handles_a_workspace_that_is_not_a_folder(dojo: Dojo, kind: str) -> None:
    workspace = dojo.root / "katas/toy"
    workspace.parent.mkdir()
    if kind == "a file":
        workspace.write_text("# not a folder\n")
    else:
        os.symlink("missing-folder", workspace)
    code, _, err = dojo.kata("start", "toy")
    assert code == 0, err
    assert (workspace / "__init__.py").is_file() and not workspace.is_symlink()
    (backup,) = (dojo.home / "backups").iterdir()
    assert backup.is_symlink() or backup.read_text() == "# not a folder\n"


def test_a_restore_that_fails_halfway_changes_nothing(
    dojo: Dojo, monkeypatch: pytest.MonkeyPatch
) -> None:
    dojo.write_learner("# mine\n")
    dojo.kata("reset", "toy")
    dojo.write_learner("# current\n")
    copy = shutil.copytree

    def copy_then_fail(source: Path, target: Path, **kwargs: object) -> None:
        copy(source, target, **kwargs)
        raise shutil.Error([(str(source), str(target), "disk full")])

    monkeypatch.setattr(shutil, "copytree", copy_then_fail)
    code, _, err = dojo.kata("restore", "toy")
    assert code == 1 and "which is unchanged" in err
    assert (dojo.root / "katas/toy/__init__.py").read_text() == "# current\n"
    assert not list(dojo.root.glob("katas/.*staging*")), "no staging folder left behind"
    assert len(list((dojo.home / "backups").iterdir())) == 1, "no backup of a failed restore"


def test_start_on_a_workspace_that_is_the_starter_makes_no_backup(dojo: Dojo) -> None:
    dojo.run("--stage", "1", "katas/toy")  # creates the workspace from the starter
    code, out, _ = dojo.kata("start", "toy")
    assert code == 0 and "Backed up" not in out
    assert not (dojo.home / "backups").exists()


def test_backups_lists_the_time_each_backup_was_taken(dojo: Dojo) -> None:
    dojo.write_learner("# mine\n")
    dojo.at(7)
    dojo.kata("reset", "toy")
    (backup,) = (dojo.home / "backups").iterdir()
    os.utime(backup, (0, 0))  # a copy or a checkout changes mtimes: they must not matter
    _, out, _ = dojo.kata("backups", "toy")
    assert "2026-03-02 09:07 UTC" in out.splitlines()[1]
