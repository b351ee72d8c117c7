r"""Causal (decoder) self-attention: query $i$ may attend to keys $j \le i$ only.

$$A = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right), \quad
  M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i \end{cases}$$

Parts: the unmasked scaled ``scores``, the masked ``weights``, the ``output``. The torch route
lets ``F.scaled_dot_product_attention(is_causal=True)`` build its own mask, so the mask itself
is verified, not only the arithmetic.

Catalogued mistakes: no scaling, scaling by $d_k$, $KQ^\top$ for $QK^\top$, no mask, masking
after the softmax, the wrong triangle, the softmax down the columns. Variants in which any two
of them (or one and the right procedure) agree within tolerance, also after rounding to the
3 decimals asked, are redrawn: a symmetric $QK^\top$ makes $KQ^\top$ indistinguishable, so
those draws never reach a learner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch

NAME = "causal_mask"
TITLE = "Causal mask: attention that cannot see the future"
TOPICS = ("masking", "bert-vs-gpt", "decoder", "self-attention")


def _draw_mask(rng: np.random.Generator, sizes: att.Sizes) -> tuple[np.ndarray, dict[str, Any]]:
    return ops.causal_mask(sizes.t_q), {}


def _mask(params: dict[str, Any]) -> np.ndarray:
    return ops.causal_mask(len(params["X"]))


def _task(params: dict[str, Any]) -> str:
    return (
        "This is a decoder: token $i$ may attend only to tokens $j \\le i$ (a causal mask). With "
        f"$Q = XW_Q$, $K = XW_K$, $V = XW_V$ and $d_k = {len(params['W_q'][0])}$, compute\n\n"
        "1. the scaled scores $S = QK^\\top / \\sqrt{d_k}$ *before* masking,\n"
        "2. the attention weights after applying the causal mask and a row-wise softmax,\n"
        "3. the output $O = AV$."
    )


SPEC = att.AttentionKind(
    name=NAME,
    parts=("scores", "weights", "output"),
    codes=(
        "no_scaling", "scaled_by_dk", "kq_transposed", "no_mask", "mask_after_softmax", "wrong_triangle",
        "wrong_softmax_axis",
    ),
    sizes=att.MASKED_SIZES,
    task=_task,
    draw_mask=_draw_mask,
    mask_from_params=_mask,
    causal=True,
)
MISCONCEPTIONS = SPEC.misconceptions
generate, grade, misconception_answers = att.kind_functions(SPEC)
generate_batch = att_batch.batch_function(SPEC, grade)
stated_precision = att.stated_precision
