r"""Parameters of a multi-head attention layer.

With inner width $d_i = h\,d_{head}$ ($= d_{model}$ unless the head width is given), keys
projected from $k_{dim}$ and values from $v_{dim}$ features:

$$P = d_{model} d_i + k_{dim} d_i + v_{dim} d_i + d_i d_{model} + [\text{bias}]\,(3 d_i + d_{model})$$

easy: self-attention, biases on or off (one part, ``params``).
medium: cross-attention whose keys and values come from an encoder of another width
(``input_projections``, then ``total``; the total is carried forward from the learner's
projections).
hard: a head width other than $d_{model}/h$, stacked $L$ layers (``per_layer``, then
``all_layers``, carried forward as $L \times$ the learner's ``per_layer``).

Keys are exact integers checked against ``nn.MultiheadAttention`` (or separate ``nn.Linear``
projections where ``d_head`` differs from ``d_model / h``) built on the meta device.

Part weights: the final count (``total``, ``all_layers``) 2, the step before it 1.

Grading rule for typed counts (``counting.count_grader``): the prompt asks for the exact
number, and only the exact number scores full. An abbreviation (``1.05M``, ``1.05e6``) is
judged at its own precision: right to its digits and consistent with no catalogued mistake,
half credit and a note that the exact number was asked; consistent with a catalogued
mistake's count (with or without the key), no credit and that mistake named, because at that
precision the answer cannot show the mistake was not made; under 3 significant figures, no
credit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from attention_engine import counting
from attention_engine.generation import kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision
from attention_engine.variant import EXACT, Part, Step, Variant, agree

NAME = "mha_params"
TITLE = "Parameters of a multi-head attention layer"
TOPICS = ("multi-head-attention", "parameter-counting")

MISCONCEPTIONS: dict[str, str] = {
    "per_head_only": (
        "You counted the parameters of a single head. The layer has $h$ heads, and together their "
        "query, key and value projections map to $h\\,d_{head}$ dimensions."
    ),
    "heads_times_full": (
        "You gave every head its own full-width projections, multiplying the layer by $h$. The heads "
        "split one $d_{model} \\times h\\,d_{head}$ projection; adding heads does not add parameters."
    ),
    "forgot_bias": (
        "You left out the bias vectors: $Q$, $K$ and $V$ each have a bias of length $h\\,d_{head}$ and "
        "the output projection one of length $d_{model}$."
    ),
    "bias_when_none": "You counted bias vectors, but this layer is built without biases (`bias=False`).",
    "forgot_output_projection": (
        "You left out the output projection $W_O$ (and its bias), which maps the concatenated heads "
        "back to $d_{model}$."
    ),
    "ignored_kdim": (
        "You sized the key and value projections from $d_{model}$, but they read the encoder output: "
        "$W_K$ is $k_{dim} \\times h\\,d_{head}$ and $W_V$ is $v_{dim} \\times h\\,d_{head}$."
    ),
    "inner_width_is_d_model": (
        "You assumed $d_{head} = d_{model}/h$. Here the heads are wider, so the projections map to "
        "$h\\,d_{head}$ dimensions, not $d_{model}$."
    ),
    "per_layer_only": "You gave the count of one layer where the question asks for all $L$ layers.",
}

WIDTHS = (256, 512, 768, 1024, 2048)
HEADS = (4, 8, 12, 16, 32)
ENCODER_WIDTHS = (256, 384, 512, 768, 1024)
HEAD_WIDTHS = (64, 80, 96, 128, 256)
LAYERS = (6, 12, 24, 32)
ROUTES = ("formula", "torch-meta-modules")


def _draw_heads(rng: np.random.Generator, d_model: int) -> int:
    """A head count that divides ``d_model`` into heads of at least 32 dimensions."""
    choices = [h for h in HEADS if d_model % h == 0 and d_model // h >= 32]
    return int(rng.choice(choices))


def _config(rng: np.random.Generator, difficulty: str) -> dict[str, Any]:
    """The layer's settings; ``layers`` is 1 except at hard."""
    d_model = int(rng.choice(WIDTHS[:4] if difficulty == "easy" else WIDTHS))
    config: dict[str, Any] = {
        "d_model": d_model,
        "heads": _draw_heads(rng, d_model),
        "d_head": None,
        "bias": bool(rng.integers(2)),
        "kdim": None,
        "vdim": None,
        "layers": 1,
    }
    if difficulty == "medium":
        encoder = int(rng.choice([w for w in ENCODER_WIDTHS if w != d_model]))
        config.update(kdim=encoder, vdim=encoder)
    elif difficulty == "hard":
        config["d_head"] = int(rng.choice(HEAD_WIDTHS))
        config["layers"] = int(rng.choice(LAYERS))
        if config["heads"] * config["d_head"] == d_model:
            return {}
    return config


