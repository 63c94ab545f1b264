"""One timing process of ``kata compare`` and ``kata bench``: ``python -m dojo.timing ...``.

Arguments: ``FOLDER NAME LABEL WORKLOAD N STAGES RUNS MIN_SECONDS [BASELINE]``.
It imports the code under test from ``FOLDER`` as ``NAME``, then runs the
family's workload (or the named baseline) ``RUNS`` times. A run repeats the
workload until it has measured ``MIN_SECONDS`` of CPU time (as timeit does),
so short workloads are measured too. It prints one JSON line per finished run,
flushed, so a run cut off by the caller's time limit still leaves the runs
before it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

from dojo.loader import ImplementationError, load_package


def main(argv: list[str]) -> int:
    folder, name, label, path, n, stages, runs, least, *baseline = argv
    try:
        impl = load_package(Path(folder), name, label)
    except ImplementationError as exc:
        print(exc, file=sys.stderr)
        return 1
    spec = importlib.util.spec_from_file_location("_kata_workload", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if baseline:
        run = module.BASELINES[baseline[0]]
    else:

        def run(impl: object, size: int) -> int:
            return module.workload(impl, size, int(stages))

    for _ in range(int(runs)):
        spent, repeats, ops = 0.0, 0, 0
        while spent < float(least):
            start = time.process_time()
            ops = run(impl, int(n))
            spent += time.process_time() - start
            repeats += 1
        print(json.dumps({"seconds": spent / repeats, "ops": ops, "measured": spent}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
