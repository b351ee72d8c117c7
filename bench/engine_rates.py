"""Engine throughput on one CPU core: one at a time vs in bulk, measured in the same run.

Per kind: ``api.generate`` in a loop vs ``api.generate_batch`` over the same seeds (variants/s,
and with each variant written as a JSON line by orjson as the ``batch`` command does), and
``api.grade`` in a loop vs ``api.grade_batch`` over the same answers (the key and each
catalogued mistake's answer). The targets are issue #15's; for each kind short of one, the
engine functions its time goes to (``hotspots``, a profile of the same run) say why.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Sized

import orjson

from attention_engine import api, registry
from attention_engine.variant import Variant, to_jsonable

# variants/s on one core, issue #15
TARGETS = {
    **dict.fromkeys(("self_attention", "qkv_pipeline", "causal_mask", "padding_mask", "cross_attention", "by_hand",
                     "multihead_shapes", "softmax_stability", "layer_norm", "sinusoidal_positions"), 20_000),
    **dict.fromkeys(("mha_params", "model_params", "flops", "kv_cache"), 2_000),
    "variance_scaling": 200,
}
GRADE_TARGET = 20_000
DIFFICULTY = "medium"
SECONDS = 0.5  # measuring time per single-variant loop
BATCH = 1024  # seeds per batch measurement, for the kinds with a bulk path of their own
HOTSPOTS = 4  # engine functions named per kind short of a target


def _rate(count: int, fn: Callable[[], object], repeat: int = 1) -> float:
    """``count`` items over the time of ``fn``: the best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def _single_seeds(kind: str) -> range:
    """As many seeds as ``generate`` gets through in about ``SECONDS`` (at least 20)."""
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < SECONDS / 4:
        api.generate(kind, 10_000 + n, DIFFICULTY)
        n += 1
    return range(0, max(20, 4 * n))


def main() -> None:
    import torch

    torch.set_num_threads(1)
    os.environ["ATTN_DEVICE"] = "cpu"
    print(f"engine rates, one CPU core, difficulty {DIFFICULTY} (variants or answers per second)")
    header = (f"{'kind':<22}{'generate':>10}{'batch':>10}{'ratio':>7}{'batch+json':>12}{'target':>9}"
              f"{'grade':>10}{'grade_b':>10}{'ratio':>7}")
    print(header)
    short: list[tuple[str, str, float, Sized, Callable[[], object]]] = []
    for kind in registry.available_names():
        api.generate_batch(kind, [0], DIFFICULTY)  # imports, torch set-up
        seeds = _single_seeds(kind)
        single = _rate(len(seeds), lambda: [api.generate(kind, s, DIFFICULTY) for s in seeds])  # noqa: B023
        # A kind with its own bulk path gets a batch big enough to amortise it (same seeds first).
        if hasattr(registry.get_kind(kind), "generate_batch"):
            seeds = range(max(len(seeds), BATCH))
        bulk = _rate(len(seeds), lambda: api.generate_batch(kind, seeds, DIFFICULTY))  # noqa: B023
        lines = _rate(len(seeds), lambda: [orjson.dumps(v, option=orjson.OPT_SORT_KEYS)  # noqa: B023
                                           for v in api.generate_batch(kind, seeds, DIFFICULTY)])  # noqa: B023
        variants, answers = _answers(kind, api.generate_batch(kind, range(50), DIFFICULTY))
        grade_one = _rate(len(answers), lambda: [api.grade(v, a) for v, a in zip(variants, answers, strict=True)],  # noqa: B023
                          repeat=3)
        grade_bulk = _rate(len(answers), lambda: api.grade_batch(variants, answers), repeat=3)  # noqa: B023
        print(f"{kind:<22}{single:>10,.0f}{bulk:>10,.0f}{bulk / single:>7.1f}{lines:>12,.0f}{TARGETS.get(kind, 0):>9,}"
              f"{grade_one:>10,.0f}{grade_bulk:>10,.0f}{grade_bulk / grade_one:>7.1f}", flush=True)
        if bulk < TARGETS.get(kind, 0):
            short.append((kind, "generate_batch", TARGETS[kind] / bulk, seeds,
                          lambda: api.generate_batch(kind, seeds, DIFFICULTY)))  # noqa: B023
        if grade_bulk < GRADE_TARGET:
            short.append((kind, "grade_batch", GRADE_TARGET / grade_bulk, answers,
                          lambda: api.grade_batch(variants, answers)))  # noqa: B023
    print(f"(grading target: {GRADE_TARGET:,} answers/s in bulk)")
    if short:
        print("\nwhere the time goes, short of a target (share of the run, by engine function and what it calls"
              " outside the engine; profiled, so read the shares, not the times)")
    for kind, path, factor, items, fn in short:
        spots = ", ".join(f"{name} {share:.0%}" for name, share in hotspots(fn)[:HOTSPOTS])
        print(f"{kind:<22}{path:<15} {factor:>5.1f}x short over {len(items):,}: {spots}", flush=True)


def hotspots(fn: Callable[[], object]) -> list[tuple[str, float]]:
    """Where ``fn`` spends its time, by engine function: its own time plus that of whatever it
    calls outside ``attention_engine`` (numpy, torch, the standard library), as shares of the run,
    largest first. Time outside the engine is followed up its callers (shared by the time each
    caller spent there) to the nearest engine functions, so nothing is counted twice."""
    profile = cProfile.Profile()
    profile.runcall(fn)
    stats = pstats.Stats(profile).stats  # {func: (calls, primitive calls, own, cumulative, callers)}
    engine_dir = os.path.dirname(api.__file__)

    def in_engine(func: tuple[str, int, str]) -> bool:
        return func[0].startswith(engine_dir)

    def name(func: tuple[str, int, str]) -> str:
        return f"{os.path.relpath(func[0], engine_dir).removesuffix('.py').replace(os.sep, '.')}.{func[2]}"

    owners: dict[tuple, dict[str, float]] = {}

    def owners_of(func: tuple, seen: frozenset = frozenset()) -> dict[str, float]:
        """The engine functions ``func``'s own time belongs to, with their shares."""
        if in_engine(func):
            return {name(func): 1.0}
        if func not in owners:
            callers = {c: v[3] for c, v in stats[func][4].items() if c in stats and c not in seen}
            total = sum(callers.values())
            shares: dict[str, float] = defaultdict(float)
            for caller, cumulative in callers.items():
                for owner, share in owners_of(caller, seen | {func}).items():
                    shares[owner] += share * (cumulative / total if total else 1 / len(callers))
            owners[func] = shares
        return owners[func]

    spent: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, _) in stats.items():
        for owner, share in owners_of(func).items():
            spent[owner] += own * share
    total = sum(spent.values()) or 1.0
    return sorted(((n, t / total) for n, t in spent.items()), key=lambda item: -item[1])


def _answers(kind: str, variants: list[dict]) -> tuple[list[dict], list[dict]]:
    """Each variant paired with its key and with each catalogued mistake's full answer, as JSON
    values (what the API stores and the worker grades)."""
    module = registry.get_kind(kind)
    paired, answers = [], []
    for variant in variants:
        wrong = module.misconception_answers(Variant.from_dict(variant)).values()
        typed = [variant["answer"], *(to_jsonable({**variant["answer"], **w}) for w in wrong)]
        paired += [variant] * len(typed)
        answers += typed
    return paired, answers


if __name__ == "__main__":
    main()
