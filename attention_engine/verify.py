"""The verification sweep: every kind x difficulty x seed, checked end to end.

For each variant:

* ``generate`` returns (a route disagreement raises inside it, and shows up here as a failure);
* the verification record names at least two routes and says they agreed;
* the variant survives a JSON round trip and ``public`` hides the key;
* the key, read back from JSON, grades exactly 1.0;
* each catalogued misconception's answer grades below 1 and is named by its own code;
* a format-error answer yields ``format_errors`` and score 0;
* for the first seeds, generating again gives byte-identical JSON;

and the review sweeps of issue #16:

* (a) ``precision``: the key rounded to the precision the prompt states (the kind's
  ``stated_precision``) scores 1;
* (b) ``independent``: mistakes recomputed here, on routes of this module's own (torch
  built-ins with the wrong argument, modules built without biases ...), are named with their
  code and score below 1, for the kinds where such a route is written (``INDEPENDENT``);
* (c) ``distinct``: no two catalogued procedures, nor one and the right one, agree within
  the tolerance on every part;
* (d) ``rounded``: every mistake rounded to the stated precision, and for exact counts every
  mistake and the key abbreviated to 3 and 4 significant figures, never scores 1, and a mistake
  so typed is still named.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from attention_engine import registry
from attention_engine.grading import format_error_probe, matches, rounded
from attention_engine.variant import Variant, as_array

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
    failures.extend(check_review(module, stored))
    return failures


# ----------------------------------------------------------------------------- independent mistakes


def _attention_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """The attention kinds' wrong procedures, as torch computes them with the wrong argument."""
    import torch

    p = variant.params
    x_q = torch.tensor(p["X_dec"] if "X_dec" in p else p["X"], dtype=torch.float64)
    x_kv = torch.tensor(p["X_enc"] if "X_enc" in p else p["X"], dtype=torch.float64)
    q, k, v = x_q @ torch.tensor(p["W_q"], dtype=torch.float64), *(
        x_kv @ torch.tensor(p[w], dtype=torch.float64) for w in ("W_k", "W_v"))  # (T, d_k)
    t_q, t_k, d_k = q.shape[0], k.shape[0], q.shape[1]
    if variant.kind == "causal_mask":
        allowed = torch.ones(t_q, t_k, dtype=torch.bool).tril()
    elif variant.kind == "padding_mask":
        allowed = (torch.arange(t_k) < int(p["length"])).expand(t_q, t_k)
    else:
        allowed = torch.ones(t_q, t_k, dtype=torch.bool)

    def run(scores: Any, mask: Any = allowed, dim: int = -1) -> dict[str, Any]:
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=dim).nan_to_num(0.0)
        return {"scores": scores, "weights": weights, "output": weights @ v}

    scores = q @ k.T / d_k**0.5
    after = torch.softmax(scores, dim=-1) * allowed
    out = {
        "no_scaling": run(q @ k.T),
        "scaled_by_dk": run(q @ k.T / d_k),
        "wrong_softmax_axis": run(scores, dim=0),
        "kq_transposed": run(k @ q.T / d_k**0.5) if t_q == t_k else None,
        "mask_after_softmax": {"scores": scores, "weights": after, "output": after @ v},
        "no_mask": run(scores, torch.ones_like(allowed)),
        "wrong_triangle": run(scores, allowed.T) if t_q == t_k else None,
        "masked_queries": run(scores, allowed[0].unsqueeze(1).expand(t_q, t_k)) if t_q == t_k else None,
    }
    module = registry.get_kind(variant.kind)
    asked = {part.name for part in variant.parts}
    return {
        code: {n: value.numpy() for n, value in answer.items() if n in asked}
        for code, answer in out.items()
        if answer is not None and code in module.MISCONCEPTIONS
    }


def _softmax_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """softmax_stability's wrong procedures with ``torch.softmax`` / ``torch.logsumexp``."""
    import torch

    z, tau = torch.tensor(variant.params["z"], dtype=torch.float64), float(variant.params["tau"])

    def full(scaled: Any, shift: float) -> dict[str, Any]:
        return {"shifted": (scaled - shift).numpy(), "probabilities": torch.softmax(scaled, 0).numpy(),
                "logsumexp": float(torch.logsumexp(scaled, 0))}

    lse = float(torch.logsumexp(z / tau, 0))
    return {
        "temperature_multiplied": full(z * tau, float(z.max()) * tau),
        "no_temperature": full(z, float(z.max())),
        "shift_by_min": {"shifted": ((z - z.min()) / tau).numpy()},
        "lse_forgot_max": {"logsumexp": lse - float(z.max()) / tau},
        "lse_max_only": {"logsumexp": float(z.max()) / tau},
    }


