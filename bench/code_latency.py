"""python -m bench.code_latency: how long a code answer waits for its grade (issue #14).

For each framework, a right answer (the kind's model solution) graded through
``attention_engine.code.grade``, one at a time as the code worker grades them, with the warm pool
refilled between answers as it is while the worker waits for the next one. Printed per
framework: p50 and p90 of the whole grade, and its two parts measured in the same runs, the
sandbox start (``bwrap`` up to the harness waiting, framework imported: what the warm pool takes
off the learner's wait) and the test run (go signal to results read, compared, graded); the floor
of the same machine is a bare ``bwrap -- python -c pass`` round trip.

Needs ``bwrap`` (Debian's bubblewrap). Target: a right answer graded in <= 1.5 s p50.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from attention_engine import code
from attention_engine.code import sandbox

ANSWERS = 15  # per framework
KINDS = {"numpy": "code_attention_numpy", "torch": "code_attention_torch"}
TARGET_P50 = 1.5


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _floor() -> float:
    """A bare sandboxed Python start and exit, the least a fresh sandbox costs."""
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", sys.executable, "-I", "-c", "pass"]
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(command, check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _start_seconds(framework: str) -> float:
    """From Popen to the harness waiting for its go signal (framework imported): a cold start."""
    started = time.perf_counter()
    box = sandbox.Sandbox.start(framework)
    try:
        while not box.ready():
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        box.close()


def main() -> None:
    reason = sandbox.available()
    if reason:
        print(f"code latency: not measured ({reason})")
        return
    floor = _floor()
    print(f"code grading latency, {ANSWERS} right answers per framework, one at a time (seconds)")
    print(f"{'framework':<10}{'p50':>8}{'p90':>8}{'start':>8}{'run':>8}{'floor':>8}{'p50/target':>12}")
    for framework, kind in KINDS.items():
        variant = code.generate(kind, 1, "hard")
        solution = {"code": variant["answer"]["code"]}
        code.grade(variant, solution)  # the first sandbox of the worker: cold
        totals, runs = [], []
        for _ in range(ANSWERS):
            sandbox.POOL.warm(framework)
            while not _warm_ready(framework):
                time.sleep(0.05)
            start = time.perf_counter()
            result = code.grade(variant, solution)
            totals.append(time.perf_counter() - start)
            runs.append(result["seconds"])
            assert result["score"] == 1.0, result["feedback"]
        cold = statistics.median(_start_seconds(framework) for _ in range(3))
        p50 = statistics.median(totals)
        print(f"{framework:<10}{p50:>8.2f}{_quantile(totals, 0.9):>8.2f}{cold:>8.2f}{statistics.median(runs):>8.2f}"
              f"{floor:>8.2f}{p50 / TARGET_P50:>12.2f}", flush=True)
    sandbox.POOL.close()


def _warm_ready(framework: str) -> bool:
    """Whether the pool's warm sandbox has imported its framework and waits."""
    box = sandbox.POOL._warm.get((framework, sandbox.Limits()))  # noqa: SLF001 - timing only
    return box is not None and box.ready()


if __name__ == "__main__":
    main()
