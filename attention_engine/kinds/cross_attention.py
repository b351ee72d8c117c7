r"""Cross-attention: decoder queries attend to encoder keys and values.

$$Q = X_{dec} W_Q, \quad K = X_{enc} W_K, \quad V = X_{enc} W_V, \quad
  O = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V$$

The weights are $T_{dec} \times T_{enc}$ (not square): one row per decoder token, one column per
encoder token, and the output has one row per *decoder* token. Parts: ``scores``, ``weights``,
``output``.
"""

from __future__ import annotations

from typing import Any

from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch

NAME = "cross_attention"
TITLE = "Cross-attention: decoder queries, encoder keys and values"
TOPICS = ("cross-attention", "encoder-decoder", "scaled-dot-product")


def _task(params: dict[str, Any]) -> str:
    return (
        "Queries come from the decoder, keys and values from the encoder: $Q = X_{dec}W_Q$, "
        f"$K = X_{{enc}}W_K$, $V = X_{{enc}}W_V$, $d_k = {len(params['W_q'][0])}$. Compute\n\n"
        "1. the scaled scores $S = QK^\\top / \\sqrt{d_k}$ (one row per decoder token),\n"
        "2. the attention weights $A = \\operatorname{softmax}(S)$ along each row,\n"
        "3. the output $O = AV$."
    )


SPEC = att.AttentionKind(
    name=NAME,
    parts=("scores", "weights", "output"),
    codes=("no_scaling", "scaled_by_dk", "wrong_softmax_axis"),
    sizes={
        "easy": att.Sizes(t_q=2, t_kv=3, d_model=2, d_k=2, x_max=2, w_max=1, max_raw=8.0),
        "medium": att.Sizes(t_q=2, t_kv=3, d_model=3, d_k=2, x_max=2, w_max=1, max_raw=10.0, d_kv=2),
        "hard": att.Sizes(t_q=3, t_kv=4, d_model=3, d_k=3, x_max=2, w_max=1, max_raw=12.0, d_kv=4),
    },
    task=_task,
    cross=True,
)
MISCONCEPTIONS = SPEC.misconceptions
generate, grade, misconception_answers = att.kind_functions(SPEC)
generate_batch = att_batch.batch_function(SPEC, grade)
stated_precision = att.stated_precision