def _mha_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """mha_params' wrong counts from ``nn.Linear`` modules on the meta device."""
    from torch import nn

    p, difficulty = variant.params, variant.difficulty
    d, h, layers = p["d_model"], p["heads"], p["layers"]
    inner = h * (p["d_head"] or d // h)

    def count(bias: bool = p["bias"], inner: int = inner, encoder: bool = True, out: bool = True) -> tuple[int, int]:
        kdim, vdim = (p["kdim"], p["vdim"]) if encoder else (None, None)
        projections = [nn.Linear(fan_in, inner, bias=bias, device="meta") for fan_in in (d, kdim or d, vdim or d)]
        inputs = sum(t.numel() for m in projections for t in m.parameters())
        output = sum(t.numel() for t in nn.Linear(inner, d, bias=bias, device="meta").parameters()) if out else 0
        return inputs, inputs + output

    def asked(inputs: int, total: int) -> dict[str, int]:
        if difficulty == "easy":
            return {"params": total}
        if difficulty == "medium":
            return {"input_projections": inputs, "total": total}
        return {"per_layer": total, "all_layers": total * layers}

    right = asked(*count())
    wrong = {
        "per_head_only": asked(*count(inner=inner // h)),
        "heads_times_full": {n: value * h for n, value in right.items()},
        "forgot_output_projection": asked(*count(out=False)),
        "forgot_bias": asked(*count(bias=False)) if p["bias"] else None,
        "bias_when_none": None if p["bias"] else asked(*count(bias=True)),
        "ignored_kdim": asked(*count(encoder=False)) if p["kdim"] else None,
        "inner_width_is_d_model": asked(*count(inner=d)) if p["d_head"] else None,
        "per_layer_only": {"all_layers": right["per_layer"]} if layers > 1 else None,
    }
    return {code: answer for code, answer in wrong.items() if answer is not None}


# Kinds whose mistakes this module recomputes on a route of its own (criterion (b)); the rest
# are checked through their own catalogue only.
INDEPENDENT = {
    "self_attention": _attention_mistakes,
    "qkv_pipeline": _attention_mistakes,
    "causal_mask": _attention_mistakes,
    "padding_mask": _attention_mistakes,
    "cross_attention": _attention_mistakes,
    "softmax_stability": _softmax_mistakes,
    "mha_params": _mha_mistakes,
}
ABBREVIATION_FIGURES = (3, 4)


def _distinct(variant: Variant, procedures: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of procedures (the key is ``"key"``) that agree within tolerance on every part."""
    names = list(procedures)
    clashes = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = procedures[first], procedures[second]
            if all(matches(a[p.name], as_array(b[p.name]), p.tolerance) for p in variant.parts):
                clashes.append((first, second))
    return clashes


def _abbreviations(value: float) -> list[str]:
    return [f"{value:.{figures - 1}e}" for figures in ABBREVIATION_FIGURES]


def check_review(module: Any, stored: Variant) -> list[tuple[str, str]]:
    """The sweeps (a)-(d) of issue #16 for one stored variant (see the module docstring)."""
    failures: list[tuple[str, str]] = []
    if not hasattr(module, "stated_precision"):
        return [("precision", "the kind does not declare the precision its prompt states")]
    precision = module.stated_precision(stored)
    key = dict(stored.answer)
    result = module.grade(stored, rounded(key, precision))
    if result.score != 1.0:
        failures.append(("precision", f"the key rounded as the prompt states grades {result.score}: {result.feedback}"))
    catalogue = {code: {**key, **answer} for code, answer in module.misconception_answers(stored).items()}
    if stored.kind in INDEPENDENT:
        ours = INDEPENDENT[stored.kind](stored)
        for code in set(catalogue) - set(ours):
            failures.append(("independent", f"{code} is catalogued but not recomputed independently"))
        for code, answer in ours.items():
            result = module.grade(stored, {**key, **answer})
            if result.score >= 1.0 or result.misconception != code:
                failures.append(("independent", f"{code} (recomputed) grades {result.score}, named {result.misconception!r}"))
    for first, second in _distinct(stored, {"key": key, **catalogue}):
        failures.append(("distinct", f"{first} and {second} agree within tolerance"))
    for code, full in catalogue.items():
        result = module.grade(stored, rounded(full, precision))
        if result.score >= 1.0 or result.misconception != code:
            failures.append(("rounded", f"{code} rounded as stated grades {result.score}, named {result.misconception!r}"))
    # Abbreviations are read as such by the counting kinds' grader only (elsewhere "1.02e3" is
    # just the number 1020, typed exactly).
    abbreviating = module.grade.__qualname__.startswith("count_grader.")
    exact = [p for p in stored.parts if abbreviating and p.tolerance.rel == 0 and precision[p.name].exact and not p.shape]
    for part in exact:
        for code, full in (("key", key), *catalogue.items()):
            value = float(as_array(full[part.name]))
            if abs(value) < 1000 or (code != "key" and value == float(as_array(key[part.name]))):
                continue
            for typed in _abbreviations(value):
                result = module.grade(stored, {**key, **({} if code == "key" else full), part.name: typed})
                if result.score >= 1.0:
                    failures.append(("rounded", f"{part.name} typed {typed} ({code}) scores {result.score}"))
                elif code != "key" and result.misconception is None:
                    failures.append(("rounded", f"{part.name} typed {typed} ({code}) names no mistake"))
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
