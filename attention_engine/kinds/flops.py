r"""Forward FLOPs of transformer layers, per token, and where attention's $n^2$ takes over.

A product of an $(m \times k)$ and a $(k \times p)$ matrix costs $2mkp$ FLOPs (a multiply-add
is 2). One layer on $n$ tokens, with $d_i = h\,d_{head}$:

$$\underbrace{6 n d d_i}_{QKV} + \underbrace{2 n^2 d_i}_{QK^\top} + \underbrace{2 n^2 d_i}_{AV}
  + \underbrace{2 n d_i d}_{\text{output}} + \underbrace{4 n d d_{ff}}_{\text{MLP}}$$

Biases, softmax, scaling, LayerNorm and residual additions are left out (the prompt says so).

easy: one layer: the four projections, the two attention matmuls, the layer's total (carried
forward from the learner's first two parts).
medium: $L$ layers: the total, then FLOPs per token (carried forward as total$/n$).
hard: $L$ layers with their own head width or MLP ratio: the total, and the sequence length
$n^* = 2d + d\,d_{ff}/d_i$ at which the $n^2$ terms equal all the others.

Keys are exact integers checked term by term against ``torch.utils.flop_counter.FlopCounterMode``
around a forward pass of the same layers (on the meta device: real shapes, no arithmetic).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from attention_engine import counting
from attention_engine.generation import kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision
from attention_engine.variant import EXACT, Part, Step, Variant, agree

NAME = "flops"
TITLE = "FLOPs of attention layers"
TOPICS = ("compute-and-memory", "flops", "complexity", "multi-head-attention")

MISCONCEPTIONS: dict[str, str] = {
    "macs_not_flops": (
        "You counted multiply-adds (MACs), not FLOPs. Each multiply-add is two floating-point "
        "operations, so a $(m \\times k)(k \\times p)$ product costs $2mkp$ FLOPs."
    ),
    "forgot_attention_matmuls": (
        "You left out the two attention matrix products, $QK^\\top$ and $AV$, each $2 n^2 d_i$ FLOPs: "
        "they are the only terms that grow with $n^2$."
    ),
    "attention_counted_once": (
        "You counted only one of the two attention products. Both $QK^\\top$ (scores) and $AV$ "
        "(weighted values) cost $2 n^2 d_i$ FLOPs."
    ),
    "one_head_attention": (
        "You computed the attention products for one head only. Each of the $h$ heads does "
        "$2 n^2 d_{head}$ FLOPs per product, $2 n^2 d_i$ in all."
    ),
    "forgot_output_projection": (
        "You left out the output projection $W_O$, another $2 n d_i d$ FLOPs."
    ),
    "forgot_mlp": (
        "You left out the MLP ($4 n d d_{ff}$ FLOPs), usually the largest term of a layer at "
        "moderate sequence lengths."
    ),
    "per_layer_only": "You gave the FLOPs of one layer where the question asks for all $L$ layers.",
}

# name -> (d_model, heads, layers, context)
NAMED = {
    "GPT-2 small": (768, 12, 12, 1024),
    "GPT-2 medium": (1024, 16, 24, 1024),
    "BERT-base": (768, 12, 12, 512),
    "BERT-large": (1024, 16, 24, 512),
}
WIDTHS = (512, 768, 1024, 2048)
SEQ_LENS = (128, 256, 512, 1024, 2048, 4096)
ROUTES = ("formula", "torch-flop-counter-meta")


def _config(rng: np.random.Generator, difficulty: str) -> dict[str, Any]:
    if difficulty == "medium" and rng.integers(2):
        name = str(rng.choice(sorted(NAMED)))
        d_model, heads, layers, seq_len = NAMED[name]
        return {
            "name": name, "d_model": d_model, "heads": heads, "d_head": None,
            "seq_len": seq_len, "d_ff": 4 * d_model, "layers": layers,
        }  # fmt: skip
    d_model = int(rng.choice(WIDTHS[:3] if difficulty == "easy" else WIDTHS))
    heads = d_model // 64 if d_model <= 1024 else d_model // 128
    config = {
        "name": "", "d_model": d_model, "heads": heads, "d_head": None,
        "seq_len": int(rng.choice(SEQ_LENS[:4] if difficulty == "easy" else SEQ_LENS)),
        "d_ff": 4 * d_model, "layers": 1,
    }  # fmt: skip
    if difficulty == "medium":
        config["layers"] = int(rng.choice([6, 12, 24]))
    if difficulty == "hard":
        config["layers"] = int(rng.choice([12, 24, 32]))
        if rng.integers(2):
            config["d_head"] = int(rng.choice([64, 96, 128, 256]))
        else:
            config["d_ff"] = int(rng.choice([2, 4, 8])) * d_model
    return config


def _inner(config: Mapping[str, Any]) -> int:
    return config["heads"] * (config["d_head"] or config["d_model"] // config["heads"])


def _kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in ("d_model", "heads", "seq_len", "d_ff", "layers", "d_head")}


def _answers(
    terms: Mapping[str, int], config: Mapping[str, Any], difficulty: str, crossover: int
) -> dict[str, int]:
    """The parts asked at ``difficulty`` from the per-term FLOPs of all layers."""
    total = sum(terms.values())
    if difficulty == "easy":
        return {
            "projections": terms["qkv_projections"] + terms["output_projection"],
            "attention": terms["attention_scores"] + terms["attention_values"],
            "total": total,
        }
    if difficulty == "medium":
        return {"total": total, "per_token": total // config["seq_len"]}
    return {"total": total, "crossover": crossover}


def _parts(difficulty: str) -> tuple[Part, ...]:
    if difficulty == "easy":
        return (
            Part("projections", "FLOPs of the Q, K, V and output projections", (), 1, EXACT),
            Part("attention", "FLOPs of QKᵀ and AV", (), 1, EXACT),
            Part("total", "FLOPs of the whole layer", (), 2, EXACT),
        )
    if difficulty == "medium":
        return (
            Part("total", "FLOPs of all layers", (), 1, EXACT),
            Part("per_token", "FLOPs per token", (), 2, EXACT),
        )
    return (
        Part("total", "FLOPs of all layers", (), 1, EXACT),
        Part("crossover", "Sequence length where the n² terms catch up", (), 1, EXACT),
    )


def _crossover(config: Mapping[str, Any]) -> int:
    return counting.attention_overtakes_seq_len(
        config["d_model"], config["d_ff"], heads=config["heads"], d_head=config["d_head"]
    )


def _prompt(config: Mapping[str, Any], difficulty: str) -> str:
    d, h, n, d_ff, layers = (config[k] for k in ("d_model", "heads", "seq_len", "d_ff", "layers"))
    head_text = (
        f"$h = {h}$ heads of width $d_{{head}} = {config['d_head']}$ (so the heads together span "
        f"$h\\,d_{{head}} = {_inner(config)}$ dimensions, and $W_O$ maps them back to $d$)"
        if config["d_head"]
        else f"$h = {h}$ heads of width $d/h = {d // h}$"
    )
    model = f"{config['name']} has" if config["name"] else "Consider a transformer with"
    rules = (
        "Count a multiply-add as **2 FLOPs**: multiplying an $(m \\times k)$ by a $(k \\times p)$ "
        "matrix costs $2mkp$. Count only matrix products (ignore biases, softmax, scaling, "
        "LayerNorm and residual additions); batch size 1; the full $n \\times n$ score matrix is "
        "computed (a causal mask saves nothing)."
    )
    layer = (
        f"{model} width $d = {d}$, {head_text}, and an MLP $d \\to {d_ff} \\to d$. "
        "A layer projects the input to $Q$, $K$, $V$, computes $QK^\\top$, the weights $A$, "
        "$AV$, the output projection $W_O$, then the MLP."
    )
    if difficulty == "easy":
        return (
            f"{layer} The input is a sequence of $n = {n}$ tokens. {rules}\n\n"
            "For **one layer**, how many FLOPs do\n\n"
            "1. the four projections ($W_Q$, $W_K$, $W_V$, $W_O$) take together,\n"
            "2. the two attention products $QK^\\top$ and $AV$ take together,\n"
            "3. the whole layer (attention and MLP) take?\n\n"
            "Give exact numbers."
        )
    if difficulty == "medium":
        return (
            f"{layer} It has $L = {layers}$ layers and processes a sequence of $n = {n}$ tokens. "
            f"{rules}\n\n"
            f"1. How many FLOPs does a forward pass through all {layers} layers take (embeddings and "
            "LM head excluded)?\n"
            "2. How many FLOPs is that per token?\n\n"
            "Give exact numbers."
        )
    return (
        f"{layer} It has $L = {layers}$ layers. {rules}\n\n"
        f"1. How many FLOPs does a forward pass through all {layers} layers take for a sequence of "
        f"$n = {n}$ tokens?\n"
        "2. At which sequence length $n$ do the two attention products ($QK^\\top$ and $AV$, which "
        "grow with $n^2$) cost exactly as many FLOPs as all the other products of the layer "
        "together (which grow with $n$)?\n\n"
        "Give exact numbers."
    )


def _steps(
    config: Mapping[str, Any], terms: Mapping[str, int], answer: Mapping[str, int]
) -> tuple[Step, ...]:
    d, n, d_ff, layers, inner = (
        config["d_model"], config["seq_len"], config["d_ff"], config["layers"], _inner(config),
    )  # fmt: skip
    per_layer = {k: v // layers for k, v in terms.items()}
    steps = [
        Step(
            "Projections",
            f"$Q, K, V$: $3 \\cdot 2 \\cdot n \\cdot d \\cdot d_i = 6 \\cdot {n} \\cdot {d} \\cdot {inner}$; "
            f"output: $2 n d_i d$.",
            {k: per_layer[k] for k in ("qkv_projections", "output_projection")},
        ),
        Step(
            "Attention products",
            f"$QK^\\top$ and $AV$: $2 n^2 d_i$ each, with $d_i = {inner}$ (all heads together).",
            {k: per_layer[k] for k in ("attention_scores", "attention_values")},
        ),
        Step(
            "MLP",
            f"Two matrices of ${d} \\times {d_ff}$: $2 \\cdot 2 n d d_{{ff}}$.",
            {"mlp": per_layer["mlp"]},
        ),
        Step("One layer", "Sum of the terms.", {"layer": sum(per_layer.values())}),
    ]
    if layers > 1:
        steps.append(Step("All layers", f"Times $L = {layers}$.", {"total": sum(terms.values())}))
    if "per_token" in answer:
        steps.append(Step("Per token", f"Divide by $n = {n}$.", {"per_token": answer["per_token"]}))
    if "crossover" in answer:
        steps.append(
            Step(
                "Where $n^2$ catches up",
                "$4 n^2 d_i = n (8 d d_i + 4 d d_{ff})$ gives $n^* = 2d + d\\,d_{ff}/d_i$.",
                {"crossover": answer["crossover"]},
            )
        )
    return tuple(steps)


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    config = _config(rng, difficulty)
    # The crossover is asked as an exact length: keep draws where n* is a whole number.
    if (config["d_model"] * config["d_ff"]) % _inner(config):
        return None
    count = counting.flops(**_kwargs(config))
    counted = counting.torch_flops(**_kwargs(config))
    answer = _answers(count.breakdown, config, difficulty, _crossover(config))
    verification = agree(ROUTES, [abs(count.breakdown[k] - counted[k]) for k in count.breakdown])
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params=config,
        prompt=_prompt(config, difficulty),
        parts=_parts(difficulty),
        answer=answer,
        steps=_steps(config, count.breakdown, answer),
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each applicable wrong procedure produces for this variant."""
    config, difficulty = variant.params, variant.difficulty
    terms = counting.flops(**_kwargs(config)).breakdown
    crossover = _crossover(config)

    def answers(crossover: int | None = None, **changes: int) -> dict[str, int]:
        """Parts with some terms changed; the crossover only where the mistake moves it."""
        result = _answers({**terms, **changes}, config, difficulty, crossover or 0)
        if crossover is None or difficulty != "hard":
            result.pop("crossover", None)
        return result

    one_head = terms["attention_scores"] // config["heads"]
    wrong = {
        "macs_not_flops": {k: v // 2 for k, v in answers().items()},
        "forgot_attention_matmuls": answers(attention_scores=0, attention_values=0),
        # With one product, 2 n^2 d_i = n (8 d d_i + 4 d d_ff): twice the right length.
        "attention_counted_once": answers(2 * crossover, attention_values=0),
        "one_head_attention": answers(attention_scores=one_head, attention_values=one_head),
        "forgot_output_projection": answers(output_projection=0),
        # Without the MLP, 4 n^2 d_i = 8 n d d_i: n = 2d.
        "forgot_mlp": answers(2 * config["d_model"], mlp=0),
    }
    if config["layers"] > 1:
        layers = config["layers"]
        wrong["per_layer_only"] = answers(**{k: v // layers for k, v in terms.items()})
    return wrong


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The layer total from the learner's parts; per token from the learner's total."""
    config = variant.params
    if variant.difficulty == "easy" and {"projections", "attention"} <= set(learner):
        mlp = counting.flops(**_kwargs(config)).breakdown["mlp"]
        return {"total": learner["projections"] + learner["attention"] + mlp}
    if variant.difficulty == "medium" and "total" in learner:
        return {"per_token": learner["total"] / config["seq_len"]}
    return {}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """"Give exact numbers"."""
    return {p.name: EXACT_NUMBER for p in variant.parts}


# Vetting inside ``generate`` grades the numeric key and mistakes, for which the plain grader
# and the count grader agree; learners' typed answers go through the count grader.
generate, _ = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
grade = counting.count_grader(MISCONCEPTIONS, misconception_answers, _carry_forward)
