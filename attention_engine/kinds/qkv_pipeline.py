r"""The whole pipeline, every step answerable: $X \to Q, K, V \to S \to A \to O$.

Parts: ``Q``, ``K``, ``V`` (step 1), ``scores`` (2), ``weights`` (3), ``output`` (4). Each later
part is also graded against what the learner's own earlier parts imply (error carried
forward): scores from their $Q$ and $K$, weights from their scores, output from their weights
and $V$.
"""

from __future__ import annotations

from typing import Any

from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch

NAME = "qkv_pipeline"
TITLE = "The Q/K/V pipeline, step by step"
TOPICS = ("queries-keys-values", "projections", "scaled-dot-product", "softmax", "self-attention")


def _task(params: dict[str, Any]) -> str:
    return (
        "Work through self-attention one step at a time:\n\n"
        "1. the projections $Q = XW_Q$, $K = XW_K$, $V = XW_V$,\n"
        f"2. the scaled scores $S = QK^\\top / \\sqrt{{d_k}}$ with $d_k = {len(params['W_q'][0])}$,\n"
        "3. the weights $A = \\operatorname{softmax}(S)$ along each row,\n"
        "4. the output $O = AV$.\n\n"
        "If you slip in one step, later steps are marked against your own earlier answers."
    )


SPEC = att.AttentionKind(
    name=NAME,
    parts=("Q", "K", "V", "scores", "weights", "output"),
    codes=("no_scaling", "scaled_by_dk", "wrong_softmax_axis", "kq_transposed"),
    sizes={
        "easy": att.Sizes(t_q=2, t_kv=2, d_model=2, d_k=2, x_max=2, w_max=1, max_raw=8.0),
        "medium": att.Sizes(t_q=3, t_kv=3, d_model=3, d_k=2, x_max=2, w_max=1, max_raw=10.0),
        "hard": att.Sizes(t_q=3, t_kv=3, d_model=4, d_k=3, x_max=2, w_max=1, max_raw=14.0),
    },
    task=_task,
)
MISCONCEPTIONS = SPEC.misconceptions
generate, grade, misconception_answers = att.kind_functions(SPEC)
generate_batch = att_batch.batch_function(SPEC, grade)
stated_precision = att.stated_precision