def _layer(config: Mapping[str, Any]) -> counting.Count:
    """The count of one layer for a (possibly altered) configuration."""
    return counting.attention_params(
        config["d_model"],
        config["heads"],
        d_head=config["d_head"],
        bias=config["bias"],
        kdim=config["kdim"],
        vdim=config["vdim"],
    )


def _answers(breakdown: Mapping[str, int], difficulty: str, layers: int) -> dict[str, int]:
    """The parts asked at ``difficulty`` from one layer's breakdown."""
    per_layer = sum(breakdown.values())
    if difficulty == "easy":
        return {"params": per_layer}
    if difficulty == "medium":
        inputs = sum(v for name, v in breakdown.items() if name[-1] != "O")
        return {"input_projections": inputs, "total": per_layer}
    return {"per_layer": per_layer, "all_layers": per_layer * layers}


def _parts(difficulty: str, layers: int) -> tuple[Part, ...]:
    if difficulty == "easy":
        return (Part("params", "Parameters of the layer", (), 1, EXACT),)
    if difficulty == "medium":
        return (
            Part("input_projections", "Parameters of the Q, K, V projections", (), 1, EXACT),
            Part("total", "Parameters of the whole layer", (), 2, EXACT, weight=2.0),
        )
    return (
        Part("per_layer", "Parameters of one layer", (), 1, EXACT),
        Part("all_layers", f"Parameters of all {layers} layers", (), 2, EXACT, weight=2.0),
    )


