r"""Size of the KV cache a decoder keeps while it generates.

For every layer, every sequence of the batch, every token so far and every key/value head,
the cache holds one key and one value vector of $d_{head}$ numbers:

$$B = 2 \cdot L \cdot b \cdot n \cdot h_{kv} \cdot d_{head} \cdot \text{bytes(dtype)}$$

($h_{kv} = h$ for multi-head attention, fewer under grouped-query attention, 1 under
multi-query attention.)

easy: a named multi-head model, one sequence, fp16 (``bytes``).
medium: a batch and any of fp32 / fp16 / bf16 / int8 (``bytes``, then ``gib`` carried forward
from the learner's bytes).
hard: a grouped- or multi-query model (``bytes``, ``gib``, and ``max_batch``: the largest batch
whose cache fits a memory budget, carried forward from the learner's bytes).

Keys are exact; the bytes are checked against ``element_size() * numel()`` of the K and V
tensors themselves (allocated for small caches, on the meta device for large ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from attention_engine import counting
from attention_engine.generation import kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision, significant
from attention_engine.variant import EXACT, Part, Step, Tolerance, Variant, agree

NAME = "kv_cache"
TITLE = "KV-cache memory"
TOPICS = ("compute-and-memory", "kv-cache", "inference", "grouped-query-attention", "memory")

GIB = 2**30
# GiB are typed to three significant figures.
GIB_TOL = Tolerance(rel=5e-3, abs=0.0)

MISCONCEPTIONS: dict[str, str] = {
    "forgot_k_or_v": (
        "You counted only the keys or only the values. The cache stores both, so there is a factor "
        "of 2 in front."
    ),
    "wrong_dtype_bytes": (
        "You used the wrong number of bytes per number: fp32 takes 4 bytes, fp16 and bf16 take 2, "
        "int8 takes 1. (Counting 4 bytes for a half-precision cache is the usual slip.)"
    ),
    "per_layer_only": "You counted the cache of one layer; every one of the $L$ layers keeps its own.",
    "forgot_batch": "You counted one sequence; each of the $b$ sequences of the batch has its own cache.",
    "query_heads_for_kv": (
        "You counted a key and a value for every query head. Under grouped-query (or multi-query) "
        "attention several query heads share one key/value head, so only $h_{kv}$ heads are cached."
    ),
    "gib_vs_gb": (
        "You divided by $10^9$ (gigabytes, GB). A gibibyte (GiB) is $2^{30} = 1{,}073{,}741{,}824$ "
        "bytes, about 7.4% more."
    ),
}

# name -> (layers, heads, kv_heads, d_head, context)
MHA_MODELS = {
    "GPT-2 small": (12, 12, 12, 64, 1024),
    "GPT-2 XL": (48, 25, 25, 64, 1024),
    "Llama 2 7B": (32, 32, 32, 128, 4096),
    "Llama 2 13B": (40, 40, 40, 128, 4096),
    "GPT-3 175B": (96, 96, 96, 128, 2048),
}
GQA_MODELS = {
    "Llama 2 70B": (80, 64, 8, 128, 4096),
    "Llama 3 8B": (32, 32, 8, 128, 8192),
    "Llama 3 70B": (80, 64, 8, 128, 8192),
    "Falcon 7B": (32, 71, 1, 64, 2048),
}
BUDGETS_GIB = (16, 24, 40, 64, 80)
ROUTES = ("formula", "torch-tensor-bytes")


def _config(rng: np.random.Generator, difficulty: str) -> dict[str, Any]:
    models = GQA_MODELS if difficulty == "hard" else MHA_MODELS
    name = str(rng.choice(sorted(models)))
    layers, heads, kv_heads, d_head, context = models[name]
    config = {
        "name": name, "layers": layers, "heads": heads, "kv_heads": kv_heads, "d_head": d_head,
        "seq_len": context // int(rng.choice([1, 2, 4])), "batch": 1, "dtype": "fp16",
        "budget_gib": 0,
    }  # fmt: skip
    if difficulty != "easy":
        config["batch"] = int(rng.choice([4, 8, 16, 32, 64]))
        config["dtype"] = str(rng.choice(sorted(counting.DTYPE_BYTES)))
    if difficulty == "hard":
        config["budget_gib"] = int(rng.choice(BUDGETS_GIB))
    return config


def _kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: config[k] for k in ("layers", "heads", "kv_heads", "d_head", "seq_len", "batch", "dtype")
    }


def _answers(
    total: int, config: Mapping[str, Any], difficulty: str, gib_unit: int = GIB
) -> dict[str, Any]:
    """The parts asked at ``difficulty`` from the cache size in bytes."""
    if difficulty == "easy":
        return {"bytes": total}
    answer: dict[str, Any] = {"bytes": total, "gib": total / gib_unit}
    if difficulty == "hard":
        per_sequence = total // config["batch"]
        answer["max_batch"] = config["budget_gib"] * gib_unit // per_sequence
    return answer


def _parts(difficulty: str) -> tuple[Part, ...]:
    parts = [Part("bytes", "Cache size in bytes", (), 1, EXACT)]
    if difficulty != "easy":
        parts.append(Part("gib", "Cache size in GiB", (), 2, GIB_TOL))
    if difficulty == "hard":
        parts.append(Part("max_batch", "Largest batch that fits", (), 2, EXACT))
    return tuple(parts)


def _prompt(config: Mapping[str, Any], difficulty: str) -> str:
    layers, heads, kv_heads, d_head = (config[k] for k in ("layers", "heads", "kv_heads", "d_head"))
    n, b, dtype = config["seq_len"], config["batch"], config["dtype"]
    if kv_heads == heads:
        attention = f"$h = {heads}$ attention heads of width $d_{{head}} = {d_head}$"
    elif kv_heads == 1:
        attention = (
            f"$h = {heads}$ query heads of width $d_{{head}} = {d_head}$ that all share a single "
            "key/value head (multi-query attention)"
        )
    else:
        attention = (
            f"$h = {heads}$ query heads of width $d_{{head}} = {d_head}$, grouped so that every "
            f"{heads // kv_heads} query heads share one key/value head: $h_{{kv}} = {kv_heads}$ "
            "(grouped-query attention)"
        )
    setup = (
        f"{config['name']} has $L = {layers}$ layers, each with {attention}. While it generates, it "
        "keeps a KV cache: for every layer, the key and value vectors of every cached head for every "
        "token processed so far."
    )
    if difficulty == "easy":
        return (
            f"{setup}\n\nHow many bytes does the cache hold for **one** sequence of $n = {n}$ tokens, "
            "stored in fp16 (2 bytes per number)? Give the exact number."
        )
    workload = f"a batch of $b = {b}$ sequences of $n = {n}$ tokens each, stored in **{dtype}**"
    if difficulty == "medium":
        return (
            f"{setup}\n\nFor {workload}:\n\n"
            "1. How many bytes does the cache take? (exact)\n"
            "2. How many GiB is that ($1\\,\\text{GiB} = 2^{30}$ bytes)? (3 significant figures)"
        )
    return (
        f"{setup}\n\nFor {workload}:\n\n"
        "1. How many bytes does the cache take? (exact)\n"
        "2. How many GiB is that? (3 significant figures)\n"
        f"3. With {config['budget_gib']} GiB of accelerator memory left for the cache, what is the "
        f"largest batch of such {n}-token sequences that fits?"
    )


def _steps(
    config: Mapping[str, Any], count: counting.Count, answer: Mapping[str, Any]
) -> tuple[Step, ...]:
    size = counting.DTYPE_BYTES[config["dtype"]]
    per_token_layer = 2 * config["kv_heads"] * config["d_head"] * size
    steps = [
        Step(
            "Per token and layer",
            f"K and V: $2 \\times h_{{kv}} \\times d_{{head}} \\times {size}$ bytes "
            f"({config['dtype']}) $= 2 \\times {config['kv_heads']} \\times {config['d_head']} "
            f"\\times {size}$.",
            {"bytes_per_token_per_layer": per_token_layer},
        ),
        Step(
            "Whole cache",
            f"Times $L = {config['layers']}$ layers, $n = {config['seq_len']}$ tokens, "
            f"$b = {config['batch']}$ sequences.",
            {"K": count.breakdown["K"], "V": count.breakdown["V"], "bytes": count.total},
        ),
    ]
    if "gib" in answer:
        steps.append(Step("In GiB", "Divide by $2^{30}$.", {"gib": answer["gib"]}))
    if "max_batch" in answer:
        per_sequence = count.total // config["batch"]
        steps.append(
            Step(
                "Largest batch",
                f"One sequence takes {per_sequence} bytes; "
                f"$\\lfloor {config['budget_gib']} \\cdot 2^{{30}} / {per_sequence} \\rfloor$.",
                {"per_sequence": per_sequence, "max_batch": answer["max_batch"]},
            )
        )
    return tuple(steps)


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    config = _config(rng, difficulty)
    count = counting.kv_cache_bytes(**_kwargs(config))
    answer = _answers(count.total, config, difficulty)
    if answer.get("max_batch", 1) < 1:
        return None
    ours, theirs = counting.verify_count("kv_cache", **_kwargs(config))
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params=config,
        prompt=_prompt(config, difficulty),
        parts=_parts(difficulty),
        answer=answer,
        steps=_steps(config, count, answer),
        verification=agree(ROUTES, [abs(ours - theirs), abs(count.total - theirs)]),
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each applicable wrong procedure produces for this variant."""
    config, difficulty = variant.params, variant.difficulty

    def answers(**changes: Any) -> dict[str, Any]:
        """What a learner gets who sizes the cache with these settings changed."""
        return _answers(
            counting.kv_cache_bytes(**{**_kwargs(config), **changes}).total, config, difficulty
        )

    total = counting.kv_cache_bytes(**_kwargs(config)).total
    wrong: dict[str, dict[str, Any]] = {
        "forgot_k_or_v": _answers(total // 2, config, difficulty),
        "per_layer_only": answers(layers=1),
    }
    if config["dtype"] != "fp32":
        size = counting.DTYPE_BYTES[config["dtype"]]
        wrong["wrong_dtype_bytes"] = _answers(total // size * 4, config, difficulty)
    if config["batch"] > 1:
        single = total // config["batch"]
        wrong["forgot_batch"] = {"bytes": single}
        if difficulty != "easy":
            wrong["forgot_batch"]["gib"] = single / GIB
    if config["kv_heads"] != config["heads"]:
        wrong["query_heads_for_kv"] = answers(kv_heads=config["heads"])
    if difficulty != "easy":
        wrong["gib_vs_gb"] = {
            k: v for k, v in _answers(total, config, difficulty, 10**9).items() if k != "bytes"
        }
    return {code: wrong[code] for code in MISCONCEPTIONS if code in wrong}


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """GiB and the largest batch from the learner's own byte count."""
    if variant.difficulty == "easy" or "bytes" not in learner:
        return {}
    config = variant.params
    given = float(learner["bytes"])
    carried = {"gib": np.asarray(given / GIB)}
    if variant.difficulty == "hard" and given > 0:
        per_sequence = given / config["batch"]
        carried["max_batch"] = np.asarray(
            float(np.floor(config["budget_gib"] * GIB / per_sequence))
        )
    return carried


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """Bytes and batch sizes exactly; GiB to 3 significant figures."""
    return {p.name: significant(3) if p.name == "gib" else EXACT_NUMBER for p in variant.parts}


# Vetting inside ``generate`` grades the numeric key and mistakes, for which the plain grader
# and the count grader agree; learners' typed answers go through the count grader.
generate, _ = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
grade = counting.count_grader(MISCONCEPTIONS, misconception_answers, _carry_forward)
