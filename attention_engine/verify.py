"""The verification sweep: every kind x difficulty x seed, checked end to end.

For each variant:

* ``generate`` returns (a route disagreement raises inside it, and shows up here as a failure);
* the verification record names at least two routes and says they agreed;
* the variant survives a JSON round trip and ``public`` hides the key;
* the key, read back from JSON, grades exactly 1.0;
* each catalogued misconception's answer grades below 1 and is named by its own code;
* a format-error answer yields ``format_errors`` and score 0;
* for the first seeds, generating again gives byte-identical JSON;

and the review sweeps of issue #16:

* (a) ``precision``: the key rounded to the precision the prompt states (the kind's
  ``stated_precision``) scores 1;
* (b) ``independent``: mistakes recomputed here, on routes of this module's own (torch
  built-ins with the wrong argument, modules built without biases, plain integer or
  ``Fraction`` arithmetic ...), equal the kind's catalogue within each part's tolerance, and
  are named with their code and score below 1, for the kinds where such a route is written
  (``INDEPENDENT``: every kind today);
* (c) ``distinct``: no two catalogued procedures, nor one and the right one, agree within
  the tolerance on every part;
* (d) ``rounded``: every mistake rounded to the stated precision, and for exact counts every
  mistake and the key abbreviated to 3 and 4 significant figures, never scores 1, and a mistake
  so typed is still named.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from attention_engine import registry
from attention_engine.grading import format_error_probe, matches, rounded
from attention_engine.variant import Variant, as_array

DETERMINISM_SEEDS = 3
MAX_MESSAGES_PER_CELL = 10


def check_variant(module: Any, seed: int, difficulty: str) -> list[tuple[str, str]]:
    """All checks for one (kind, seed, difficulty); returns ``[(check, message)]`` failures."""
    try:
        variant = module.generate(seed, difficulty)
    except Exception as exc:  # a failure to report, not to crash the sweep on
        return [("generate", f"{type(exc).__name__}: {exc}")]
    failures: list[tuple[str, str]] = []
    record = variant.verification
    if not record.agreed or len(record.routes) < 2:
        failures.append(("routes", f"verification record {record.to_dict()}"))
    text = json.dumps(variant.to_dict(), sort_keys=True)
    stored = Variant.from_dict(json.loads(text))
    key_grade = module.grade(stored, stored.answer)
    if key_grade.score != 1.0:
        failures.append(("key", f"the key grades {key_grade.score}: {key_grade.feedback}"))
    for code, answer in module.misconception_answers(stored).items():
        if code not in module.MISCONCEPTIONS:
            failures.append(("misconception", f"{code} is not in the catalogue"))
            continue
        result = module.grade(stored, {**stored.answer, **answer})
        if result.score >= 1.0 or result.misconception != code:
            failures.append(("misconception", f"{code} grades {result.score}, named {result.misconception!r}"))
    probe = module.grade(stored, {**stored.answer, **format_error_probe(stored)})
    if not probe.format_errors or probe.score != 0.0:
        failures.append(("format", f"a text answer gave score {probe.score} and no format error"))
    if seed < DETERMINISM_SEEDS and json.dumps(module.generate(seed, difficulty).to_dict(), sort_keys=True) != text:
        failures.append(("determinism", "generating the same seed twice gave different JSON"))
    failures.extend(check_review(module, stored))
    return failures


# ----------------------------------------------------------------------------- independent mistakes


def _attention_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """The attention kinds' wrong procedures, as torch computes them with the wrong argument."""
    import torch

    p = variant.params
    x_q = torch.tensor(p["X_dec"] if "X_dec" in p else p["X"], dtype=torch.float64)
    x_kv = torch.tensor(p["X_enc"] if "X_enc" in p else p["X"], dtype=torch.float64)
    q, k, v = x_q @ torch.tensor(p["W_q"], dtype=torch.float64), *(
        x_kv @ torch.tensor(p[w], dtype=torch.float64) for w in ("W_k", "W_v"))  # (T, d_k)
    t_q, t_k, d_k = q.shape[0], k.shape[0], q.shape[1]
    if variant.kind == "causal_mask":
        allowed = torch.ones(t_q, t_k, dtype=torch.bool).tril()
    elif variant.kind == "padding_mask":
        allowed = (torch.arange(t_k) < int(p["length"])).expand(t_q, t_k)
    else:
        allowed = torch.ones(t_q, t_k, dtype=torch.bool)

    def run(scores: Any, mask: Any = allowed, dim: int = -1) -> dict[str, Any]:
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=dim).nan_to_num(0.0)
        return {"scores": scores, "weights": weights, "output": weights @ v}

    scores = q @ k.T / d_k**0.5
    after = torch.softmax(scores, dim=-1) * allowed
    out = {
        "no_scaling": run(q @ k.T),
        "scaled_by_dk": run(q @ k.T / d_k),
        "wrong_softmax_axis": run(scores, dim=0),
        "kq_transposed": run(k @ q.T / d_k**0.5) if t_q == t_k else None,
        "mask_after_softmax": {"scores": scores, "weights": after, "output": after @ v},
        "no_mask": run(scores, torch.ones_like(allowed)),
        "wrong_triangle": run(scores, allowed.T) if t_q == t_k else None,
        "masked_queries": run(scores, allowed[0].unsqueeze(1).expand(t_q, t_k)) if t_q == t_k else None,
    }
    module = registry.get_kind(variant.kind)
    asked = {part.name for part in variant.parts}
    return {
        code: {n: value.numpy() for n, value in answer.items() if n in asked}
        for code, answer in out.items()
        if answer is not None and code in module.MISCONCEPTIONS
    }


