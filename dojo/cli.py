"""The ``kata`` command: timed attempts, specs, backups and history.

See the README's "Timed attempts", and docs/DESIGN.md for the state files.
Every command runs from anywhere inside the kit. Any command run after an
attempt's deadline first closes that attempt with what was earned in time.
State lives in ``.kata/`` through ``dojo.state``, the one module that writes
there, under its lock.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

from dojo import __version__
from dojo.clock import duration, now, parse_stamp
from dojo.compare import (
    DEFAULT_LIMIT,
    DEFAULT_SIZES,
    bench,
    compare,
    render_bench,
    render_compare,
)
from dojo.hints import HintLog, next_hint, seen_hints
from dojo.layout import LAST_STAGE, STAGES, Repo, locked_sentence, parse_stage
from dojo.markdown import print_markdown
from dojo.state import (
    Attempt,
    Attempts,
    History,
    HistoryRecord,
    Progress,
    backups,
    kata_home,
    locked,
    points,
    replace_workspace,
    splits,
)
from dojo.summary import align, attempt_line, split_text

Clock = Callable[[], datetime]
LOCKED = 4  # the exit code of a refused locked stage, as pytest's usage error


class KataError(Exception):
    """A refusal with a one-line reason and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Style:
    """Colour for a terminal: only on a TTY, never when ``NO_COLOR`` is set."""

    def __init__(self, stream: TextIO) -> None:
        self.on = stream.isatty() and "NO_COLOR" not in os.environ

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def bold(self, text: str) -> str:
        return self(text, "1")

    def warn(self, text: str) -> str:
        return self(text, "33")


@dataclass
class Context:
    """What every command works with: the kit, the state folder, the time."""

    repo: Repo
    now: datetime
    style: Style
    closed: set[str] = field(default_factory=set)  # attempts closed by this command

    @property
    def home(self) -> Path:
        return kata_home(self.repo.root)

    @cached_property
    def progress(self) -> Progress:
        return _warned(Progress(self.home))

    @cached_property
    def attempts(self) -> Attempts:
        return _warned(Attempts(self.home))

    @cached_property
    def history(self) -> History:
        return _warned(History(self.home))

    @cached_property
    def hint_log(self) -> HintLog:
        return _warned(HintLog(self.home))

    def hints_used(self, family: str, attempt: dict[str, Any]) -> int:
        return self.hint_log.count(family, attempt["start"])

    def command(self, family: str, stage: int) -> str:
        return self.repo.command(family, stage, Path.cwd())

    def relative(self, path: Path) -> str:
        return self.repo.relative(path)


def _warned(state: Any) -> Any:
    if state.warning:
        print(f"Warning: {state.warning}", file=sys.stderr)
    return state


