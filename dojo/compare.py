"""``kata compare`` and ``kata bench``: the learner's code beside the reference.

Correctness: the family's tests of the unlocked stages run in a subprocess
against ``katas/F`` and against ``solutions/F``, with ``KATA_HOME`` in a
temporary folder so that nothing is unlocked or recorded; the runner's own
tally (``--kata-report``) gives each stage's counts and each failure's
one-line reason.

Performance: ``tests/F/workload.py`` defines ``workload(impl, n, stages) ->
operations``. Each size runs in a fresh subprocess (``dojo.timing``) (best of ``RUNS``, in CPU
time, which other processes on the machine barely disturb) under a wall-time
limit; a run cut off by the limit is a lower bound, never a hang. A run repeats
a short workload until it has measured ``MIN_SECONDS``; the growth exponent
between two sizes, log(time ratio) / log(size ratio), comes only from such runs.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dojo.layout import Repo, Target
from dojo.report import RunReport, read_report
from dojo.summary import align

RUNS = 3
MIN_SECONDS = 0.05  # a run repeats the workload until it measures this: shorter is noise
FLAG_MARGIN = 0.5  # a learner exponent this far above the reference's is called out
DEFAULT_SIZES = (1_000, 10_000, 100_000)
DEFAULT_LIMIT = 30.0
TESTS_LIMIT = 900.0  # seconds a test run of compare may take before it is stopped


def progress(text: str) -> None:
    """Say on stderr what compare is doing now, so a long part never looks like a hang."""
    print(f"kata: {text}", file=sys.stderr, flush=True)


# --- correctness ---------------------------------------------------------------


@dataclass
class StageResult:
    stage: int
    passed: int = 0
    total: int = 0


@dataclass
class TestRun:
    """One implementation's test results: per stage, and the failing tests' reasons."""

    stages: dict[int, StageResult] = field(default_factory=dict)
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # stage, test, reason
    error: str | None = None  # the run itself failed (no junit report)


def run_tests(repo: Repo, family: str, stage: int) -> dict[str, TestRun]:
    """Run the tests of stages 1..stage against the learner's code and the reference.

    Both runs go at once, in subprocesses whose ``KATA_HOME`` is a temporary
    folder: a compare run never unlocks or records anything. Each is stopped
    after ``TESTS_LIMIT`` seconds.
    """
    progress(f"running the tests of stages 1-{stage} on your code and on the reference")
    with tempfile.TemporaryDirectory(prefix="kata-compare-") as tmp:
        env = {**os.environ, "KATA_HOME": str(Path(tmp) / "home")}
        running = {}
        for who, learner in (("learner", True), ("reference", False)):
            report = Path(tmp) / f"{who}.json"
            target = Target(family, learner)
            command = [sys.executable, "-m", "pytest", "--stage", str(stage), "-q"]
            command += ["--ignore-lock"] if learner else []
            command += [target.label, "-p", "no:cacheprovider", f"--kata-report={report}"]
            process = subprocess.Popen(
                command,
                cwd=repo.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            running[who] = (process, report)
        return {who: _finish_tests(p, report, stage) for who, (p, report) in running.items()}


def _finish_tests(process: subprocess.Popen[str], report_path: Path, stage: int) -> TestRun:
    try:
        output, _ = process.communicate(timeout=TESTS_LIMIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return TestRun(error=f"stopped after {TESTS_LIMIT:g} s")
    try:
        report = read_report(report_path)
    except ValueError:
        last = output.strip().splitlines()
        return TestRun(error=last[-1] if last else f"pytest exited with {process.returncode}")
    return as_test_run(report, stage)


def as_test_run(report: RunReport, stage: int) -> TestRun:
    """A run's report as per-stage counts and failures (file name and test)."""
    run = TestRun(stages={k: StageResult(k) for k in range(1, stage + 1)})
    for row in report.rows:
        run.stages[row.stage] = StageResult(row.stage, row.passed or 0, row.total or 0)
    for failure in report.failures:
        test = failure.test.split("/")[-1]
        run.failures.append((failure.stage, test, _short(failure.reason)))
    return run