def _softmax_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """softmax_stability's wrong procedures with ``torch.softmax`` / ``torch.logsumexp``."""
    import torch

    z, tau = torch.tensor(variant.params["z"], dtype=torch.float64), float(variant.params["tau"])

    def full(scaled: Any, shift: float) -> dict[str, Any]:
        return {"shifted": (scaled - shift).numpy(), "probabilities": torch.softmax(scaled, 0).numpy(),
                "logsumexp": float(torch.logsumexp(scaled, 0))}

    lse = float(torch.logsumexp(z / tau, 0))
    return {
        "temperature_multiplied": full(z * tau, float(z.max()) * tau),
        "no_temperature": full(z, float(z.max())),
        "shift_by_min": {"shifted": ((z - z.min()) / tau).numpy()},
        "lse_forgot_max": {"logsumexp": lse - float(z.max()) / tau},
        "lse_max_only": {"logsumexp": float(z.max()) / tau},
    }


def _mha_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """mha_params' wrong counts from ``nn.Linear`` modules on the meta device."""
    from torch import nn

    p, difficulty = variant.params, variant.difficulty
    d, h, layers = p["d_model"], p["heads"], p["layers"]
    inner = h * (p["d_head"] or d // h)

    def count(bias: bool = p["bias"], inner: int = inner, encoder: bool = True, out: bool = True) -> tuple[int, int]:
        kdim, vdim = (p["kdim"], p["vdim"]) if encoder else (None, None)
        projections = [nn.Linear(fan_in, inner, bias=bias, device="meta") for fan_in in (d, kdim or d, vdim or d)]
        inputs = sum(t.numel() for m in projections for t in m.parameters())
        output = sum(t.numel() for t in nn.Linear(inner, d, bias=bias, device="meta").parameters()) if out else 0
        return inputs, inputs + output

    def asked(inputs: int, total: int) -> dict[str, int]:
        if difficulty == "easy":
            return {"params": total}
        if difficulty == "medium":
            return {"input_projections": inputs, "total": total}
        return {"per_layer": total, "all_layers": total * layers}

    right = asked(*count())
    wrong = {
        "per_head_only": asked(*count(inner=inner // h)),
        "heads_times_full": {n: value * h for n, value in right.items()},
        "forgot_output_projection": asked(*count(out=False)),
        "forgot_bias": asked(*count(bias=False)) if p["bias"] else None,
        "bias_when_none": None if p["bias"] else asked(*count(bias=True)),
        "ignored_kdim": asked(*count(encoder=False)) if p["kdim"] else None,
        "inner_width_is_d_model": asked(*count(inner=d)) if p["d_head"] else None,
        "per_layer_only": {"all_layers": right["per_layer"]} if layers > 1 else None,
    }
    return {code: answer for code, answer in wrong.items() if answer is not None}


def _by_hand_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """by_hand's wrong worksheets in plain ``Fraction`` / ``int`` arithmetic, tokens as columns."""
    import math
    from fractions import Fraction

    def ints(name: str) -> list[list[int]]:
        return [[int(c) for c in row] for row in variant.params[name]]

    def matmul(a: list[list[Any]], b: list[list[Any]]) -> list[list[Any]]:
        return [[sum(a[i][r] * b[r][j] for r in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]

    def transpose(a: list[list[Any]]) -> list[list[Any]]:
        return [list(col) for col in zip(*a, strict=True)]

    x = ints("X")
    q, k, v = (matmul(ints(w), x) for w in ("W_q", "W_k", "W_v"))  # (d_k, T), columns = tokens
    t = len(x[0])
    right_scores = matmul(transpose(k), q)  # S[i][j] = key i . query j

    def normalise(e: list[list[Any]], by_rows: bool = False) -> list[list[Any]]:
        if by_rows:
            return [[value / sum(row) for value in row] for row in e]
        sums = [sum(e[i][j] for i in range(t)) for j in range(t)]
        return [[e[i][j] / sums[j] for j in range(t)] for i in range(t)]

    def halve(s: int, how: str) -> int:
        if how == "floor":
            return s // 2
        if how == "trunc":
            return int(Fraction(s, 2))  # int() of a Fraction truncates toward zero
        return s

    def sheet(scores: list[list[int]], how: str = "floor", by_rows: bool = False) -> dict[str, Any]:
        scaled = [[halve(s, how) for s in row] for row in scores]
        weights = normalise([[Fraction(3) ** s for s in row] for row in scaled], by_rows)
        return {"scores": scores, "scaled": scaled, "weights": weights, "output": matmul(v, weights)}

    right = sheet(right_scores)
    # e^s in float: the exact exponential cannot be a Fraction (the one route here that is not exact).
    exp_weights = normalise([[math.exp(s) for s in row] for row in right["scaled"]])
    # Halves up, as people round by hand (1/4 -> 3/10): floor(20w + 1) // 2 tenths.
    rounded_weights = [[Fraction((Fraction(w) * 20 + 1) // 2, 10) for w in row] for row in right["weights"]]
    return {
        "row_normalised": sheet(right_scores, by_rows=True),
        "q_k_swapped": sheet(matmul(transpose(q), k)),
        "truncated_toward_zero": sheet(right_scores, how="trunc"),
        "no_scaling": sheet(right_scores, how="none"),
        "output_v_a_transposed": {"output": matmul(v, transpose(right["weights"]))},
        "exact_exp": {"weights": exp_weights, "output": matmul(v, exp_weights)},
        "weights_rounded": {"weights": rounded_weights, "output": matmul(v, rounded_weights)},
    }


def _layer_norm_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """layer_norm's wrong procedures with ``torch.var_mean`` and ``F.layer_norm``."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    p = variant.params
    x, gamma, beta = (torch.tensor(p[n], dtype=torch.float64) for n in ("X", "gamma", "beta"))
    eps, shape = float(p["eps"]), (x.shape[-1],)
    var_unbiased, mean = torch.var_mean(x, dim=-1, correction=1, keepdim=True)
    var_biased = torch.var(x, dim=-1, correction=0, keepdim=True)
    return {
        "unbiased_variance": {
            "variance": var_unbiased.squeeze(-1).numpy(),
            "output": (gamma * (x - mean) / torch.sqrt(var_unbiased + eps) + beta).numpy(),
        },
        "divided_by_variance": {"output": (gamma * (x - mean) / var_biased + beta).numpy()},
        "forgot_affine": {"output": F.layer_norm(x, shape, eps=eps).numpy()},
        "gamma_beta_swapped": {"output": F.layer_norm(x, shape, weight=beta, bias=gamma, eps=eps).numpy()},
    }


def _sinusoidal_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """sinusoidal_positions' wrong encodings in torch (``torch.pow``, ``torch.stack``, ``torch.deg2rad``)."""
    import torch

    d_model, pos, base = (int(variant.params[n]) for n in ("d_model", "pos", "base"))
    pair = torch.arange(d_model // 2, dtype=torch.float64)
    omega = torch.pow(torch.tensor(float(base), dtype=torch.float64), -2 * pair / d_model)
    wrong_omega = torch.pow(torch.tensor(float(base), dtype=torch.float64), -pair / d_model)

    def interleaved(even: Any, odd: Any) -> Any:
        return torch.stack([even, odd], dim=-1).flatten().numpy()

    angles = pos * omega
    degrees = torch.deg2rad(angles)  # a calculator in degrees reads the angle as degrees
    return {
        "sin_cos_swapped": {"frequencies": omega.numpy(), "encoding": interleaved(angles.cos(), angles.sin())},
        "exponent_i_over_d": {"frequencies": wrong_omega.numpy(),
                              "encoding": interleaved((pos * wrong_omega).sin(), (pos * wrong_omega).cos())},
        "degrees_mode": {"frequencies": omega.numpy(), "encoding": interleaved(degrees.sin(), degrees.cos())},
        "halves_layout": {"frequencies": omega.numpy(), "encoding": torch.cat([angles.sin(), angles.cos()]).numpy()},
    }


def _multihead_shapes_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """multihead_shapes' wrong procedures run as tensor calls on the ``meta`` device."""
    import torch

    b, t, d, h = (int(variant.params[n]) for n in ("B", "T", "d_model", "heads"))
    d_head = d // h
    x = torch.empty(b, t, d, device="meta")

    def project(width: int) -> Any:
        return (x @ torch.empty(d, h * width, device="meta")).view(b, t, h, width)  # (B, T, h, width)

    # Every head of the full width d_model: projections to h * d_model, split and attended.
    q = project(d).transpose(1, 2)
    att = (q @ q.transpose(-2, -1)).softmax(dim=-1)
    y = att @ q
    full = {"d_head": q.shape[-1], "q_heads": list(q.shape), "scores": list(att.shape), "head_out": list(y.shape),
            "merged": list(y.transpose(1, 2).reshape(b, t, -1).shape)}
    # The view without the transpose: the product runs over the (h, d_head) axes.
    q = project(d_head)
    att = (q @ q.transpose(-2, -1)).softmax(dim=-1)
    untransposed = {"q_heads": list(q.shape), "scores": list(att.shape), "head_out": list((att @ q).shape)}
    q = project(d_head).transpose(1, 2)  # (B, h, T, d_head)
    y = (q @ q.transpose(-2, -1)).softmax(dim=-1) @ q
    return {
        "d_head_is_d_model": full,
        "no_transpose": untransposed,
        "scores_transposed_operand": {"scores": list((q.transpose(-2, -1) @ q).shape)},
        "merged_one_head": {"merged": list(y[:, 0].shape)},  # one head's (B, T, d_head)
    }


def _variance_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    r"""variance_scaling's wrong answers from the raw moments, in ``Fraction``:
    $\operatorname{Var}(q \cdot k) = d_k(\mathbb{E}[q_i^2]\mathbb{E}[k_i^2] - \mu_q^2\mu_k^2)$."""
    import math
    from fractions import Fraction

    p, difficulty = variant.params, variant.difficulty
    d = int(p["d_k"])
    mu_q, mu_k, s_q, s_k = (Fraction(str(p[n])) for n in ("mu_q", "mu_k", "sigma_q", "sigma_k"))
    second_q, second_k = s_q * s_q + mu_q * mu_q, s_k * s_k + mu_k * mu_k  # E[q_i^2], E[k_i^2]
    var = d * (second_q * second_k - (mu_q * mu_k) ** 2)
    product_var = s_q * s_q * s_k * s_k  # Var(q_i k_i) without the means

    def sqrt(value: Fraction) -> float:
        return math.sqrt(value)

    if difficulty == "easy":
        return {
            "no_scaling": {"std_scaled": sqrt(var)},
            "scaled_by_dk": {"std_scaled": sqrt(var) / d},
            "std_vs_variance": {"var": sqrt(var), "std": var},  # the two swapped
        }
    if difficulty == "medium":
        return {
            "no_scaling": {"std_scaled": sqrt(var)},
            "scaled_by_dk": {"std_scaled": sqrt(var) / d, "scale": 1 / (d * sqrt(product_var))},
            # Standard deviations added instead of variances; the variance given as the std.
            "std_vs_variance": {"var": d * sqrt(product_var), "std_scaled": var / d},
            "assumed_unit_variance": {"var": Fraction(d), "std_scaled": Fraction(1), "scale": 1 / sqrt(Fraction(d))},
        }
    second_moment = d * second_q * second_k
    return {
        "no_scaling": {"var_scaled": var},
        "scaled_by_dk": {"var_scaled": var / (d * d)},
        "std_vs_variance": {"var_scaled": var / sqrt(Fraction(d))},  # scaled the variance by c, not c^2
        "ignored_means": {"mean": Fraction(0), "var": d * product_var, "var_scaled": product_var},
        "second_moment_not_variance": {"var": second_moment, "var_scaled": second_moment / d},
    }


def _kv_cache_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """kv_cache's wrong sizes: the K and V tensors' ``numel() * dtype.itemsize`` on the meta device."""
    import torch

    p, difficulty = variant.params, variant.difficulty
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.int8}

    def size(layers: int = p["layers"], kv_heads: int = p["kv_heads"], itemsize: int | None = None,
             tensors: int = 2, batch: int = p["batch"]) -> int:
        """Bytes of ``tensors`` cached tensors (K, V) of shape (batch, kv_heads, seq_len, d_head) per layer."""
        one = torch.empty(batch, kv_heads, p["seq_len"], p["d_head"], dtype=dtypes[p["dtype"]], device="meta")
        return layers * tensors * one.numel() * (itemsize or one.dtype.itemsize)

    def asked(total: int, gib: int = 2**30) -> dict[str, Any]:
        if difficulty == "easy":
            return {"bytes": total}
        answer: dict[str, Any] = {"bytes": total, "gib": total / gib}
        if difficulty == "hard":
            answer["max_batch"] = p["budget_gib"] * gib // (total // p["batch"])
        return answer

    wrong: dict[str, Any] = {
        "forgot_k_or_v": asked(size(tensors=1)),
        "wrong_dtype_bytes": asked(size(itemsize=4)) if dtypes[p["dtype"]].itemsize != 4 else None,
        "per_layer_only": asked(size(layers=1)),
        # One sequence: bytes (and GiB) of batch 1; the largest batch is per sequence anyway.
        "forgot_batch": ({"bytes": size(batch=1)} | ({} if difficulty == "easy" else {"gib": size(batch=1) / 2**30})
                         if p["batch"] > 1 else None),
        "query_heads_for_kv": asked(size(kv_heads=p["heads"])) if p["kv_heads"] != p["heads"] else None,
        "gib_vs_gb": ({n: value for n, value in asked(size(), gib=10**9).items() if n != "bytes"}
                      if difficulty != "easy" else None),
    }
    return {code: answer for code, answer in wrong.items() if answer is not None}


def _flops_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """flops' wrong counts in plain integer arithmetic, written from $2mkp$ per matrix product."""
    p, difficulty = variant.params, variant.difficulty
    d, h, n, d_ff, layers = p["d_model"], p["heads"], p["seq_len"], p["d_ff"], p["layers"]
    d_head = p["d_head"] or d // h
    d_i = h * d_head

    def matmul(m: int, k: int, q: int) -> int:
        return 2 * m * k * q

    def asked(qkv: int = 3 * matmul(n, d, d_i), qk: int = matmul(n, d_head, n) * h, av: int = matmul(n, n, d_head) * h,
              out: int = matmul(n, d_i, d), mlp: int = matmul(n, d, d_ff) + matmul(n, d_ff, d), stack: int = layers,
              per_flop: int = 1, crossover: int | None = None) -> dict[str, int]:
        """The asked parts for a layer of these terms (``per_flop`` 2 counts multiply-adds)."""
        if difficulty == "easy":
            return {"projections": (qkv + out) // per_flop, "attention": (qk + av) // per_flop,
                    "total": (qkv + qk + av + out + mlp) // per_flop}
        total = stack * (qkv + qk + av + out + mlp) // per_flop
        if difficulty == "medium":
            return {"total": total, "per_token": total // n}
        return {"total": total} | ({} if crossover is None else {"crossover": crossover})

    # n* where the n^2 products (per token: 2 * 2 n d_i) equal the rest (8 d d_i + 4 d d_ff).
    rest = 8 * d * d_i + 4 * d * d_ff
    wrong = {
        "macs_not_flops": asked(per_flop=2),
        "forgot_attention_matmuls": asked(qk=0, av=0),
        "attention_counted_once": asked(av=0, crossover=rest // (2 * d_i)),
        "one_head_attention": asked(qk=matmul(n, d_head, n), av=matmul(n, n, d_head)),
        "forgot_output_projection": asked(out=0),
        "forgot_mlp": asked(mlp=0, crossover=(8 * d * d_i) // (4 * d_i)),
        "per_layer_only": asked(stack=1) if layers > 1 else None,
    }
    return {code: answer for code, answer in wrong.items() if answer is not None}


def _model_params_mistakes(variant: Variant) -> dict[str, dict[str, Any]]:
    """model_params' wrong counts: ``sum(p.numel())`` over torch modules built on the ``meta`` device."""
    from torch import nn

    p, difficulty = variant.params, variant.difficulty
    d, h, d_ff = p["d_model"], p["heads"], p["d_ff"]
    model = p["model"]

    def numel(*modules: nn.Module) -> int:
        return sum(t.numel() for m in modules for t in m.parameters())

    def attention(bias: bool, output: bool) -> int:
        mha = nn.MultiheadAttention(d, h, bias=bias, device="meta")
        return sum(t.numel() for name, t in mha.named_parameters() if output or not name.startswith("out_proj."))

    def block(bias: bool = True, output: bool = True, mlp: bool = True, cross: bool | None = None,
              norms: int | None = None, norm_bias: bool = True) -> int:
        cross = difficulty == "medium" if cross is None else cross
        norms = (3 if difficulty == "medium" else 2) if norms is None else norms
        count = attention(bias, output) * (2 if cross else 1)
        if mlp:
            count += numel(nn.Linear(d, d_ff, bias=bias, device="meta"), nn.Linear(d_ff, d, bias=bias, device="meta"))
        return count + norms * numel(nn.LayerNorm(d, bias=norm_bias, device="meta"))

    if model == "block":
        def asked(one: int) -> dict[str, int]:
            return {"block": one} if difficulty == "easy" else {"block": one, "all_layers": p["layers"] * one}

        wrong = {
            "forgot_layernorm": asked(block(norms=0)),
            "layernorm_gain_only": asked(block(norm_bias=False)),
            "forgot_bias": asked(block(bias=False)),
            "forgot_output_projection": asked(block(output=False)),
            "forgot_mlp": asked(block(mlp=False)),
        }
        if difficulty == "medium":
            wrong["forgot_cross_attention"] = asked(block(cross=False))
            wrong["two_layernorms"] = asked(block(norms=2))
            wrong["per_layer_only"] = {"all_layers": block()}
        return wrong

    def table(rows: int) -> int:
        return numel(nn.Embedding(rows, d, device="meta"))

    layer_norm = numel(nn.LayerNorm(d, device="meta"))

    def asked(embeddings: int, one: int, top: int, layers: int = p["layers"]) -> dict[str, int]:
        return {"embeddings": embeddings, "block": one, "total": embeddings + layers * one + top}

    if model == "gpt":
        head = numel(nn.Linear(d, p["vocab"], bias=False, device="meta"))
        embeddings, top = table(p["vocab"]) + table(p["context"]), layer_norm + (0 if p["tied"] else head)
        wrong = {
            "forgot_layernorm": asked(embeddings, block(norms=0), top - layer_norm),
            "forgot_position_embeddings": asked(table(p["vocab"]), block(), top),
            "forgot_final_layernorm": asked(embeddings, block(), top - layer_norm),
        }
        if p["tied"]:
            wrong["untied_when_tied"] = asked(embeddings, block(), top + head)
        else:
            wrong["tied_when_untied"] = asked(embeddings, block(), top - head)
    else:
        pooler = numel(nn.Linear(d, d, device="meta"))
        tables = table(p["vocab"]) + table(p["context"]) + table(p["type_vocab"])
        embeddings, top = tables + layer_norm, pooler if p["pooler"] else 0
        wrong = {
            "forgot_layernorm": asked(tables, block(norms=0), top),
            "forgot_position_embeddings": asked(embeddings - table(p["context"]), block(), top),
            "forgot_token_type_embeddings": asked(embeddings - table(p["type_vocab"]), block(), top),
        }
        if p["pooler"]:
            wrong["forgot_pooler"] = asked(embeddings, block(), 0)
        else:
            wrong["counted_pooler"] = asked(embeddings, block(), pooler)
    wrong["forgot_bias"] = asked(embeddings, block(bias=False), top)
    wrong["forgot_output_projection"] = asked(embeddings, block(output=False), top)
    wrong["one_block_only"] = {"total": asked(embeddings, block(), top, layers=1)["total"]}
    return wrong


# Kinds whose mistakes this module recomputes on a route of its own (criterion (b)); a kind
# left out is checked through its own catalogue only.
INDEPENDENT = {
    "self_attention": _attention_mistakes,
    "qkv_pipeline": _attention_mistakes,
    "causal_mask": _attention_mistakes,
    "padding_mask": _attention_mistakes,
    "cross_attention": _attention_mistakes,
    "softmax_stability": _softmax_mistakes,
    "mha_params": _mha_mistakes,
    "by_hand": _by_hand_mistakes,
    "layer_norm": _layer_norm_mistakes,
    "sinusoidal_positions": _sinusoidal_mistakes,
    "multihead_shapes": _multihead_shapes_mistakes,
    "variance_scaling": _variance_mistakes,
    "kv_cache": _kv_cache_mistakes,
    "flops": _flops_mistakes,
    "model_params": _model_params_mistakes,
}
ABBREVIATION_FIGURES = (3, 4)


def _distinct(variant: Variant, procedures: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of procedures (the key is ``"key"``) that agree within tolerance on every part."""
    names = list(procedures)
    clashes = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = procedures[first], procedures[second]
            if all(matches(a[p.name], as_array(b[p.name]), p.tolerance) for p in variant.parts):
                clashes.append((first, second))
    return clashes


def _abbreviations(value: float) -> list[str]:
    return [f"{value:.{figures - 1}e}" for figures in ABBREVIATION_FIGURES]


def check_review(module: Any, stored: Variant) -> list[tuple[str, str]]:
    """The sweeps (a)-(d) of issue #16 for one stored variant (see the module docstring)."""
    failures: list[tuple[str, str]] = []
    if not hasattr(module, "stated_precision"):
        return [("precision", "the kind does not declare the precision its prompt states")]
    precision = module.stated_precision(stored)
    key = dict(stored.answer)
    result = module.grade(stored, rounded(key, precision))
    if result.score != 1.0:
        failures.append(("precision", f"the key rounded as the prompt states grades {result.score}: {result.feedback}"))
    catalogue = {code: {**key, **answer} for code, answer in module.misconception_answers(stored).items()}
    if stored.kind in INDEPENDENT:
        ours = INDEPENDENT[stored.kind](stored)
        for code in set(catalogue) - set(ours):
            failures.append(("independent", f"{code} is catalogued but not recomputed independently"))
        for code, answer in ours.items():
            full = {**key, **answer}
            if code in catalogue:
                differing = [part.name for part in stored.parts
                             if not matches(catalogue[code][part.name], as_array(full[part.name]), part.tolerance)]
                if differing:
                    failures.append(("independent", f"{code} (recomputed) differs from the catalogue on {', '.join(differing)}"))
            result = module.grade(stored, full)
            if result.score >= 1.0 or result.misconception != code:
                failures.append(("independent", f"{code} (recomputed) grades {result.score}, named {result.misconception!r}"))
    for first, second in _distinct(stored, {"key": key, **catalogue}):
        failures.append(("distinct", f"{first} and {second} agree within tolerance"))
    for code, full in catalogue.items():
        result = module.grade(stored, rounded(full, precision))
        if result.score >= 1.0 or result.misconception != code:
            failures.append(("rounded", f"{code} rounded as stated grades {result.score}, named {result.misconception!r}"))
    # Abbreviations are read as such by the counting kinds' grader only (elsewhere "1.02e3" is
    # just the number 1020, typed exactly).
    abbreviating = module.grade.__qualname__.startswith("count_grader.")
    exact = [p for p in stored.parts if abbreviating and p.tolerance.rel == 0 and precision[p.name].exact and not p.shape]
    for part in exact:
        for code, full in (("key", key), *catalogue.items()):
            value = float(as_array(full[part.name]))
            if abs(value) < 1000 or (code != "key" and value == float(as_array(key[part.name]))):
                continue
            for typed in _abbreviations(value):
                result = module.grade(stored, {**key, **({} if code == "key" else full), part.name: typed})
                if result.score >= 1.0:
                    failures.append(("rounded", f"{part.name} typed {typed} ({code}) scores {result.score}"))
                elif code != "key" and result.misconception is None:
                    failures.append(("rounded", f"{part.name} typed {typed} ({code}) names no mistake"))
    return failures


def set_single_thread() -> None:
    # The problems are tiny: torch's intra-op threads only add contention, more so when
    # several sweep processes share a small CI machine.
    import torch

    torch.set_num_threads(1)


def _check_chunk(kind: str, difficulty: str, seeds: range) -> tuple[str, str, list[dict[str, Any]], float]:
    """Check one block of seeds of one (kind, difficulty); runs in-process or in a worker."""
    module = registry.get_kind(kind)
    start = time.perf_counter()
    failures = [
        {"seed": seed, "check": check, "message": message}
        for seed in seeds
        for check, message in check_variant(module, seed, difficulty)
    ]
    return kind, difficulty, failures, time.perf_counter() - start


def _chunks(kinds: list[str], difficulties: list[str], seeds: int, size: int) -> list[tuple[str, str, range]]:
    return [
        (kind, difficulty, range(lo, min(lo + size, seeds)))
        for kind in kinds
        for difficulty in difficulties
        for lo in range(0, seeds, size)
    ]


def run_verification(kinds: Iterable[str], seeds: int, difficulties: Iterable[str], jobs: int = 1) -> dict[str, Any]:
    """Sweep ``kinds`` x ``difficulties`` x ``range(seeds)``; ``ok`` is False on any failure.

    ``jobs > 1`` spreads blocks of seeds over that many worker processes (started with
    ``spawn``: a fresh interpreter never inherits a CUDA context). Each row's ``seconds`` is
    the time spent on that row summed over workers; the report's ``seconds`` is wall time.
    """
    kinds, difficulties = list(kinds), list(difficulties)
    for kind in kinds:
        registry.get_kind(kind)  # unknown kinds fail here, before any work starts
    started = time.perf_counter()
    results: dict[tuple[str, str], tuple[list[dict[str, Any]], float]] = {
        (k, d): ([], 0.0) for k in kinds for d in difficulties
    }
    if jobs <= 1:
        outcomes = [_check_chunk(*chunk) for chunk in _chunks(kinds, difficulties, seeds, seeds)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=set_single_thread) as pool:
            chunks = _chunks(kinds, difficulties, seeds, max(1, min(50, seeds // 2 or 1)))
            outcomes = list(pool.map(_check_chunk, *zip(*chunks, strict=True)))
    for kind, difficulty, failures, seconds in outcomes:
        previous, spent = results[(kind, difficulty)]
        results[(kind, difficulty)] = (previous + failures, spent + seconds)
    rows = []
    for (kind, difficulty), (failures, seconds) in results.items():
        failures.sort(key=lambda f: f["seed"])
        rows.append({
            "kind": kind,
            "difficulty": difficulty,
            "variants": seeds,
            "failed": len({f["seed"] for f in failures}),
            "failures": failures[:MAX_MESSAGES_PER_CELL],
            "seconds": round(seconds, 3),
        })
    return {
        "ok": all(r["failed"] == 0 for r in rows),
        "seeds": seeds,
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
    }


def summary_table(report: dict[str, Any]) -> str:
    """A plain-text table of the sweep, then the first failure messages."""
    lines = [f"{'kind':<22} {'difficulty':<10} {'variants':>8} {'failed':>7} {'seconds':>8}"]
    for r in report["rows"]:
        lines.append(f"{r['kind']:<22} {r['difficulty']:<10} {r['variants']:>8} {r['failed']:>7} {r['seconds']:>8.2f}")
    lines.append(f"{'total':<22} {'':<10} {sum(r['variants'] for r in report['rows']):>8} "
                 f"{sum(r['failed'] for r in report['rows']):>7} {report['seconds']:>8.2f}")
    for r in report["rows"]:
        for f in r["failures"]:
            lines.append(f"FAIL {r['kind']} {r['difficulty']} seed {f['seed']} [{f['check']}]: {f['message']}")
    lines.append("OK" if report["ok"] else "FAILED")
    return "\n".join(lines)
