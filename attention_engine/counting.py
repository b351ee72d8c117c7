"""Counting: parameters, forward FLOPs and KV-cache bytes of attention layers and transformers.

Every public counter returns a :class:`Count`, an exact integer total with a named
breakdown that sums to it.  The formulas are written out in the docstrings; the second,
independent route for each of them is a torch module (or tensor set) built on the ``meta``
device, so that even GPT-3-sized configurations cost no memory:

* parameter counts against ``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer``,
  ``nn.TransformerDecoderLayer`` and GPT-2 / BERT models assembled from ``nn.Linear``,
  ``nn.LayerNorm`` and ``nn.Embedding`` (``sum(p.numel() for p in m.parameters())``, which
  counts a tied weight once);
* FLOPs against ``torch.utils.flop_counter.FlopCounterMode`` around a real forward pass
  (on meta tensors: the shapes are real, the arithmetic is skipped);
* KV-cache bytes against ``element_size() * numel()`` of the K and V tensors a decoder keeps.

torch is imported only inside the ``verify_*`` functions and the ``_torch_*`` builders, so
importing this module (for example from the web process) never loads torch.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from attention_engine.variant import Tolerance

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn

    from attention_engine.variant import Grade, Variant

__all__ = [
    "DTYPE_BYTES",
    "Count",
    "abbreviated_tolerance",
    "attention_params",
    "attention_overtakes_seq_len",
    "bert_params",
    "count_grader",
    "decoder_block_params",
    "encoder_block_params",
    "flops",
    "flops_per_token",
    "gpt3_attention_only_params",
    "gpt_params",
    "is_abbreviated",
    "kv_cache_bytes",
    "torch_flops",
    "torch_kv_cache_bytes",
    "torch_param_count",
    "verify_count",
    "typed_precision",
    "coarse_parts",
]

#: Bytes per stored element for the cache dtypes we ask about.
DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


@dataclass(frozen=True)
class Count:
    """An exact count with a named breakdown; ``sum(breakdown.values()) == total``."""

    total: int
    breakdown: dict[str, int]

    def __post_init__(self) -> None:
        # A breakdown that does not add up is a bug in a formula, never a rounding matter.
        if sum(self.breakdown.values()) != self.total:
            raise ValueError(
                f"breakdown sums to {sum(self.breakdown.values())}, total is {self.total}"
            )

    @classmethod
    def of(cls, breakdown: dict[str, int]) -> Count:
        """The count whose total is the sum of ``breakdown``."""
        return cls(total=sum(breakdown.values()), breakdown=dict(breakdown))

    def times(self, factor: int) -> Count:
        """Every entry multiplied by ``factor`` (``layers`` identical blocks, say)."""
        return Count.of({name: value * factor for name, value in self.breakdown.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"total": int, "breakdown": {name: int}}``."""
        return {"total": self.total, "breakdown": dict(self.breakdown)}


