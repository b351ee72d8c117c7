"""The verification sweep: every kind x difficulty x seed, checked end to end.

For each variant:

* ``generate`` returns (a route disagreement raises inside it, and shows up here as a failure);
* the verification record names at least two routes and says they agreed;
* the variant survives a JSON round trip and ``public`` hides the key;
* the key, read back from JSON, grades exactly 1.0;
* each catalogued misconception's answer grades below 1 and is named by its own code;
* a format-error answer yields ``format_errors`` and score 0;
* for the first seeds, generating again gives byte-identical JSON.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from attention_engine import registry
from attention_engine.grading import format_error_probe
from attention_engine.variant import Variant

DETERMINISM_SEEDS = 3
MAX_MESSAGES_PER_CELL = 10


def check_variant(module: Any, seed: int, difficulty: str) -> list[tuple[str, str]]:
    """All checks for one (kind, seed, difficulty); returns ``[(check, message)]`` failures."""
    try:
        variant = module.generate(seed, difficulty)
    except Exception as exc:  # a failure to report, not to crash the sweep on
        return [("generate", f"{type(exc).__name__}: {exc}")]
    failures: list[tuple[str, str]] = []
    record = variant.verification
    if not record.agreed or len(record.routes) < 2:
        failures.append(("routes", f"verification record {record.to_dict()}"))
    text = json.dumps(variant.to_dict(), sort_keys=True)
    stored = Variant.from_dict(json.loads(text))
    key_grade = module.grade(stored, stored.answer)
    if key_grade.score != 1.0:
        failures.append(("key", f"the key grades {key_grade.score}: {key_grade.feedback}"))
    for code, answer in module.misconception_answers(stored).items():
        if code not in module.MISCONCEPTIONS:
            failures.append(("misconception", f"{code} is not in the catalogue"))
            continue
        result = module.grade(stored, {**stored.answer, **answer})
        if result.score >= 1.0 or result.misconception != code:
            failures.append(("misconception", f"{code} grades {result.score}, named {result.misconception!r}"))
    probe = module.grade(stored, {**stored.answer, **format_error_probe(stored)})
    if not probe.format_errors or probe.score != 0.0:
        failures.append(("format", f"a text answer gave score {probe.score} and no format error"))
    if seed < DETERMINISM_SEEDS and json.dumps(module.generate(seed, difficulty).to_dict(), sort_keys=True) != text:
        failures.append(("determinism", "generating the same seed twice gave different JSON"))
    return failures


def set_single_thread() -> None:
    # The problems are tiny: torch's intra-op threads only add contention, more so when
    # several sweep processes share a small CI machine.
    import torch

    torch.set_num_threads(1)


def _check_chunk(kind: str, difficulty: str, seeds: range) -> tuple[str, str, list[dict[str, Any]], float]:
    """Check one block of seeds of one (kind, difficulty); runs in-process or in a worker."""
    module = registry.get_kind(kind)
    start = time.perf_counter()
    failures = [
        {"seed": seed, "check": check, "message": message}
        for seed in seeds
        for check, message in check_variant(module, seed, difficulty)
    ]
    return kind, difficulty, failures, time.perf_counter() - start


def _chunks(kinds: list[str], difficulties: list[str], seeds: int, size: int) -> list[tuple[str, str, range]]:
    return [
        (kind, difficulty, range(lo, min(lo + size, seeds)))
        for kind in kinds
        for difficulty in difficulties
        for lo in range(0, seeds, size)
    ]


def run_verification(kinds: Iterable[str], seeds: int, difficulties: Iterable[str], jobs: int = 1) -> dict[str, Any]:
    """Sweep ``kinds`` x ``difficulties`` x ``range(seeds)``; ``ok`` is False on any failure.

    ``jobs > 1`` spreads blocks of seeds over that many worker processes (started with
    ``spawn``: a fresh interpreter never inherits a CUDA context). Each row's ``seconds`` is
    the time spent on that row summed over workers; the report's ``seconds`` is wall time.
    """
    kinds, difficulties = list(kinds), list(difficulties)
    for kind in kinds:
        registry.get_kind(kind)  # unknown kinds fail here, before any work starts
    started = time.perf_counter()
    results: dict[tuple[str, str], tuple[list[dict[str, Any]], float]] = {
        (k, d): ([], 0.0) for k in kinds for d in difficulties
    }
    if jobs <= 1:
        outcomes = [_check_chunk(*chunk) for chunk in _chunks(kinds, difficulties, seeds, seeds)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=set_single_thread) as pool:
            chunks = _chunks(kinds, difficulties, seeds, max(1, min(50, seeds // 2 or 1)))
            outcomes = list(pool.map(_check_chunk, *zip(*chunks, strict=True)))
    for kind, difficulty, failures, seconds in outcomes:
        previous, spent = results[(kind, difficulty)]
        results[(kind, difficulty)] = (previous + failures, spent + seconds)
    rows = []
    for (kind, difficulty), (failures, seconds) in results.items():
        failures.sort(key=lambda f: f["seed"])
        rows.append({
            "kind": kind,
            "difficulty": difficulty,
            "variants": seeds,
            "failed": len({f["seed"] for f in failures}),
            "failures": failures[:MAX_MESSAGES_PER_CELL],
            "seconds": round(seconds, 3),
        })
    return {
        "ok": all(r["failed"] == 0 for r in rows),
        "seeds": seeds,
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
    }


def summary_table(report: dict[str, Any]) -> str:
    """A plain-text table of the sweep, then the first failure messages."""
    lines = [f"{'kind':<22} {'difficulty':<10} {'variants':>8} {'failed':>7} {'seconds':>8}"]
    for r in report["rows"]:
        lines.append(f"{r['kind']:<22} {r['difficulty']:<10} {r['variants']:>8} {r['failed']:>7} {r['seconds']:>8.2f}")
    lines.append(f"{'total':<22} {'':<10} {sum(r['variants'] for r in report['rows']):>8} "
                 f"{sum(r['failed'] for r in report['rows']):>7} {report['seconds']:>8.2f}")
    for r in report["rows"]:
        for f in r["failures"]:
            lines.append(f"FAIL {r['kind']} {r['difficulty']} seed {f['seed']} [{f['check']}]: {f['message']}")
    lines.append("OK" if report["ok"] else "FAILED")
    return "\n".join(lines)