def main(argv: list[str] | None = None, *, clock: Clock = now) -> int:
    """Run one ``kata`` command; returns the exit code. Tests pass ``clock``.

    A command that changes state runs under the state lock from start to end,
    reading the files inside it; a long read-only one (compare, bench) takes
    the lock only to close expired attempts.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    try:
        repo = find_repo(Path.cwd())
        if getattr(args, "family", None) is not None:
            check_family(repo, args.family)
        ctx = Context(repo, clock().astimezone(timezone.utc), Style(sys.stdout))
        with locked(ctx.home):
            close_expired(ctx)
            if not getattr(args, "long", False):
                return args.run(ctx, args)
        return args.run(ctx, args)
    except KataError as exc:
        print(f"kata: {exc}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"kata: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kata",
        description="Timed attempts at the kata families: start, status, finish, history.",
    )
    parser.add_argument("--version", action="version", version=f"kata {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(name: str, run: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    command("list", cmd_list, "families, progress, attempt on, best score")
    show = command("show", cmd_show, "print the spec of the current or an unlocked stage")
    show.add_argument("family", metavar="F")
    show.add_argument("--stage", type=parse_stage, metavar="N", help="an unlocked stage")
    hint = command("hint", cmd_hint, "show the next hint of the current stage (recorded)")
    hint.add_argument("family", metavar="F")
    hint.add_argument("--all", action="store_true", help="show the hints already seen")
    watch = command("watch", cmd_watch, "rerun the current stage on each save, with the clock")
    watch.add_argument("family", metavar="F")
    watch.set_defaults(long=True)  # its runs record: they must be able to take the state lock
    start = command("start", cmd_start, "back up katas/F, restore the starter, start the clock")
    start.add_argument("family", metavar="F")
    start.add_argument("--minutes", type=_minutes, default=90, metavar="M", help="default 90")
    start.add_argument("--force", action="store_true", help="finish the attempt on F first")
    status = command("status", cmd_status, "the attempt: split, passed, points per stage")
    status.add_argument("family", metavar="F", nargs="?")
    command("finish", cmd_finish, "end the attempt on F and record it").add_argument(
        "family", metavar="F"
    )
    command("history", cmd_history, "past attempts and the best per family").add_argument(
        "family", metavar="F", nargs="?"
    )
    command(
        "reset", cmd_reset, "back up katas/F, restore the starter, back to stage 1"
    ).add_argument("family", metavar="F")
    command("backups", cmd_backups, "list the backups of katas/F, newest first").add_argument(
        "family", metavar="F"
    )
    restore = command("restore", cmd_restore, "put a backup back (after backing up katas/F)")
    restore.add_argument("family", metavar="F")
    restore.add_argument("backup", metavar="BACKUP", nargs="?", help="default: the newest")
    compare = command(
        "compare", cmd_compare, "your code beside the reference: tests per stage, then speed"
    )
    compare.add_argument("family", metavar="F")
    bench = command("bench", cmd_bench, "the performance workloads on the reference alone")
    bench.add_argument("family", metavar="F", nargs="?")
    for sub in (compare, bench):
        sub.set_defaults(long=True)
        sub.add_argument(
            "--sizes",
            type=_sizes,
            default=list(DEFAULT_SIZES),
            metavar="N,N,...",
            help="workload sizes (default 1000,10000,100000)",
        )
        sub.add_argument(
            "--limit",
            type=_limit,
            default=DEFAULT_LIMIT,
            metavar="S",
            help="seconds per size before a run is stopped (default 30)",
        )
        sub.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _minutes(text: str) -> int:
    if text.isdigit() and 0 < int(text) <= 24 * 60:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected whole minutes from 1 to 1440, got {text!r}")


def _sizes(text: str) -> list[int]:
    parts = [p.strip().replace("_", "") for p in text.split(",")]
    if all(p.isdigit() and int(p) > 0 for p in parts):
        return [int(p) for p in parts]
    raise argparse.ArgumentTypeError(f"expected sizes like 1000,10000, got {text!r}")


def _limit(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if 0 < seconds < math.inf:
        return seconds
    raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")


def find_repo(start: Path) -> Repo:
    """The kit holding ``start``: the nearest folder up with pyproject.toml and stages/."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "stages").is_dir():
            return Repo(folder)
    raise KataError(f"{start} is not inside a kata kit (no pyproject.toml beside stages/ above)")


