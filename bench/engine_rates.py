"""Engine throughput on one CPU core: one at a time vs in bulk, measured in the same run.

Per kind: ``api.generate`` in a loop vs ``api.generate_batch`` over the same seeds (variants/s,
and with each variant written as a JSON line as the ``batch`` command does), and
``api.grade`` in a loop vs ``api.grade_batch`` over the same answers (the key and each
catalogued mistake's answer). The targets are issue #15's.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from attention_engine import api, registry
from attention_engine.variant import Variant

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


def _rate(count: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


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
    for kind in registry.available_names():
        api.generate_batch(kind, [0], DIFFICULTY)  # imports, torch set-up
        seeds = _single_seeds(kind)
        single = _rate(len(seeds), lambda: [api.generate(kind, s, DIFFICULTY) for s in seeds])  # noqa: B023
        # A kind with its own bulk path gets a batch big enough to amortise it (same seeds first).
        if hasattr(registry.get_kind(kind), "generate_batch"):
            seeds = range(max(len(seeds), BATCH))
        bulk = _rate(len(seeds), lambda: api.generate_batch(kind, seeds, DIFFICULTY))  # noqa: B023
        lines = _rate(len(seeds), lambda: [json.dumps(v, sort_keys=True)  # noqa: B023
                                           for v in api.generate_batch(kind, seeds, DIFFICULTY)])  # noqa: B023
        variants, answers = _answers(kind, api.generate_batch(kind, range(50), DIFFICULTY))
        grade_one = _rate(len(answers), lambda: [api.grade(v, a) for v, a in zip(variants, answers, strict=True)])  # noqa: B023
        grade_bulk = _rate(len(answers), lambda: api.grade_batch(variants, answers))  # noqa: B023
        print(f"{kind:<22}{single:>10,.0f}{bulk:>10,.0f}{bulk / single:>7.1f}{lines:>12,.0f}{TARGETS.get(kind, 0):>9,}"
              f"{grade_one:>10,.0f}{grade_bulk:>10,.0f}{grade_bulk / grade_one:>7.1f}", flush=True)
    print(f"(grading target: {GRADE_TARGET:,} answers/s in bulk)")


def _answers(kind: str, variants: list[dict]) -> tuple[list[dict], list[dict]]:
    """Each variant paired with its key and with each catalogued mistake's full answer."""
    module = registry.get_kind(kind)
    paired, answers = [], []
    for variant in variants:
        wrong = module.misconception_answers(Variant.from_dict(variant)).values()
        typed = [variant["answer"], *({**variant["answer"], **w} for w in wrong)]
        paired += [variant] * len(typed)
        answers += typed
    return paired, answers


if __name__ == "__main__":
    main()
