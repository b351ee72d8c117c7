r"""Multi-head attention shapes: what each reshape and transpose produces.

The nanoGPT ``CausalSelfAttention`` path, with $d_{head} = d_{model} / h$::

    q = x @ W_q                                          # (B, T, d_model)
    q = q.view(B, T, h, d_head).transpose(1, 2)          # (B, h, T, d_head)
    att = q @ k.transpose(-2, -1) / sqrt(d_head)         # (B, h, T, T)
    y = att.softmax(-1) @ v                              # (B, h, T, d_head)
    y = y.transpose(1, 2).contiguous().view(B, T, d_model)

Parts: ``d_head`` (scalar), then the shapes ``q_heads``, ``scores``, ``head_out`` (length 4)
and ``merged`` (length 3). The reference route is the formula above; the second route runs
exactly those torch calls on ``meta`` tensors (shapes without memory) and reads the shapes.
A wrong ``d_head`` is carried forward into the later shapes.

Part weights: the merged shape (the layer's output) 2, every earlier shape 1.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from attention_engine.generation import kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision
from attention_engine.variant import EXACT, Part, Step, Variant, agree

NAME = "multihead_shapes"
TITLE = "Multi-head attention: shapes through split, attend and merge"
TOPICS = ("multi-head-attention", "shapes", "tensors")

MISCONCEPTIONS = {
    "d_head_is_d_model": (
        "You gave every head the full width $d_{model}$. The heads split the model width: "
        "$d_{head} = d_{model} / h$, so the concatenated heads have width $d_{model}$ again."
    ),
    "no_transpose": (
        "You skipped `.transpose(1, 2)` after the `.view`: the tensor is then (B, T, h, d_head) and "
        "the matrix product mixes heads instead of tokens (scores of shape (B, T, h, h))."
    ),
    "scores_transposed_operand": (
        "You multiplied $Q^\\top K$ instead of $QK^\\top$: the scores must be $T \\times T$ "
        "(query by key), not $d_{head} \\times d_{head}$."
    ),
    "merged_one_head": (
        "You gave the merged output the width of one head. Merging concatenates all $h$ heads: "
        "the width goes back to $h \\cdot d_{head} = d_{model}$."
    ),
}

CHOICES = {
    # (batches, tokens, heads, d_head)
    "easy": ((2, 3, 4), (5, 6, 7, 8, 10), (2, 4), (8, 16)),
    "medium": ((4, 8, 16), (12, 20, 32, 50, 64), (4, 6, 8), (16, 32, 64)),
    "hard": ((8, 16, 32, 64), (128, 256, 512, 1024, 2048), (8, 12, 16, 32), (64, 80, 128)),
}


def shapes(b: int, t: int, d_model: int, heads: int, d_head: int | None = None) -> dict[str, Any]:
    """Reference route: the shapes written from the formulas (``d_head`` may be a learner's)."""
    d_head = d_model // heads if d_head is None else d_head
    return {
        "d_head": d_head,
        "q_heads": [b, heads, t, d_head],
        "scores": [b, heads, t, t],
        "head_out": [b, heads, t, d_head],
        "merged": [b, t, heads * d_head],
    }


def torch_shapes(b: int, t: int, d_model: int, heads: int) -> dict[str, Any]:
    """Second route: run the nanoGPT tensor calls on the ``meta`` device and read the shapes."""
    import torch

    x = torch.empty(b, t, d_model, device="meta")
    w_q = torch.empty(d_model, d_model, device="meta")
    q = (x @ w_q).view(b, t, heads, d_model // heads).transpose(1, 2)
    k = (x @ w_q).view(b, t, heads, d_model // heads).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)).softmax(dim=-1)
    y = att @ k
    merged = y.transpose(1, 2).contiguous().view(b, t, d_model)
    return {
        "d_head": q.shape[-1],
        "q_heads": list(q.shape),
        "scores": list(att.shape),
        "head_out": list(y.shape),
        "merged": list(merged.shape),
    }


def _flat(values: dict[str, Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(values[k], dtype=np.float64)) for k in sorted(values)])


def _params(variant: Variant) -> tuple[int, int, int, int]:
    p = variant.params
    return int(p["B"]), int(p["T"]), int(p["d_model"]), int(p["heads"])


@functools.lru_cache(maxsize=4096)
def _routes_gap(b: int, t: int, d_model: int, heads: int) -> float:
    """Largest difference between the two routes' shapes, computed once per configuration in a
    process: the meta-tensor run costs about as much as the rest of a variant, and the same
    sizes always give the same shapes (there are a few hundred configurations)."""
    return float(np.max(np.abs(_flat(shapes(b, t, d_model, heads)) - _flat(torch_shapes(b, t, d_model, heads)))))


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    b_choices, t_choices, h_choices, dh_choices = CHOICES[difficulty]
    b, t, heads, d_head = (int(rng.choice(c)) for c in (b_choices, t_choices, h_choices, dh_choices))
    d_model = heads * d_head
    # Every number distinct, so each position in a shape can only mean one thing.
    if len({b, t, heads, d_head, d_model}) < 5:
        return None
    key = shapes(b, t, d_model, heads)
    verification = agree(("formula", "torch-meta-tensors"), [_routes_gap(b, t, d_model, heads)])
    prompt = (
        f"A multi-head attention layer has $d_{{model}} = {d_model}$ and $h = {heads}$ heads. It receives "
        f"a batch of $B = {b}$ sequences of $T = {t}$ tokens, `x` of shape ({b}, {t}, {d_model}), and runs\n\n"
        "```python\n"
        "q = (x @ W_q).view(B, T, h, d_head).transpose(1, 2)   # same for k and v\n"
        "att = (q @ k.transpose(-2, -1) / math.sqrt(d_head)).softmax(dim=-1)\n"
        "y = att @ v\n"
        "y = y.transpose(1, 2).contiguous().view(B, T, h * d_head)\n"
        "```\n\n"
        "Give $d_{head}$, then the shape of `q` after the transpose, of `att`, of `y = att @ v`, and "
        "of `y` after the merge, one dimension per box (a shape can also be sent as a list like `2, 3, 4`)."
    )
    steps = (
        Step("Width of one head", f"$d_{{head}} = d_{{model}} / h = {d_model} / {heads} = {d_head}$.", {"d_head": d_head}),
        Step("Split the heads", "`.view(B, T, h, d_head)` cuts the last axis into heads; `.transpose(1, 2)` "
             "puts the head axis next to the batch so each head is an independent batch of T x d_head.",
             {"after view": [b, t, heads, d_head], "after transpose": key["q_heads"]}),
        Step("Scores", "`q @ k.transpose(-2, -1)` multiplies the last two axes: (T x d_head)(d_head x T) = T x T "
             "per head.", {"att": key["scores"]}),
        Step("Weighted values", "(T x T)(T x d_head) = T x d_head per head.", {"y": key["head_out"]}),
        Step("Merge the heads", "Transpose back to (B, T, h, d_head), then view the last two axes as one of "
             f"width $h \\cdot d_{{head}} = {d_model}$. The output projection keeps this shape.",
             {"merged": key["merged"]}),
    )
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"B": b, "T": t, "d_model": d_model, "heads": heads},
        prompt=prompt,
        parts=(
            Part("d_head", "d_head", (), 1, EXACT),
            Part("q_heads", "Shape of q after the transpose", (4,), 2, EXACT),
            Part("scores", "Shape of att", (4,), 3, EXACT),
            Part("head_out", "Shape of att @ v", (4,), 4, EXACT),
            Part("merged", "Shape after merging the heads", (3,), 5, EXACT, weight=2.0),
        ),
        answer=key,
        steps=steps,
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """Shapes produced by each wrong procedure."""
    b, t, d_model, heads = _params(variant)
    d_head = d_model // heads
    return {
        "d_head_is_d_model": shapes(b, t, d_model, heads, d_head=d_model),
        "no_transpose": {
            "q_heads": [b, t, heads, d_head],
            "scores": [b, t, heads, heads],
            "head_out": [b, t, heads, d_head],
        },
        "scores_transposed_operand": {
            "scores": [b, heads, d_head, d_head],
        },
        "merged_one_head": {"merged": [b, t, d_head]},
    }


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Later shapes from the learner's own ``d_head`` (one wrong division is not punished 4 times)."""
    b, t, d_model, heads = _params(variant)
    d_head = int(round(float(learner["d_head"])))
    if d_head <= 0:
        return {}
    return {k: np.asarray(v, dtype=np.float64) for k, v in shapes(b, t, d_model, heads, d_head).items() if k != "d_head"}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """Shapes are whole numbers, typed exactly."""
    return {p.name: EXACT_NUMBER for p in variant.parts}


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
