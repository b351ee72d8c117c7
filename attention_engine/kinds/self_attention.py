r"""Self-attention weights and output from small integer matrices.

Given $X$ (rows are tokens) and $W_Q, W_K, W_V$: $Q = XW_Q$, $K = XW_K$, $V = XW_V$,
scores $S = QK^\top/\sqrt{d_k}$, weights $A = \operatorname{softmax}(S)$ along each row,
output $O = AV$. Parts: ``scores`` (step 1), ``weights`` (step 2), ``output`` (step 3).
"""

from __future__ import annotations

from typing import Any

from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch

NAME = "self_attention"
TITLE = "Self-attention: scores, weights and output"
TOPICS = ("scaled-dot-product", "softmax", "self-attention")


def _task(params: dict[str, Any]) -> str:
    return (
        f"With $Q = XW_Q$, $K = XW_K$, $V = XW_V$ and $d_k = {len(params['W_q'][0])}$, compute\n\n"
        "1. the scaled scores $S = \\dfrac{QK^\\top}{\\sqrt{d_k}}$,\n"
        "2. the attention weights $A = \\operatorname{softmax}(S)$, applied to each row,\n"
        "3. the output $O = AV$."
    )


SPEC = att.AttentionKind(
    name=NAME,
    parts=("scores", "weights", "output"),
    codes=("no_scaling", "scaled_by_dk", "wrong_softmax_axis", "kq_transposed"),
    sizes={
        "easy": att.Sizes(t_q=2, t_kv=2, d_model=2, d_k=2, x_max=2, w_max=1, max_raw=8.0),
        "medium": att.Sizes(t_q=3, t_kv=3, d_model=3, d_k=2, x_max=2, w_max=1, max_raw=10.0),
        "hard": att.Sizes(t_q=4, t_kv=4, d_model=4, d_k=3, x_max=2, w_max=1, max_raw=16.0),
    },
    task=_task,
)
MISCONCEPTIONS = SPEC.misconceptions
generate, grade, misconception_answers = att.kind_functions(SPEC)
generate_batch = att_batch.batch_function(SPEC, grade)
stated_precision = att.stated_precision
