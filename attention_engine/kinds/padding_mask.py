r"""Padding mask: a sequence padded to a fixed length must not attend to its padding.

The first ``length`` tokens are real, the rest are padding. Every query (padding queries too:
their outputs are computed and later ignored) attends only to real keys:
$A = \operatorname{softmax}(S + M)$ with $M_{ij} = -\infty$ for padded keys $j \ge$ ``length``.
Parts: the unmasked scaled ``scores``, the masked ``weights``, the ``output``.

Catalogued mistakes: no scaling, scaling by $d_k$, $KQ^\top$ for $QK^\top$, no mask, masking
after the softmax, masking the padded queries (rows) instead of keys, the softmax down the
columns. Variants in which any two of them (or one and the right procedure) agree within
tolerance, also after rounding to the 3 decimals asked, are redrawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch

NAME = "padding_mask"
TITLE = "Padding mask: ignore the pad tokens"
TOPICS = ("masking", "padding", "self-attention")


def _draw_mask(rng: np.random.Generator, sizes: att.Sizes) -> tuple[np.ndarray, dict[str, Any]]:
    # At least two real tokens (a query with one visible key has nothing to compute) and at
    # least one pad token (otherwise there is no mask to apply).
    length = int(rng.integers(2, sizes.t_q))
    return _mask({"X": [None] * sizes.t_q, "length": length}), {"length": length}


def _mask(params: dict[str, Any]) -> np.ndarray:
    t = len(params["X"])
    valid = ops.padding_mask([int(params["length"])], t)  # (1, T) True = real token
    return np.broadcast_to(valid, (t, t)).copy()  # (T_q, T_k): every query sees the real keys


def _task(params: dict[str, Any]) -> str:
    t, length = len(params["X"]), int(params["length"])
    pads = ", ".join(str(i + 1) for i in range(length, t))
    return (
        f"Only the first {length} tokens are real; token{'s' if t - length > 1 else ''} {pads} "
        f"{'are' if t - length > 1 else 'is'} padding. No query may attend to a padding token. With "
        f"$Q = XW_Q$, $K = XW_K$, $V = XW_V$ and $d_k = {len(params['W_q'][0])}$, compute\n\n"
        "1. the scaled scores $S = QK^\\top / \\sqrt{d_k}$ *before* masking,\n"
        "2. the attention weights after masking and a row-wise softmax (every row, padding rows too),\n"
        "3. the output $O = AV$."
    )


SPEC = att.AttentionKind(
    name=NAME,
    parts=("scores", "weights", "output"),
    codes=(
        "no_scaling", "scaled_by_dk", "kq_transposed", "no_mask", "mask_after_softmax", "masked_queries",
        "wrong_softmax_axis",
    ),
    sizes=att.MASKED_SIZES,
    task=_task,
    draw_mask=_draw_mask,
    mask_from_params=_mask,
)
MISCONCEPTIONS = SPEC.misconceptions
generate, grade, misconception_answers = att.kind_functions(SPEC)
generate_batch = att_batch.batch_function(SPEC, grade)
stated_precision = att.stated_precision