def _positive(**values: int | None) -> None:
    """Reject sizes that are not positive integers (``None`` means "use the default")."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _inner_width(d_model: int, heads: int, d_head: int | None) -> int:
    """Width of the concatenated heads, ``heads * d_head``; ``d_model`` when ``d_head`` is None."""
    if d_head is None:
        if d_model % heads:
            raise ValueError(f"d_model={d_model} is not divisible by heads={heads}")
        return d_model
    return heads * d_head


# ---------------------------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------------------------


def attention_params(
    d_model: int,
    heads: int,
    d_head: int | None = None,
    bias: bool = True,
    kdim: int | None = None,
    vdim: int | None = None,
    layers: int = 1,
) -> Count:
    r"""Parameters of multi-head attention, as ``nn.MultiheadAttention`` lays them out.

    With inner width :math:`d_i = h \cdot d_{head}` (``d_model`` by default), keys read from
    ``kdim`` and values from ``vdim`` features (``d_model`` by default):

    .. math::
        P = d_{model} d_i + k_{dim} d_i + v_{dim} d_i + d_i d_{model}
            + [\text{bias}]\,(3 d_i + d_{model})

    times ``layers``.  The head count changes nothing unless ``d_head`` is given: the heads
    split one projection, they do not each own a ``d_model``-wide one.
    """
    _positive(d_model=d_model, heads=heads, d_head=d_head, kdim=kdim, vdim=vdim, layers=layers)
    inner = _inner_width(d_model, heads, d_head)
    kdim = d_model if kdim is None else kdim
    vdim = d_model if vdim is None else vdim
    # (name, fan-in, fan-out) of each projection; a bias has fan-out entries.
    projections = [
        ("Q", d_model, inner),
        ("K", kdim, inner),
        ("V", vdim, inner),
        ("O", inner, d_model),
    ]
    parts: dict[str, int] = {}
    for name, fan_in, fan_out in projections:
        parts[f"W_{name}"] = fan_in * fan_out
        if bias:
            parts[f"b_{name}"] = fan_out
    return Count.of(parts).times(layers)


def _layernorm(d_model: int, bias: bool = True) -> int:
    """LayerNorm holds a gain (and a shift) per feature: ``2 d`` parameters, ``d`` without bias."""
    return 2 * d_model if bias else d_model


def _mlp(d_model: int, d_ff: int, bias: bool = True) -> int:
    """Position-wise MLP ``d -> d_ff -> d``: ``2 d d_ff`` weights plus ``d_ff + d`` biases."""
    return 2 * d_model * d_ff + ((d_ff + d_model) if bias else 0)


def encoder_block_params(
    d_model: int,
    heads: int,
    d_ff: int,
    d_head: int | None = None,
    bias: bool = True,
    layers: int = 1,
) -> Count:
    r"""One transformer encoder block (``nn.TransformerEncoderLayer``), times ``layers``.

    .. math::
        P = \underbrace{4 d d_i + 3 d_i + d}_{\text{self-attention}}
          + \underbrace{2 d d_{ff} + d_{ff} + d}_{\text{MLP}} + \underbrace{2 \cdot 2d}_{\text{2 LayerNorms}}

    ``bias=False`` drops every bias, LayerNorm shifts included, as torch's ``bias`` flag does.
    Pre-LN and post-LN blocks hold the same parameters.
    """
    _positive(d_ff=d_ff, layers=layers)
    attention = attention_params(d_model, heads, d_head=d_head, bias=bias).total
    parts = {
        "self_attention": attention,
        "ln_1": _layernorm(d_model, bias),
        "mlp": _mlp(d_model, d_ff, bias),
        "ln_2": _layernorm(d_model, bias),
    }
    return Count.of(parts).times(layers)


def decoder_block_params(
    d_model: int,
    heads: int,
    d_ff: int,
    d_head: int | None = None,
    bias: bool = True,
    memory_dim: int | None = None,
    layers: int = 1,
) -> Count:
    r"""One encoder-decoder decoder block (``nn.TransformerDecoderLayer``), times ``layers``.

    Masked self-attention, cross-attention whose keys and values are projected from the
    encoder output (``memory_dim`` features, ``d_model`` by default), an MLP and three
    LayerNorms:

    .. math::
        P = P_{attn}(d, d) + P_{attn}(d, m) + 2 d d_{ff} + d_{ff} + d + 3 \cdot 2d
    """
    _positive(d_ff=d_ff, memory_dim=memory_dim, layers=layers)
    parts = {
        "self_attention": attention_params(d_model, heads, d_head=d_head, bias=bias).total,
        "ln_1": _layernorm(d_model, bias),
        "cross_attention": attention_params(
            d_model, heads, d_head=d_head, bias=bias, kdim=memory_dim, vdim=memory_dim
        ).total,
        "ln_2": _layernorm(d_model, bias),
        "mlp": _mlp(d_model, d_ff, bias),
        "ln_3": _layernorm(d_model, bias),
    }
    return Count.of(parts).times(layers)


def gpt_params(
    vocab: int,
    context: int,
    d_model: int,
    heads: int,
    layers: int,
    d_ff: int,
    tied: bool = True,
) -> Count:
    r"""A GPT-2-style decoder-only model.

    .. math::
        P = V d + T d + L\,(2d + 4d^2 + 4d + 2d + 2 d d_{ff} + d_{ff} + d) + 2d
            + [\text{untied}]\, V d

    token and learned position embeddings, ``layers`` pre-LN blocks (LN, attention with
    biases, LN, MLP with biases), a final LayerNorm and the LM head, which reuses the token
    embedding when ``tied`` (GPT-2 does) and is a bias-free ``V x d`` matrix otherwise.
    GPT-2 small (50257, 1024, 768, 12, 12, 3072) has 124,439,808.
    """
    _positive(vocab=vocab, context=context, layers=layers, d_ff=d_ff)
    block = encoder_block_params(d_model, heads, d_ff).breakdown
    parts = {
        "token_embedding": vocab * d_model,
        "position_embedding": context * d_model,
        "ln_1": block["ln_1"] * layers,
        "attention": block["self_attention"] * layers,
        "ln_2": block["ln_2"] * layers,
        "mlp": block["mlp"] * layers,
        "ln_f": _layernorm(d_model),
        "lm_head": 0 if tied else vocab * d_model,
    }
    return Count.of(parts)


def bert_params(
    vocab: int,
    context: int,
    type_vocab: int,
    d_model: int,
    heads: int,
    layers: int,
    d_ff: int,
    pooler: bool = True,
) -> Count:
    r"""A BERT-style encoder (``BertModel``: no masked-LM head).

    .. math::
        P = (V + T + S) d + 2d + L\,(4d^2 + 4d + 2d + 2 d d_{ff} + d_{ff} + d + 2d)
            + [\text{pooler}]\,(d^2 + d)

    token, position and token-type (segment) embeddings, the embedding LayerNorm, ``layers``
    post-LN blocks and the optional pooler (a ``d x d`` dense layer with bias on [CLS]).
    BERT-base (30522, 512, 2, 768, 12, 12, 3072) with the pooler has 109,482,240.
    """
    _positive(vocab=vocab, context=context, type_vocab=type_vocab, layers=layers, d_ff=d_ff)
    block = encoder_block_params(d_model, heads, d_ff).breakdown
    parts = {
        "token_embedding": vocab * d_model,
        "position_embedding": context * d_model,
        "token_type_embedding": type_vocab * d_model,
        "embedding_ln": _layernorm(d_model),
        "attention": block["self_attention"] * layers,
        "attention_ln": block["ln_1"] * layers,
        "mlp": block["mlp"] * layers,
        "output_ln": block["ln_2"] * layers,
        "pooler": d_model * d_model + d_model if pooler else 0,
    }
    return Count.of(parts)


def gpt3_attention_only_params(
    d_model: int = 12288, heads: int = 96, d_head: int = 128, layers: int = 96
) -> Count:
    r"""Attention weights counted the way 3Blue1Brown's "Attention in transformers" does.

    Each head owns a query, a key, a "value-down" (``d_model -> d_head``) and a "value-up"
    (``d_head -> d_model``, which together with the other heads' forms the output matrix)
    matrix, all ``d_model x d_head``, no biases:

    .. math::
        P = 4 \cdot d_{model} \cdot d_{head} \cdot h \cdot L

    GPT-3 (12288, 96, 128, 96): 6,291,456 per head, 603,979,776 per block ("about 600
    million"), 57,982,058,496 in all ("about 58 billion").
    """
    _positive(d_model=d_model, heads=heads, d_head=d_head, layers=layers)
    per_matrix = d_model * d_head * heads * layers
    return Count.of(
        {"query": per_matrix, "key": per_matrix, "value_down": per_matrix, "value_up": per_matrix}
    )


# ---------------------------------------------------------------------------------------------
# KV cache
# ---------------------------------------------------------------------------------------------


def kv_cache_bytes(
    layers: int,
    heads: int,
    d_head: int,
    seq_len: int,
    batch: int,
    dtype: str,
    kv_heads: int | None = None,
) -> Count:
    r"""Bytes a decoder keeps for its keys and values.

    .. math::
        B = 2 \cdot L \cdot b \cdot n \cdot h_{kv} \cdot d_{head} \cdot \text{bytes}(\text{dtype})

    The 2 is K and V (each its own entry of the breakdown).  ``kv_heads`` (default ``heads``)
    is the number of key/value heads: fewer under grouped-query attention, 1 under
    multi-query attention; query heads do not appear in the cache at all.
    """
    _positive(layers=layers, heads=heads, d_head=d_head, seq_len=seq_len, batch=batch)
    _positive(kv_heads=kv_heads)
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPE_BYTES)}")
    kv_heads = heads if kv_heads is None else kv_heads
    if heads % kv_heads:
        raise ValueError(f"heads={heads} is not a multiple of kv_heads={kv_heads}")
    per_tensor = layers * batch * seq_len * kv_heads * d_head * DTYPE_BYTES[dtype]
    return Count.of({"K": per_tensor, "V": per_tensor})


# ---------------------------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------------------------


def flops(
    d_model: int,
    heads: int,
    seq_len: int,
    d_ff: int,
    layers: int = 1,
    d_head: int | None = None,
) -> Count:
    r"""Forward FLOPs of ``layers`` transformer blocks on one sequence of ``n`` tokens.

    A multiply-add is 2 FLOPs; a product of an ``(m x k)`` and a ``(k x p)`` matrix costs
    :math:`2mkp`.  With :math:`d_i = h\,d_{head}`:

    .. math::
        \underbrace{2 n d \cdot 3 d_i}_{QKV} + \underbrace{2 n^2 d_i}_{QK^\top}
        + \underbrace{2 n^2 d_i}_{AV} + \underbrace{2 n d_i d}_{\text{output}}
        + \underbrace{4 n d d_{ff}}_{\text{MLP}}

    per layer.  Biases, softmax, scaling, LayerNorm and residual additions are linear in
    ``n d`` with tiny constants and are left out, as in Kaplan et al. (2020) and in
    ``FlopCounterMode``.  The causal mask is not credited: the full score matrix is computed.
    """
    _positive(d_model=d_model, heads=heads, seq_len=seq_len, d_ff=d_ff, layers=layers)
    _positive(d_head=d_head)
    inner = _inner_width(d_model, heads, d_head)
    n = seq_len
    parts = {
        "qkv_projections": 2 * n * d_model * 3 * inner,
        "attention_scores": 2 * n * n * inner,
        "attention_values": 2 * n * n * inner,
        "output_projection": 2 * n * inner * d_model,
        "mlp": 2 * 2 * n * d_model * d_ff,
    }
    return Count.of(parts).times(layers)


def flops_per_token(
    d_model: int,
    heads: int,
    seq_len: int,
    d_ff: int,
    layers: int = 1,
    d_head: int | None = None,
) -> Count:
    r""":func:`flops` divided by the ``n`` tokens of the sequence (every term is a multiple of n).

    .. math::
        6 d d_i + 2 n d_i + 2 n d_i + 2 d_i d + 4 d d_{ff}

    per layer: the projections cost the same for every token, the attention matmuls grow
    with the context each token attends over.
    """
    whole = flops(d_model, heads, seq_len, d_ff, layers=layers, d_head=d_head)
    return Count.of({name: value // seq_len for name, value in whole.breakdown.items()})


def attention_overtakes_seq_len(
    d_model: int, d_ff: int, heads: int = 1, d_head: int | None = None
) -> int:
    r"""Smallest ``n`` at which the attention matmuls cost at least the ``n d``-proportional terms.

    .. math::
        4 n^2 d_i \ge n\,(8 d d_i + 4 d d_{ff})
        \iff n \ge n^* = 2d + \frac{d\,d_{ff}}{d_i}

    so :math:`n^* = 6d` for the usual :math:`d_{ff} = 4d`, :math:`d_i = d`.  Returns
    :math:`\lceil n^* \rceil`; it equals :math:`n^*` whenever :math:`n^*` is a whole number.
    """
    _positive(d_model=d_model, d_ff=d_ff, heads=heads, d_head=d_head)
    inner = _inner_width(d_model, heads, d_head)
    numerator = 2 * d_model * inner + d_model * d_ff
    return -(-numerator // inner)


# ---------------------------------------------------------------------------------------------
# How precisely a typed count must match
# ---------------------------------------------------------------------------------------------

# One plain number written with a magnitude suffix or an exponent: "1.05M", "3.2e9", "124M".
_ABBREVIATED = re.compile(
    r"(?P<mantissa>\d+(?:\.\d*)?|\.\d+)(?P<exponent>[eE][+-]?\d+)?(?P<suffix>[kKMBGT])?"
)
_SUFFIX = {"k": 3, "K": 3, "M": 6, "B": 9, "G": 9, "T": 12}
#: An abbreviation with fewer significant figures than this is too coarse to check at all.
MIN_ABBREVIATED_FIGURES = 3


def is_abbreviated(raw: object) -> bool:
    """Whether a typed answer is one number shortened with a suffix or exponent (``1.05M``, ``1e6``).

    Such an answer has thrown digits away on purpose; anything else (``1050624``,
    ``1,050,624``, ``4*512^2``) is taken as the exact number it writes.
    """
    return typed_precision(raw) is not None


def typed_precision(raw: object) -> tuple[int, float] | None:
    """``(significant figures, half a unit in the last digit typed)`` of an abbreviation, else None.

    ``"1.05M"`` -> ``(3, 5000.0)``; ``"1.0506M"`` -> ``(5, 50.0)``; ``"124M"`` -> ``(3, 500000.0)``.
    The answer's own precision, not the key's: ``1.0540M`` claims 5 figures and is judged on them.
    """
    if not isinstance(raw, str):
        return None
    match = _ABBREVIATED.fullmatch(raw.strip())
    if not match or not (match["exponent"] or match["suffix"]):
        return None
    mantissa = match["mantissa"]
    decimals = len(mantissa.partition(".")[2])
    figures = len(mantissa.replace(".", "").lstrip("0")) or 1
    power = int(match["exponent"][1:]) if match["exponent"] else 0
    power += _SUFFIX[match["suffix"]] if match["suffix"] else 0
    return figures, 0.5 * 10.0 ** (power - decimals)


def abbreviated_tolerance(key: float) -> float:
    r"""Half a unit in the third significant figure of ``key``: :math:`\tfrac12 10^{\lfloor\log_{10}|k|\rfloor - 2}`.

    The loosest precision an abbreviation may have and still be checked (``MIN_ABBREVIATED_FIGURES``).
    """
    if key == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(key))) - 2)


def coarse_parts(variant: Variant, response: Mapping[str, Any]) -> dict[str, Tolerance | None]:
    """Exact parts (``rel == 0``) answered by an abbreviation -> the tolerance of its own precision.

    ``None`` for an abbreviation of fewer than three significant figures (too coarse to check).
    """
    typed = response if isinstance(response, Mapping) else {}
    coarse: dict[str, Tolerance | None] = {}
    for part in variant.parts:
        precision = typed_precision(typed.get(part.name)) if part.tolerance.rel == 0 else None
        if precision is not None:
            figures, half_unit = precision
            coarse[part.name] = Tolerance(rel=0.0, abs=half_unit) if figures >= MIN_ABBREVIATED_FIGURES else None
    return coarse


def count_grader(
    misconceptions: Mapping[str, str],
    misconception_answers: Callable[[Variant], Mapping[str, Mapping[str, Any]]],
    carry_forward: Callable[[Variant, dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[Variant, Mapping[str, Any]], Grade]:
    """The ``grade`` of a counting kind: ``grading.grade_response`` with the rule for typed counts.

    The prompts ask for exact numbers. Exact counts are typed exactly (``1050624``,
    ``1,050,624``, ``4*512^2 + 4*512``) and score in full. An abbreviation (``1.05M``,
    ``1.05e6``) is judged at its own precision (:func:`typed_precision`) as a coarse answer
    (``grading.grade_response``): right to its digits and consistent with no catalogued
    mistake, half credit and a note that the exact number was asked; consistent with a
    catalogued mistake's count, no credit and the mistake named (``1.05M`` for a layer of
    1,048,576 without biases is also the 1,050,624 with them); under three significant
    figures, no credit.
    """
    from attention_engine.grading import grade_response

    def grade(variant: Variant, response: Mapping[str, Any]) -> Grade:
        """Exact counts in full; abbreviations at their own precision, never in full."""
        return grade_response(
            variant,
            response,
            misconceptions=misconceptions,
            misconception_answers=misconception_answers(variant),
            carry_forward=carry_forward,
            coarse=coarse_parts(variant, response),
        )

    return grade


# ---------------------------------------------------------------------------------------------
# The second route: torch modules and tensors on the meta device
# ---------------------------------------------------------------------------------------------


def _torch_attention(
    d_model: int,
    heads: int,
    d_head: int | None,
    bias: bool,
    kdim: int | None,
    vdim: int | None,
    device: Any,
) -> nn.Module:
    """Separate Q/K/V/output ``nn.Linear`` maps; unlike ``nn.MultiheadAttention`` it allows any d_head."""
    from torch import nn

    inner = _inner_width(d_model, heads, d_head)
    return nn.ModuleDict(
        {
            "q": nn.Linear(d_model, inner, bias=bias, device=device),
            "k": nn.Linear(kdim or d_model, inner, bias=bias, device=device),
            "v": nn.Linear(vdim or d_model, inner, bias=bias, device=device),
            "o": nn.Linear(inner, d_model, bias=bias, device=device),
        }
    )


def _torch_block(
    d_model: int, heads: int, d_ff: int, d_head: int | None, bias: bool, device: Any
) -> nn.Module:
    """A GPT-2 / BERT block: attention, MLP (``fc``, ``proj``) and two LayerNorms."""
    from torch import nn

    return nn.ModuleDict(
        {
            "ln_1": nn.LayerNorm(d_model, bias=bias, device=device),
            "attn": _torch_attention(d_model, heads, d_head, bias, None, None, device),
            "ln_2": nn.LayerNorm(d_model, bias=bias, device=device),
            "fc": nn.Linear(d_model, d_ff, bias=bias, device=device),
            "proj": nn.Linear(d_ff, d_model, bias=bias, device=device),
        }
    )


def _torch_gpt(
    vocab: int, context: int, d_model: int, heads: int, layers: int, d_ff: int, tied: bool
) -> nn.Module:
    """GPT-2 on the meta device; a tied head shares the ``wte`` Parameter object itself."""
    from torch import nn

    meta = "meta"
    model = nn.ModuleDict(
        {
            "wte": nn.Embedding(vocab, d_model, device=meta),
            "wpe": nn.Embedding(context, d_model, device=meta),
            "h": nn.ModuleList(
                _torch_block(d_model, heads, d_ff, None, True, meta) for _ in range(layers)
            ),
            "ln_f": nn.LayerNorm(d_model, device=meta),
            "lm_head": nn.Linear(d_model, vocab, bias=False, device=meta),
        }
    )
    if tied:
        model["lm_head"].weight = model["wte"].weight
    return model


def _torch_bert(
    vocab: int,
    context: int,
    type_vocab: int,
    d_model: int,
    heads: int,
    layers: int,
    d_ff: int,
    pooler: bool,
) -> nn.Module:
    """BERT on the meta device, ``BertModel``'s parameter layout."""
    from torch import nn

    meta = "meta"
    parts: dict[str, nn.Module] = {
        "word_embeddings": nn.Embedding(vocab, d_model, device=meta),
        "position_embeddings": nn.Embedding(context, d_model, device=meta),
        "token_type_embeddings": nn.Embedding(type_vocab, d_model, device=meta),
        "embedding_ln": nn.LayerNorm(d_model, device=meta),
        "layers": nn.ModuleList(
            _torch_block(d_model, heads, d_ff, None, True, meta) for _ in range(layers)
        ),
    }
    if pooler:
        parts["pooler"] = nn.Linear(d_model, d_model, device=meta)
    return nn.ModuleDict(parts)


def _torch_decoder_block(
    d_model: int,
    heads: int,
    d_ff: int,
    d_head: int | None,
    bias: bool,
    memory_dim: int | None,
) -> nn.Module:
    """Decoder block with cross-attention from ``memory_dim`` features, on the meta device."""
    from torch import nn

    meta = "meta"
    return nn.ModuleDict(
        {
            "self_attn": _torch_attention(d_model, heads, d_head, bias, None, None, meta),
            "ln_1": nn.LayerNorm(d_model, bias=bias, device=meta),
            "cross_attn": _torch_attention(
                d_model, heads, d_head, bias, memory_dim, memory_dim, meta
            ),
            "ln_2": nn.LayerNorm(d_model, bias=bias, device=meta),
            "fc": nn.Linear(d_model, d_ff, bias=bias, device=meta),
            "proj": nn.Linear(d_ff, d_model, bias=bias, device=meta),
            "ln_3": nn.LayerNorm(d_model, bias=bias, device=meta),
        }
    )


def _numel(module: nn.Module) -> int:
    """Distinct parameters of ``module``: ``parameters()`` yields a shared (tied) tensor once."""
    return sum(p.numel() for p in module.parameters())


def _remembered(route: Callable[..., Any]) -> Callable[..., Any]:
    """``route`` computed once per configuration in a process (a bounded cache).

    A torch route here builds modules or tensors (meta or real) for a configuration and counts
    them: the same configuration always counts the same, and building costs milliseconds, so
    a bulk run that meets a configuration again reuses the count. Dicts come back as copies.
    """
    cached = functools.lru_cache(maxsize=4096)(route)

    @functools.wraps(route)
    def remembered(*args: Any, **kwargs: Any) -> Any:
        try:
            result = cached(*args, **kwargs)
        except TypeError:  # an unhashable argument: count it afresh
            result = route(*args, **kwargs)
        return dict(result) if isinstance(result, dict) else result

    return remembered


@_remembered
def torch_param_count(kind: str, **config: Any) -> int:
    """Parameter count of the meta-device torch module for ``kind`` with ``config``.

    ``kind`` is ``"attention"``, ``"encoder_block"``, ``"decoder_block"``, ``"gpt"``,
    ``"bert"`` or ``"gpt3_attention"``, and ``config`` takes the keyword arguments of the
    matching counter.  Where torch has the layer built in (``nn.MultiheadAttention``,
    ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer``) and it can express the
    configuration (``d_head`` left at ``d_model / heads``, same-width memory), the built-in
    is what is counted.
    """
    from torch import nn

    meta = "meta"
    config = dict(config)
    explicit_layers = config.pop("layers", None)
    layers = 1 if explicit_layers is None else explicit_layers
    if kind == "attention":
        d_model, heads = config["d_model"], config["heads"]
        bias = config.get("bias", True)
        kdim, vdim = config.get("kdim"), config.get("vdim")
        if config.get("d_head") in (None, d_model // heads) and d_model % heads == 0:
            module: nn.Module = nn.MultiheadAttention(
                d_model, heads, bias=bias, kdim=kdim, vdim=vdim, device=meta
            )
        else:
            module = _torch_attention(d_model, heads, config.get("d_head"), bias, kdim, vdim, meta)
        return _numel(module) * layers
    if kind in ("encoder_block", "decoder_block"):
        d_model, heads, d_ff = config["d_model"], config["heads"], config["d_ff"]
        d_head, bias = config.get("d_head"), config.get("bias", True)
        memory_dim = config.get("memory_dim")
        builtin = d_head in (None, d_model // heads) and memory_dim in (None, d_model)
        if kind == "encoder_block" and builtin:
            module = nn.TransformerEncoderLayer(
                d_model, heads, d_ff, bias=bias, batch_first=True, device=meta
            )
        elif kind == "encoder_block":
            module = _torch_block(d_model, heads, d_ff, d_head, bias, meta)
        elif builtin:
            module = nn.TransformerDecoderLayer(
                d_model, heads, d_ff, bias=bias, batch_first=True, device=meta
            )
        else:
            module = _torch_decoder_block(d_model, heads, d_ff, d_head, bias, memory_dim)
        return _numel(module) * layers
    if kind == "gpt":
        return _numel(_torch_gpt(layers=layers, tied=config.pop("tied", True), **config))
    if kind == "bert":
        return _numel(_torch_bert(layers=layers, pooler=config.pop("pooler", True), **config))
    if kind == "gpt3_attention":
        cfg = {"d_model": 12288, "heads": 96, "d_head": 128, "layers": 96, **config}
        if explicit_layers is not None:
            cfg["layers"] = explicit_layers
        # Building all 96 GPT-3 layers costs nothing on meta and checks the layer factor too.
        stack = nn.ModuleList(
            _torch_attention(cfg["d_model"], cfg["heads"], cfg["d_head"], False, None, None, meta)
            for _ in range(cfg["layers"])
        )
        return _numel(stack)
    raise ValueError(f"unknown count kind {kind!r}")


@_remembered
def torch_flops(
    d_model: int,
    heads: int,
    seq_len: int,
    d_ff: int,
    layers: int = 1,
    d_head: int | None = None,
) -> dict[str, int]:
    """FLOPs that ``FlopCounterMode`` records for a forward pass, per term of :func:`flops`.

    One block runs on meta tensors (shapes without arithmetic), written like nanoGPT's manual
    attention path, each stage under its own counter so the breakdown is checked term by term.
    The ``layers`` blocks of a stack are identical and see the same shapes, so the one block's
    counts are multiplied by ``layers`` (running each costs ~20 ms of meta dispatch and would
    only repeat the same shapes).
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    meta = torch.device("meta")
    inner = _inner_width(d_model, heads, d_head)
    hs = inner // heads
    block = _torch_block(d_model, heads, d_ff, d_head, True, meta)
    attn = block["attn"]
    totals: dict[str, int] = {}

    def counted(term: str, fn: Any, *args: Any) -> Any:
        with FlopCounterMode(display=False) as counter:
            out = fn(*args)
        totals[term] = counter.get_total_flops() * layers
        return out

    def qkv(h: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(
            attn[name](h).view(1, seq_len, heads, hs).transpose(1, 2)  # (B, nh, T, hs)
            for name in ("q", "k", "v")
        )

    def mlp(h: torch.Tensor) -> torch.Tensor:
        return block["proj"](torch.nn.functional.gelu(block["fc"](h)))  # (B, T, C)

    x = torch.empty(1, seq_len, d_model, device=meta)  # (B, T, C)
    q, k, v = counted("qkv_projections", qkv, block["ln_1"](x))
    scores = counted("attention_scores", lambda q, k: q @ k.transpose(-2, -1), q, k)
    weights = torch.softmax(scores * hs**-0.5, dim=-1)  # (B, nh, T, T)
    y = counted("attention_values", lambda w, v: w @ v, weights, v)  # (B, nh, T, hs)
    y = y.transpose(1, 2).reshape(1, seq_len, inner)  # (B, T, nh * hs)
    x = x + counted("output_projection", attn["o"], y)
    x = x + counted("mlp", mlp, block["ln_2"](x))
    return totals


@_remembered
def torch_kv_cache_bytes(
    layers: int,
    heads: int,
    d_head: int,
    seq_len: int,
    batch: int,
    dtype: str,
    kv_heads: int | None = None,
    real_limit: int = 64 * 2**20,
) -> int:
    """Bytes of the K and V tensors a decoder would keep, summed as ``element_size() * numel()``.

    One ``(batch, kv_heads, seq_len, d_head)`` tensor for K and one for V per layer, the
    layout of a Hugging Face cache.  Caches up to ``real_limit`` bytes are allocated for real
    on the CPU; larger ones on the meta device, which has the same sizes and no storage.
    """
    import torch

    torch_dtype = {
        "fp32": torch.float32,
        "fp16": torch.float16,
        "bf16": torch.bfloat16,
        "int8": torch.int8,
    }[dtype]
    shape = (batch, kv_heads or heads, seq_len, d_head)
    estimate = 2 * layers * math.prod(shape) * torch.empty((), dtype=torch_dtype).element_size()
    device = torch.device("cpu" if estimate <= real_limit else "meta")
    cache = [
        (torch.zeros(shape, dtype=torch_dtype, device=device),
         torch.zeros(shape, dtype=torch_dtype, device=device))
        for _ in range(layers)
    ]  # fmt: skip
    return sum(t.element_size() * t.numel() for pair in cache for t in pair)


_COUNTERS = {
    "attention": attention_params,
    "encoder_block": encoder_block_params,
    "decoder_block": decoder_block_params,
    "gpt": gpt_params,
    "bert": bert_params,
    "gpt3_attention": gpt3_attention_only_params,
    "kv_cache": kv_cache_bytes,
    "flops": flops,
}


def verify_count(kind: str, **config: Any) -> tuple[int, int]:
    """``(ours, torch's)`` totals for ``kind`` with ``config``; they agree when both are right.

    ``kind`` is a parameter-count kind of :func:`torch_param_count`, ``"kv_cache"`` or
    ``"flops"``; ``config`` is the keyword arguments of the matching counter.
    """
    if kind not in _COUNTERS:
        raise ValueError(f"unknown count kind {kind!r}; expected one of {sorted(_COUNTERS)}")
    ours = _COUNTERS[kind](**config).total
    if kind == "kv_cache":
        return ours, torch_kv_cache_bytes(**config)
    if kind == "flops":
        return ours, sum(torch_flops(**config).values())
    return ours, torch_param_count(kind, **config)
