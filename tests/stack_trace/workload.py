"""The stack_trace performance workload, for ``kata compare`` and ``kata bench``.

``workload(impl, n, stages)`` builds n samples (stacks a random walk up to 12
deep over 50 function names) and runs them through the operations of stages
1..stages; it returns the number of samples processed in all.
"""

from __future__ import annotations

import random

STAGE_OPERATIONS = {
    1: "convert_to_trace",
    2: "convert_to_trace with min_samples=2",
    3: "TraceBuilder.feed / close over 4 threads",
    4: "function_stats and to_chrome_trace of the events",
}
NAMES = [f"fn{i}" for i in range(50)]
THREADS = 4


def workload(impl: object, n: int, stages: int) -> int:
    """Process n samples through each unlocked stage's operations; returns the count."""
    rng = random.Random(n)
    threads = THREADS if stages >= 3 else 1
    stacks: list[list[str]] = [["main"] for _ in range(threads)]
    samples = []
    for i in range(n):
        thread = i % threads
        stack = stacks[thread]
        move = rng.random()
        if move < 0.3 and len(stack) < 12:
            stack.append(rng.choice(NAMES))
        elif move < 0.6 and len(stack) > 1:
            stack.pop()
        elif move < 0.7 and len(stack) > 1:
            stack[-1] = rng.choice(NAMES)
        extra = (thread,) if stages >= 3 else ()
        samples.append(impl.Sample(i * 0.001, list(stack), *extra))
    ops = n
    impl.convert_to_trace(samples)
    if stages >= 2:
        impl.convert_to_trace(samples, min_samples=2)
        ops += n
    if stages >= 3:
        builder = impl.TraceBuilder()
        events = []
        for sample in samples:
            events += builder.feed(sample)
        events += builder.close(n * 0.001)
        ops += n
        if stages >= 4:
            impl.function_stats(events)
            impl.to_chrome_trace(events)
            ops += 2 * n
    return ops