def check_family(repo: Repo, family: str) -> None:
    families = repo.families()
    if family in families:
        return
    close = difflib.get_close_matches(family, families, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise KataError(
        f"unknown family {family!r}{hint}; families: {', '.join(families) or 'none'}", code=2
    )


# --- closing attempts ---------------------------------------------------------


def close_expired(ctx: Context) -> None:
    """Close every attempt whose deadline has passed, with what it earned in time."""
    for family in ctx.attempts.families():
        if parse_stamp(ctx.attempts.get(family)["deadline"]) <= ctx.now:
            print(ctx.style.warn(f"The time for the attempt on {family} is up."))
            close(ctx, family)


def close(ctx: Context, family: str) -> HistoryRecord:
    """End the attempt on ``family``: record it in the history, print its report."""
    attempt = ctx.attempts.get(family)
    record = ctx.attempts.close(family, ctx.now)
    record["hints"] = ctx.hints_used(family, attempt)
    ctx.history.append(record)
    ctx.attempts.save()
    ctx.closed.add(family)
    print(f"Attempt on {family} finished: {record['score']}/1000 points.")
    print_attempt(ctx, family, attempt)
    used = duration(record["used_seconds"])
    print(f"Time used: {used} of {record['minutes']} min; score {record['score']}/1000")
    print(f"Hints used: {record['hints']}")
    print(f"Recorded in {ctx.relative(ctx.history.path)}; `kata history` lists attempts.")
    return record


def print_attempt(ctx: Context, family: str, attempt: Attempt) -> None:
    """The attempt's table: best passed/total, split and points per stage."""
    split = splits(attempt)
    cells = [("stage", "best", "split", "overtime", "points")]
    for k in STAGES:
        entry = attempt["stages"].get(str(k), {})
        best = f"{entry['best_passed']}/{entry['best_total']}" if "best_total" in entry else "-"
        cells.append(
            (
                str(k),
                best,
                split_text(split[k]),
                str(entry.get("overtime_runs", 0)),
                f"{_number(points(k, entry))}/{100 * k}",
            )
        )
    start = parse_stamp(attempt["start"])
    print(ctx.style.bold(f"{family}: started {_date(start)}, {attempt['minutes']} minutes"))
    for line in align(cells, left={0, 2}):
        print(line)


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


# --- commands -----------------------------------------------------------------


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    best = _best_scores(ctx.history.records)
    cells = [("family", "unlocked", "passed", "attempt", "best score")]
    for family in ctx.repo.families():
        passed = sum(ctx.progress.passed(family, k) for k in STAGES)
        attempt = ctx.attempts.get(family)
        if attempt is None:
            on = "-"
        else:
            left = (parse_stamp(attempt["deadline"]) - ctx.now).total_seconds()
            on = f"on, {duration(left)} left"
        cells.append(
            (
                family,
                f"stage {ctx.progress.unlocked(family)}",
                f"{passed}/{LAST_STAGE}",
                on,
                str(best[family]["score"]) if family in best else "-",
            )
        )
    for line in align(cells, left=range(len(cells[0]))):
        print(line)
    return 0


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    unlocked = ctx.progress.unlocked(family)
    stage = args.stage or unlocked
    if stage > unlocked:
        raise KataError(
            locked_sentence(family, stage, unlocked, ctx.command(family, unlocked)), code=LOCKED
        )
    text = ctx.repo.spec(family, stage).read_text(encoding="utf-8")
    debrief = ctx.repo.debrief(family, stage)
    if ctx.progress.passed(family, stage) and debrief.is_file():
        text += "\n" + debrief.read_text(encoding="utf-8")
    print_markdown(text, sys.stdout)
    return 0


def cmd_hint(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    stage = ctx.progress.unlocked(family)
    attempt = ctx.attempts.get(family)
    start = attempt["start"] if attempt is not None else None
    try:
        if args.all:
            answer = seen_hints(ctx.repo, ctx.hint_log, family, stage, start)
        else:
            answer = next_hint(ctx.repo, ctx.hint_log, family, stage, ctx.now, start)
    except ValueError as exc:
        raise KataError(str(exc)) from None
    print(ctx.style.bold(answer.title))
    for hint in answer.hints:
        print_markdown(hint, sys.stdout)
    return 0


def cmd_watch(ctx: Context, args: argparse.Namespace) -> int:
    from dojo.watch import watch

    return watch(ctx.repo, args.family)


def cmd_start(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    attempt = ctx.attempts.get(family)
    if attempt is not None:
        if not args.force:
            raise KataError(
                f"an attempt on {family} is on ({attempt_line(attempt, ctx.now)}). "
                f"`kata finish {family}` ends it; `kata start {family} --force` ends it "
                "and starts a new one."
            )
        close(ctx, family)
    _fresh_workspace(ctx, family)
    ctx.progress.reset(family, ctx.now)
    ctx.progress.save()
    attempt = ctx.attempts.start(family, ctx.now, args.minutes)
    ctx.attempts.save()
    deadline = parse_stamp(attempt["deadline"])
    print(
        ctx.style.bold(
            f"Attempt on {family} started: {args.minutes} minutes, until {_date(deadline)}."
        )
    )
    print(f"Read the spec: {ctx.relative(ctx.repo.spec(family, 1))} (or `kata show {family}`)")
    print(f"Write your code in {ctx.relative(ctx.repo.workspace(family))}/, then run:")
    print(f"  {ctx.command(family, 1)}")
    print(f"`kata status {family}` shows the clock; `kata finish {family}` ends the attempt.")
    return 0


def _fresh_workspace(ctx: Context, family: str) -> None:
    """Put the pristine starter in ``katas/F``, backing up what was there.

    A workspace that is the starter already is left alone: a backup of it
    would only hide the learner's real backups.
    """
    workspace, starter = ctx.repo.workspace(family), ctx.repo.starter(family)
    if not same_tree(workspace, starter):
        _replace(ctx, family, starter)


def same_tree(a: Path, b: Path) -> bool:
    """Whether two folders hold the same files with the same bytes (caches aside)."""
    if a.is_symlink() or not a.is_dir():
        return False

    def files(root: Path) -> dict[str, bytes | str]:
        found: dict[str, bytes | str] = {}
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = "link:" + os.readlink(path)
            elif path.is_file():
                found[key] = path.read_bytes()
            else:
                found[key] = "dir"
        return found

    return files(a) == files(b)


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    families = [args.family] if args.family else ctx.attempts.families()
    shown = [f for f in families if ctx.attempts.get(f) is not None]
    for family in shown:
        attempt = ctx.attempts.get(family)
        print_attempt(ctx, family, attempt)
        print(f"Time: {attempt_line(attempt, ctx.now)}")
        print(f"Hints used: {ctx.hints_used(family, attempt)}")
    if not shown and not ctx.closed.intersection(families):
        on = f" on {args.family}" if args.family else ""
        print(f"No attempt{on} is on. `kata start {args.family or 'F'}` starts one.")
    return 0


def cmd_finish(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.attempts.get(args.family) is not None:
        close(ctx, args.family)
    elif args.family not in ctx.closed:
        raise KataError(f"no attempt on {args.family} is on; `kata start {args.family}` starts one")
    return 0


def cmd_history(ctx: Context, args: argparse.Namespace) -> int:
    records = [r for r in ctx.history.records if args.family in (None, r["family"])]
    if not records:
        print("No attempts recorded yet. `kata start F` starts one.")
        return 0
    cells = [("date", "family", "time used", "stages passed", "hints", "score")]
    for r in records:
        passed = sum("first_passed" in e for e in r["stages"].values())
        cells.append(
            (
                _date(parse_stamp(r["start"])),
                r["family"],
                f"{duration(r['used_seconds'])} of {r['minutes']} min",
                f"{passed}/{LAST_STAGE}",
                str(r.get("hints", "-")),
                f"{r['score']}/1000",
            )
        )
    for line in align(cells, left=range(len(cells[0]))):
        print(line)
    print(ctx.style.bold("Best per family:"))
    for family, r in sorted(_best_scores(records).items()):
        print(f"  {family}: {r['score']}/1000 on {_date(parse_stamp(r['start']))}")
    return 0


def _best_scores(records: list[HistoryRecord]) -> dict[str, HistoryRecord]:
    """The best record per family (the earliest among equal scores)."""
    best: dict[str, HistoryRecord] = {}
    for r in records:
        if r["family"] not in best or r["score"] > best[r["family"]]["score"]:
            best[r["family"]] = r
    return best


def cmd_reset(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    _fresh_workspace(ctx, family)
    ctx.progress.reset(family, ctx.now)
    ctx.progress.save()
    print(
        f"{ctx.relative(ctx.repo.workspace(family))}/ is the stage-1 starter again and {family} "
        f"is back at stage 1: `{ctx.command(family, 1)}`"
    )
    return 0


def cmd_backups(ctx: Context, args: argparse.Namespace) -> int:
    found = backups(ctx.home, args.family)
    if not found:
        print(f"No backups of {args.family} yet.")
        return 0
    cells = [("backup", "taken", "size")]
    for taken, path in found:
        cells.append((path.name, _date(taken), _size(path)))
    for line in align(cells, left={0, 1}):
        print(line)
    print(f"`kata restore {args.family} BACKUP` puts one back (the newest if none is named).")
    return 0


def _size(folder: Path) -> str:
    if folder.is_symlink() or not folder.is_dir():
        size = folder.lstat().st_size
    else:
        size = sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() or f.is_symlink())
    if size < 1000:
        return f"{size} B"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    found = backups(ctx.home, family)
    if not found:
        raise KataError(f"no backups of {family} to restore")
    paths = [path for _, path in found]
    if args.backup is None:
        chosen = paths[0]
    else:
        named = [p for p in paths if p.name == Path(args.backup).name]
        if not named:
            names = ", ".join(p.name for p in paths)
            raise KataError(f"no backup {args.backup!r} of {family}; backups: {names}")
        chosen = named[0]
    if chosen.is_symlink() or not chosen.is_dir():
        raise KataError(f"{ctx.relative(chosen)} is not a folder: it cannot be a workspace")
    _replace(ctx, family, chosen)
    print(f"Restored {ctx.relative(ctx.repo.workspace(family))}/ from {chosen.name}.")
    return 0


def _replace(ctx: Context, family: str, source: Path) -> None:
    """Put a copy of ``source`` at ``katas/F``, all or nothing, backing up what was there."""
    try:
        saved = replace_workspace(ctx.home, ctx.repo.workspace(family), source, family, ctx.now)
    except (OSError, shutil.Error) as exc:
        raise KataError(
            f"could not put {ctx.relative(source)} in place of "
            f"{ctx.relative(ctx.repo.workspace(family))}/, which is unchanged: {exc}"
        ) from None
    if saved is not None:
        print(
            f"Backed up {ctx.relative(ctx.repo.workspace(family))}/ to {ctx.relative(saved)}/ "
            f"(`kata restore {family} {saved.name}` puts it back)."
        )


def cmd_compare(ctx: Context, args: argparse.Namespace) -> int:
    family = args.family
    workspace = ctx.repo.workspace(family)
    if not (workspace / "__init__.py").is_file():
        raise KataError(
            f"{ctx.relative(workspace)}/__init__.py does not exist yet: "
            f"`{ctx.command(family, 1)}` creates it from the starter"
        )
    if not (ctx.repo.tests(family) / "workload.py").is_file():
        raise KataError(f"{family} has no performance workload (tests/{family}/workload.py)")
    report = compare(ctx.repo, family, ctx.progress.unlocked(family), args.sizes, args.limit)
    report["debriefs"] = [
        ctx.relative(ctx.repo.debrief(family, k))
        for k in STAGES
        if ctx.progress.passed(family, k) and ctx.repo.debrief(family, k).is_file()
    ]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for line in render_compare(report):
            print(ctx.style.warn(line) if line.startswith("!!") else line)
        if report["debriefs"]:
            print(f"Debriefs of the stages you passed: {', '.join(report['debriefs'])}")
    return 0


def cmd_bench(ctx: Context, args: argparse.Namespace) -> int:
    families = [args.family] if args.family else ctx.repo.families()
    missing = [f for f in families if not (ctx.repo.tests(f) / "workload.py").is_file()]
    if args.family and missing:
        raise KataError(
            f"{args.family} has no performance workload (tests/{args.family}/workload.py)"
        )
    rows = bench(
        ctx.repo, [f for f in families if f not in missing], args.sizes, args.limit, LAST_STAGE
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"kata bench: the reference alone, operations of stages 1-{LAST_STAGE}, best of 3 "
        f"runs per size, each size in a fresh process"
    )
    for line in render_bench(rows):
        print(line)
    if missing:
        print(f"No workload yet (skipped): {', '.join(missing)}")
    return 0