def _inner(config: Mapping[str, Any]) -> int:
    return config["heads"] * (config["d_head"] or config["d_model"] // config["heads"])


def _prompt(config: Mapping[str, Any], difficulty: str) -> str:
    d, h, inner = config["d_model"], config["heads"], _inner(config)
    bias_text = (
        "Every projection (query, key, value and output) has a bias vector."
        if config["bias"]
        else "The projections have no bias vectors (`bias=False`)."
    )
    if difficulty == "easy":
        return (
            f"A multi-head self-attention layer has model width $d_{{model}} = {d}$ and $h = {h}$ "
            f"heads, so each head works in $d_{{head}} = {d}/{h} = {d // h}$ dimensions. {bias_text} "
            f"It is the layer `torch.nn.MultiheadAttention({d}, {h}, bias={config['bias']})`.\n\n"
            "How many trainable parameters does the layer have? Give the exact number."
        )
    if difficulty == "medium":
        e = config["kdim"]
        return (
            f"In an encoder-decoder transformer the decoder has width $d_{{model}} = {d}$ and its "
            f"cross-attention layer has $h = {h}$ heads. The queries are projected from the decoder "
            f"states, but the keys and values are projected from the encoder output, which has "
            f"$k_{{dim}} = v_{{dim}} = {e}$ features: "
            f"`torch.nn.MultiheadAttention({d}, {h}, bias={config['bias']}, kdim={e}, vdim={e})`. "
            f"{bias_text}\n\n"
            "1. How many parameters do the query, key and value projections hold together?\n"
            "2. How many parameters does the whole layer hold?\n\n"
            "Give exact numbers."
        )
    return (
        f"A transformer uses multi-head self-attention with $d_{{model}} = {d}$ and $h = {h}$ heads, "
        f"but its heads are $d_{{head}} = {config['d_head']}$ wide, so the concatenated heads have "
        f"$h\\,d_{{head}} = {inner}$ dimensions (not $d_{{model}}$); the output projection maps them "
        f"back to $d_{{model}}$. {bias_text} The model stacks $L = {config['layers']}$ such "
        "attention layers.\n\n"
        "1. How many parameters does one attention layer hold?\n"
        f"2. How many do the attention layers hold across all {config['layers']} layers?\n\n"
        "Give exact numbers."
    )


def _steps(
    config: Mapping[str, Any], count: counting.Count, answer: Mapping[str, int]
) -> tuple[Step, ...]:
    d, inner = config["d_model"], _inner(config)
    kdim, vdim = config["kdim"] or d, config["vdim"] or d
    weights = {k: v for k, v in count.breakdown.items() if k.startswith("W")}
    steps = [
        Step(
            "Projection widths",
            f"The heads together use $h\\,d_{{head}} = {inner}$ dimensions: one projection per role, "
            "split between the heads, not one per head.",
            {"inner_width": inner},
        ),
        Step(
            "Weight matrices",
            f"$W_Q$: ${d} \\times {inner}$, $W_K$: ${kdim} \\times {inner}$, "
            f"$W_V$: ${vdim} \\times {inner}$, $W_O$: ${inner} \\times {d}$.",
            weights,
        ),
    ]
    if config["bias"]:
        biases = {k: v for k, v in count.breakdown.items() if k.startswith("b")}
        steps.append(
            Step(
                "Bias vectors",
                f"$b_Q, b_K, b_V$ have {inner} entries each, $b_O$ has {d}.",
                biases,
            )
        )
    else:
        steps.append(Step("Bias vectors", "None: the layer is built with `bias=False`.", {}))
    steps.append(Step("Add up", "Sum the matrices (and biases).", dict(answer)))
    return tuple(steps)


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    config = _config(rng, difficulty)
    if not config:
        return None
    count = _layer(config)
    answer = _answers(count.breakdown, difficulty, config["layers"])
    ours, theirs = counting.verify_count(
        "attention", **{k: v for k, v in config.items() if k != "layers"}
    )
    verification = agree(ROUTES, [abs(ours - theirs), abs(ours - count.total)])
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params=dict(config),
        prompt=_prompt(config, difficulty),
        parts=_parts(difficulty, config["layers"]),
        answer=answer,
        steps=_steps(config, count, answer),
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each applicable wrong procedure produces for this variant."""
    config, difficulty = variant.params, variant.difficulty
    layers = config["layers"]

    def answers(**changes: Any) -> dict[str, int]:
        return _answers(_layer({**config, **changes}).breakdown, difficulty, layers)

    inner = _inner(config)
    breakdown = _layer(config).breakdown
    wrong: dict[str, dict[str, Any]] = {
        "per_head_only": answers(heads=1, d_head=inner // config["heads"]),
        "heads_times_full": {part: value * config["heads"] for part, value in answers().items()},
        "forgot_output_projection": _answers(
            {k: v for k, v in breakdown.items() if k[-1] != "O"}, difficulty, layers
        ),
    }
    if config["bias"]:
        wrong["forgot_bias"] = answers(bias=False)
    else:
        wrong["bias_when_none"] = answers(bias=True)
    if config["kdim"] is not None:
        wrong["ignored_kdim"] = answers(kdim=None, vdim=None)
    if config["d_head"] is not None:
        wrong["inner_width_is_d_model"] = answers(d_head=None)
    if layers > 1:
        per_layer = answers()["per_layer"]
        wrong["per_layer_only"] = {"all_layers": per_layer}
    return wrong


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The total from the learner's own projections; all layers from the learner's one layer."""
    config = variant.params
    if variant.difficulty == "medium" and "input_projections" in learner:
        d, inner = config["d_model"], _inner(config)
        output = inner * d + (d if config["bias"] else 0)
        return {"total": learner["input_projections"] + output}
    if variant.difficulty == "hard" and "per_layer" in learner:
        return {"all_layers": learner["per_layer"] * config["layers"]}
    return {}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """"Give the exact number"."""
    return {p.name: EXACT_NUMBER for p in variant.parts}


# Vetting inside ``generate`` grades the numeric key and mistakes, for which the plain grader
# and the count grader agree; learners' typed answers go through the count grader.
generate, _ = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
grade = counting.count_grader(MISCONCEPTIONS, misconception_answers, _carry_forward)