def _short(text: str, width: int = 110) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# --- performance ---------------------------------------------------------------


@dataclass
class Timing:
    """The best of the runs at one size; ``bound`` when the limit cut every run off."""

    size: int
    seconds: float | None = None  # one workload's CPU time (or the limit, when ``bound``)
    ops: int | None = None
    runs: int = 0
    measured: float = 0.0  # the CPU time the best run measured (repeats of the workload)
    bound: bool = False
    error: str | None = None

    @property
    def ops_per_second(self) -> float | None:
        if self.seconds is None or self.ops is None or self.bound:
            return None
        return self.ops / self.seconds


def time_workload(
    repo: Repo,
    family: str,
    folder: Path,
    size: int,
    stages: int,
    limit: float,
    baseline: str | None = None,
) -> Timing:
    """Run the workload at ``size`` in a fresh interpreter, best of RUNS, within ``limit``."""
    target = Target(family, folder == repo.workspace(family))
    command = [sys.executable, "-m", "dojo.timing", str(folder), target.module, target.label]
    command += [str(repo.tests(family) / "workload.py"), str(size), str(stages), str(RUNS)]
    command += [str(MIN_SECONDS)]
    command += [baseline] if baseline else []
    process = subprocess.Popen(
        command, cwd=repo.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = process.communicate(timeout=limit)
        killed = False
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        killed = True
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    timing = Timing(size, runs=len(runs))
    if runs:
        best = min(runs, key=lambda r: r["seconds"])
        timing.seconds, timing.ops, timing.measured = best["seconds"], best["ops"], best["measured"]
    elif killed:
        timing.seconds, timing.bound = limit, True
    elif process.returncode != 0:
        lines = err.strip().splitlines()
        timing.error = _short(lines[-1]) if lines else f"exit code {process.returncode}"
    return timing


def exponent(small: Timing, large: Timing) -> float | None:
    """log(time ratio) / log(size ratio); None when either run is too short to tell.

    With ``large`` cut off by the limit the result is a lower bound.
    """
    if small.seconds is None or large.seconds is None or small.bound:
        return None
    if small.measured < MIN_SECONDS or (large.measured < MIN_SECONDS and not large.bound):
        return None
    return math.log(large.seconds / small.seconds) / math.log(large.size / small.size)


def power_words(value: float) -> str:
    """``n``, ``n²``, ``n³``, ``n^4``: the nearest integer power, for sentences."""
    k = max(1, round(value))
    return {1: "n", 2: "n²", 3: "n³"}.get(k, f"n^{k}")


# --- the report ------------------------------------------------------------------


def compare(
    repo: Repo, family: str, unlocked: int, sizes: list[int], limit: float
) -> dict[str, object]:
    """The whole compare report, as plain data (what ``--json`` prints)."""
    tests = run_tests(repo, family, unlocked)
    operations = stage_operations(repo, family)
    reference = repo.solution(family)
    perf = []
    for size in sizes:
        row = {}
        for who, folder in (("learner", repo.workspace(family)), ("reference", reference)):
            progress(
                f"timing {'your code' if who == 'learner' else 'the reference'} at size {size:,}"
            )
            row[who] = time_workload(repo, family, folder, size, unlocked, limit)
        perf.append(row)
    return {
        "family": family,
        "stages": unlocked,
        "limit_seconds": limit,
        "tests": {
            who: {
                "error": run.error,
                "stages": [asdict(s) for s in sorted(run.stages.values(), key=lambda s: s.stage)],
                "failures": [
                    {"stage": k, "test": test, "reason": reason} for k, test, reason in run.failures
                ],
            }
            for who, run in tests.items()
        },
        "workload": {
            "stages": {k: operations.get(k, "") for k in range(1, unlocked + 1)},
            "runs": RUNS,
            "sizes": [_perf_row(row) for row in perf],
            "growth": _growth(perf),
        },
    }


def workload_module(repo: Repo, family: str) -> ModuleType:
    """``tests/F/workload.py``, imported here only for its tables (the timing runs elsewhere)."""
    path = repo.tests(family) / "workload.py"
    if not path.is_file():
        raise FileNotFoundError(f"{repo.relative(path)} is missing: {family} has no workload")
    spec = importlib.util.spec_from_file_location(f"_kata_workload_{family}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stage_operations(repo: Repo, family: str) -> dict[int, str]:
    """The workload's ``STAGE_OPERATIONS``: what it does with each stage's API."""
    return dict(getattr(workload_module(repo, family), "STAGE_OPERATIONS", {}))


def _perf_row(row: dict[str, Timing]) -> dict[str, object]:
    learner, reference = row["learner"], row["reference"]
    mine, theirs = learner.ops_per_second, reference.ops_per_second
    # Cut off: at most the reference's operations in the time limit.
    cut = learner.bound and reference.ops is not None and learner.seconds is not None
    mine_bound = reference.ops / learner.seconds if cut else None  # type: ignore[operator]
    return {
        "size": learner.size,
        "learner": {**asdict(learner), "ops_per_second": mine, "ops_per_second_below": mine_bound},
        "reference": {**asdict(reference), "ops_per_second": theirs},
        "ratio": mine / theirs if mine and theirs else None,
        "ratio_below": mine_bound / theirs if mine_bound and theirs else None,
    }


def _growth(perf: list[dict[str, Timing]]) -> list[dict[str, object]]:
    growth = []
    for before, after in itertools.pairwise(perf):
        mine = exponent(before["learner"], after["learner"])
        theirs = exponent(before["reference"], after["reference"])
        growth.append(
            {
                "from": before["learner"].size,
                "to": after["learner"].size,
                "learner": mine,
                "learner_is_lower_bound": after["learner"].bound,
                "reference": theirs,
                "flag": _flag(mine, theirs),
            }
        )
    return growth


def _flag(mine: float | None, theirs: float | None) -> str | None:
    """The sentence calling out a learner exponent clearly above the reference's."""
    if mine is None:
        return None
    if theirs is None:
        if mine < 1 + FLAG_MARGIN:
            return None
        return f"your code grows like {power_words(mine)} (the reference's growth is unknown)"
    if mine <= theirs + FLAG_MARGIN:
        return None
    return f"your code grows like {power_words(mine)} where the reference grows like " + (
        power_words(theirs)
    )


def bench(
    repo: Repo, families: list[str], sizes: list[int], limit: float, last_stage: int
) -> list[dict[str, object]]:
    """The workloads (all stages) and baselines on the reference alone, as rows."""
    rows = []
    for family in families:
        names = [None, *getattr(workload_module(repo, family), "BASELINES", {})]
        for baseline in names:
            for size in sizes:
                progress(f"timing {family} {baseline or 'workload'} at size {size:,}")
                timing = time_workload(
                    repo, family, repo.solution(family), size, last_stage, limit, baseline
                )
                rows.append(
                    {
                        "family": family,
                        "workload": baseline or f"workload, stages 1-{last_stage}",
                        **asdict(timing),
                        "ops_per_second": timing.ops_per_second,
                    }
                )
    return rows


# --- text ------------------------------------------------------------------------


def render_compare(report: dict[str, Any]) -> list[str]:
    """The compare report as the lines ``kata compare`` prints."""
    family, stages = report["family"], report["stages"]
    lines = [
        f"kata compare {family}: your code (katas/{family}/) beside the reference "
        f"(solutions/{family}/), {_span(stages)} (unlocked)",
        "",
        "Tests passed",
    ]
    mine, theirs = report["tests"]["learner"], report["tests"]["reference"]
    cells = [("stage", "yours", "reference")]
    for k in range(1, stages + 1):
        cells.append((str(k), _passed(mine, k), _passed(theirs, k)))
    lines += align(cells)
    for who, run in (("your code", mine), ("the reference", theirs)):
        if run["error"]:
            lines.append(f"The test run of {who} failed: {run['error']}")
    if mine["failures"]:
        lines.append("Failing tests of your code:")
        lines += [f"  stage {f['stage']}  {f['test']}: {f['reason']}" for f in mine["failures"]]
    work = report["workload"]
    lines += ["", f"Performance: the workload uses the operations of {_span(stages)}:"]
    lines += [f"  stage {k}: {ops}" for k, ops in work["stages"].items()]
    lines.append(
        f"Best of {work['runs']} runs per size (CPU time), each size in a fresh process, "
        f"at most {_seconds(report['limit_seconds'])} per size."
    )
    growth = {g["to"]: g for g in work["growth"]}
    cells = [
        (
            "size",
            "your time",
            "your ops/s",
            "ref time",
            "ref ops/s",
            "yours/ref",
            "your growth",
            "ref growth",
        )
    ]
    notes = []
    for row in work["sizes"]:
        g = growth.get(row["size"], {})
        me, ref = row["learner"], row["reference"]
        cells.append(
            (
                f"{row['size']:,}",
                _time(me),
                _rate(me),
                _time(ref),
                _rate(ref),
                _ratio(row),
                _exponent(g.get("learner"), g.get("learner_is_lower_bound", False)),
                _exponent(g.get("reference"), False),
            )
        )
        for who, t in (("your code", me), ("the reference", ref)):
            if t["error"]:
                notes.append(f"At size {row['size']:,} {who} failed: {t['error']}")
            elif t["bound"]:
                notes.append(
                    f"At size {row['size']:,} {who} was stopped at the limit "
                    f"({_seconds(t['seconds'])}) before finishing one run."
                )
    lines += align(cells)
    lines += notes
    lines.append(
        f"Growth n^k between sizes: k = log(time ratio) / log(size ratio); n^1 is linear, "
        f"n^2 quadratic. A run repeats a short workload until it takes "
        f"{MIN_SECONDS * 1000:.0f} ms."
    )
    for g in work["growth"]:
        if g["flag"]:
            lines.append(f"!! From size {g['from']:,} to {g['to']:,}, {g['flag']}.")
    return lines


def render_bench(rows: list[dict[str, Any]]) -> list[str]:
    cells = [("family", "workload", "size", "ops/s", "best time")]
    for r in rows:
        cells.append((r["family"], r["workload"], f"{r['size']:,}", _rate(r), _time(r)))
    return align(cells, left={0, 1})


def _span(stages: int) -> str:
    return "stage 1" if stages == 1 else f"stages 1-{stages}"


def _passed(run: dict[str, Any], stage: int) -> str:
    found = [s for s in run["stages"] if s["stage"] == stage]
    return f"{found[0]['passed']}/{found[0]['total']}" if found else "-"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _time(t: dict[str, Any]) -> str:
    if t["error"]:
        return "error"
    if t["seconds"] is None:
        return "-"
    if t["bound"]:
        return f"> {_seconds(t['seconds'])}"
    return f"{t['seconds'] * 1000:.0f} ms" if t["seconds"] < 1 else f"{t['seconds']:.2f} s"


def _rate(t: dict[str, Any]) -> str:
    if t.get("ops_per_second") is not None:
        return f"{t['ops_per_second']:,.0f}"
    if t.get("ops_per_second_below") is not None:
        return f"< {t['ops_per_second_below']:,.0f}"
    return "-"


def _ratio(row: dict[str, Any]) -> str:
    if row["ratio"] is not None:
        return f"{row['ratio']:.2f}"
    return "-" if row["ratio_below"] is None else f"< {row['ratio_below']:.2f}"


def _exponent(value: float | None, lower_bound: bool) -> str:
    if value is None:
        return "-"
    return f"{'> ' if lower_bound else ''}n^{value:.2f}"
