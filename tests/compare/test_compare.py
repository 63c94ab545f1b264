"""``kata compare F`` and ``kata bench``, on the toy kit with learners written to fail.

No test here checks a time against a threshold: the quadratic learner is
recognised by its growth exponent, the hung one by being cut off at its limit.
"""

from __future__ import annotations

import json

import pytest

from dojo.compare import render_compare
from dojo.state import Progress
from tests.cli.conftest import Dojo

REFERENCE = (
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    "def mul(a, b):\n    return a * b\n\n\ndef div(a, b):\n    return a // b\n"
)

# O(a) work where O(1) will do: the workload calls add(i + 1, 1) for i < n, so
# n calls take time ~ n² (up to the cap, which keeps the tests' huge random
# integers quick). No state carries over between runs, so repeated short runs
# measure the same work as long ones.
QUADRATIC = REFERENCE.replace(
    "    return a + b\n",
    "    for _ in range(min(abs(a), 10_000)):\n        pass\n    return a + b\n",
)

# Each test starts pytest and timing processes: a busy machine needs more than
# the default 10 s, and a hang is still caught.
pytestmark = pytest.mark.timeout(60)

BROKEN_SUB = REFERENCE.replace("return a - b", "return b - a")

# Hangs only inside the workload, so that its test run stays quick.
HUNG = "import sys\n\n\n" + REFERENCE.replace(
    "def add(a, b):\n",
    "def add(a, b):\n    while '_kata_workload' in sys.modules:\n        pass\n",
)


def unlock(kit: Dojo, stage: int) -> None:
    progress = Progress(kit.home)
    progress.unlock("toy", stage)
    progress.save()


def test_the_report_names_each_failing_test_with_its_reason_for_unlocked_stages_only(
    kit: Dojo,
) -> None:
    kit.write_learner(BROKEN_SUB)
    unlock(kit, 2)
    before = (kit.home / "progress.json").read_text()

    code, out, err = kit.kata("compare", "toy", "--sizes", "100")

    assert code == 0, err
    assert "test_stage2.py::test_sub_subtracts: assert" in out
    assert "test_stage1.py" not in out.split("Failing tests of your code:")[1]
    lines = out.splitlines()
    assert any(line.split() == ["1", "2/2", "2/2"] for line in lines), out
    assert any(line.split() == ["2", "0/1", "1/1"] for line in lines), out
    assert "test_mul" not in out and "stage 3" not in out, "a locked stage must stay hidden"
    assert "stage 2: sub" in out
    assert (kit.home / "progress.json").read_text() == before, "compare recorded progress"
    assert not (kit.home / "attempts.json").exists()


def test_a_quadratic_learner_is_called_out_as_growing_like_n_squared(kit: Dojo) -> None:
    kit.write_learner(QUADRATIC)

    code, out, err = kit.kata("compare", "toy", "--sizes", "2000,8000", "--json")

    assert code == 0, err
    report = json.loads(out)
    assert report["tests"]["learner"]["failures"] == []
    (growth,) = report["workload"]["growth"]
    assert growth["learner"] > 1.5, report["workload"]
    assert (growth["flag"] or "").startswith("your code grows like n²"), report["workload"]
    assert all(row["ratio"] < 1 for row in report["workload"]["sizes"])
    text = "\n".join(render_compare(report))
    assert "!! From size 2,000 to 8,000, your code grows like n²" in text


def test_a_hung_learner_is_stopped_at_the_limit_and_reported_as_a_lower_bound(
    kit: Dojo,
) -> None:
    kit.write_learner(HUNG)

    code, out, err = kit.kata("compare", "toy", "--sizes", "100", "--limit", "1")

    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("100 "))
    assert row.split()[1:3] == [">", "1"], row
    assert "your code was stopped at the limit (1 s)" in out


def test_compare_without_a_workspace_says_which_command_creates_it(kit: Dojo) -> None:
    code, _, err = kit.kata("compare", "toy")

    assert code == 1
    assert "katas/toy/__init__.py does not exist yet: `pytest --stage 1 katas/toy`" in err


def test_bench_measures_every_stage_of_the_reference_at_each_size(kit: Dojo) -> None:
    code, out, err = kit.kata("bench", "--sizes", "100,200", "--json")

    assert code == 0, err
    rows = json.loads(out)
    assert [(r["family"], r["size"], r["runs"]) for r in rows] == [("toy", 100, 3), ("toy", 200, 3)]
    assert all(r["ops"] == r["size"] and r["ops_per_second"] > 0 for r in rows)
    assert rows[0]["workload"] == "workload, stages 1-4"
