r"""Parameters of transformer blocks and whole models.

A block holds attention ($4d^2 + 4d$ with biases), an MLP ($2 d d_{ff} + d_{ff} + d$) and
LayerNorms ($2d$ each); a model adds embedding tables and, at the top, a final LayerNorm and
LM head (GPT-2) or a pooler (BERT):

$$P = P_{\text{embeddings}} + L \cdot P_{\text{block}} + P_{\text{top}}$$

easy: one encoder block (``block``).
medium: one encoder-decoder decoder block with cross-attention, then the stack of $N$
(``block``, ``all_layers``; the stack is carried forward from the learner's block).
hard: a GPT-2-style or BERT-style model, named (GPT-2 small ... XL, BERT-base/large) or
drawn (``embeddings``, ``block``, ``total``; the total is carried forward from the learner's
embeddings and block).

Keys are exact integers checked against ``nn.TransformerEncoderLayer``,
``nn.TransformerDecoderLayer`` and GPT-2 / BERT models assembled on the meta device.

Part weights: the final count (``all_layers``, ``total``) 2, each step before it 1.

Grading rule for typed counts: only the exact count scores full; an abbreviation is judged at
its own precision and never hides a catalogued mistake (``counting.count_grader``, and the
statement in ``mha_params``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from attention_engine import counting
from attention_engine.generation import kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision
from attention_engine.variant import EXACT, Part, Step, Variant, agree

NAME = "model_params"
TITLE = "Parameters of transformer blocks and models"
TOPICS = ("parameter-counting", "transformer-architecture", "layer-norm", "embeddings")

MISCONCEPTIONS: dict[str, str] = {
    "forgot_layernorm": (
        "You left out the LayerNorms. Each has a gain and a bias per feature ($2d$ parameters), and "
        "there is one before (or after) every sub-layer, plus one at the embeddings (BERT) or after "
        "the last block (GPT-2)."
    ),
    "layernorm_gain_only": (
        "You counted only the gain of each LayerNorm: it also has a bias, so $2d$ parameters, not $d$."
    ),
    "forgot_bias": (
        "You left out the bias vectors of the linear layers: $3d + d$ in attention and $d_{ff} + d$ in "
        "the MLP, in every block."
    ),
    "forgot_output_projection": (
        "You left out the attention output projection $W_O$ ($d \\times d$ plus a bias of $d$)."
    ),
    "forgot_mlp": (
        "You left out the feed-forward network, which holds most of a block's parameters: "
        "$d \\times d_{ff}$ and $d_{ff} \\times d$ matrices plus their biases."
    ),
    "forgot_cross_attention": (
        "You left out the cross-attention layer: a decoder block attends to itself and then to the "
        "encoder output, with separate projections for each."
    ),
    "two_layernorms": (
        "You counted two LayerNorms, as in an encoder block; a decoder block has three, one per "
        "sub-layer (self-attention, cross-attention, MLP)."
    ),
    "per_layer_only": "You gave the count of one block where the question asks for the whole stack.",
    "one_block_only": "You added only one block to the embeddings; the model stacks $L$ of them.",
    "untied_when_tied": (
        "You counted a separate LM-head matrix, but the head is tied to the token embedding: it "
        "reuses the same $V \\times d$ matrix, so it adds no parameters."
    ),
    "tied_when_untied": (
        "You treated the LM head as tied, but here it has its own $V \\times d$ matrix, which counts "
        "on top of the token embedding."
    ),
    "forgot_position_embeddings": (
        "You left out the learned position embeddings, a $T \\times d$ table (one row per position "
        "of the context)."
    ),
    "forgot_final_layernorm": "You left out the final LayerNorm after the last block ($2d$).",
    "forgot_token_type_embeddings": (
        "You left out BERT's token-type (segment) embeddings, a table of $S \\times d$."
    ),
    "forgot_pooler": "You left out the pooler, a $d \\times d$ dense layer with a bias of $d$.",
    "counted_pooler": "You counted a pooler, but this model has none.",
}

# name -> (vocab, context, d_model, heads, layers, d_ff)
GPT2 = {
    "GPT-2 small": (50257, 1024, 768, 12, 12, 3072),
    "GPT-2 medium": (50257, 1024, 1024, 16, 24, 4096),
    "GPT-2 large": (50257, 1024, 1280, 20, 36, 5120),
    "GPT-2 XL": (50257, 1024, 1600, 25, 48, 6400),
}
# name -> (vocab, context, type_vocab, d_model, heads, layers, d_ff)
BERT = {
    "BERT-base": (30522, 512, 2, 768, 12, 12, 3072),
    "BERT-large": (30522, 512, 2, 1024, 16, 24, 4096),
}
WIDTHS = (256, 512, 768, 1024)
ROUTES = ("formula", "torch-meta-modules")


class Ledger(NamedTuple):
    """A model as ``embeddings + layers * block + top`` (``top`` = final LN, head, pooler)."""

    embeddings: int
    block: int
    top: int
    layers: int

    def total(self) -> int:
        return self.embeddings + self.layers * self.block + self.top

    def changed(self, embeddings: int = 0, block: int = 0, top: int = 0) -> Ledger:
        """The ledger with amounts added to (or, negative, taken from) its entries."""
        return self._replace(
            embeddings=self.embeddings + embeddings, block=self.block + block, top=self.top + top
        )


def _answers(ledger: Ledger, difficulty: str) -> dict[str, int]:
    """The parts asked at ``difficulty``."""
    if difficulty == "easy":
        return {"block": ledger.block}
    if difficulty == "medium":
        return {"block": ledger.block, "all_layers": ledger.total()}
    return {"embeddings": ledger.embeddings, "block": ledger.block, "total": ledger.total()}


def _parts(difficulty: str, layers: int) -> tuple[Part, ...]:
    if difficulty == "easy":
        return (Part("block", "Parameters of one block", (), 1, EXACT),)
    if difficulty == "medium":
        return (
            Part("block", "Parameters of one decoder block", (), 1, EXACT),
            Part("all_layers", f"Parameters of the stack of {layers} blocks", (), 2, EXACT, weight=2.0),
        )
    return (
        Part("embeddings", "Parameters of the embedding layer", (), 1, EXACT),
        Part("block", "Parameters of one block", (), 1, EXACT),
        Part("total", "Parameters of the whole model", (), 2, EXACT, weight=2.0),
    )


def _choose_heads(d_model: int) -> int:
    """Heads of 64 dimensions, the common choice (128 for the widest models)."""
    return d_model // 64 if d_model <= 1024 else d_model // 128


def _config(rng: np.random.Generator, difficulty: str) -> dict[str, Any]:
    if difficulty in ("easy", "medium"):
        d_model = int(rng.choice(WIDTHS))
        # Vaswani et al.'s base model has d_ff = 2048 = 4 * 512; most models keep the 4x ratio.
        d_ff = (
            int(rng.choice([4 * d_model, 2 * d_model])) if difficulty == "medium" else 4 * d_model
        )
        config = {
            "model": "block",
            "d_model": d_model,
            "heads": _choose_heads(d_model),
            "d_ff": d_ff,
        }
        config["layers"] = int(rng.choice([6, 12])) if difficulty == "medium" else 1
        return config
    family = "gpt" if rng.integers(2) == 0 else "bert"
    named = bool(rng.integers(2))
    if family == "gpt":
        if named:
            name = str(rng.choice(sorted(GPT2)))
            vocab, context, d_model, heads, layers, d_ff = GPT2[name]
        else:
            name = ""
            vocab = int(rng.choice([32000, 32768, 50257, 50304]))
            context = int(rng.choice([512, 1024, 2048]))
            d_model = int(rng.choice(WIDTHS[1:]))
            heads, layers, d_ff = _choose_heads(d_model), int(rng.choice([6, 8, 12])), 4 * d_model
        # GPT-2 ties its head; an untied head is the variation worth asking about sometimes.
        tied = bool(rng.random() < 0.7)
        return {
            "model": "gpt", "name": name, "vocab": vocab, "context": context, "d_model": d_model,
            "heads": heads, "layers": layers, "d_ff": d_ff, "tied": tied,
        }  # fmt: skip
    if named:
        name = str(rng.choice(sorted(BERT)))
        vocab, context, type_vocab, d_model, heads, layers, d_ff = BERT[name]
    else:
        name = ""
        vocab, context, type_vocab = int(rng.choice([28996, 30522, 32000])), 512, 2
        # The compact BERTs of Turc et al. (2019): L in 2..12, H in 128..768, d_ff = 4H.
        d_model = int(rng.choice(WIDTHS[:3]))
        heads, layers, d_ff = _choose_heads(d_model), int(rng.choice([4, 6, 8])), 4 * d_model
    pooler = bool(rng.random() < 0.7)
    return {
        "model": "bert", "name": name, "vocab": vocab, "context": context, "type_vocab": type_vocab,
        "d_model": d_model, "heads": heads, "layers": layers, "d_ff": d_ff, "pooler": pooler,
    }  # fmt: skip


def _counter_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the matching ``counting`` function."""
    skip = {"model", "name"}
    if config["model"] == "block":
        skip.add("layers")
    return {k: v for k, v in config.items() if k not in skip}


def _count(config: Mapping[str, Any], difficulty: str) -> counting.Count:
    kwargs = _counter_config(config)
    if config["model"] == "gpt":
        return counting.gpt_params(**kwargs)
    if config["model"] == "bert":
        return counting.bert_params(**kwargs)
    counter = (
        counting.encoder_block_params if difficulty == "easy" else counting.decoder_block_params
    )
    return counter(**kwargs)


def _ledger(config: Mapping[str, Any], difficulty: str) -> Ledger:
    """Split the breakdown into embeddings, one block and the top of the model."""
    parts = _count(config, difficulty).breakdown
    layers = config["layers"]
    if config["model"] == "block":
        return Ledger(0, sum(parts.values()), 0, layers)
    if config["model"] == "gpt":
        embeddings = parts["token_embedding"] + parts["position_embedding"]
        stacked = parts["ln_1"] + parts["attention"] + parts["ln_2"] + parts["mlp"]
        return Ledger(embeddings, stacked // layers, parts["ln_f"] + parts["lm_head"], layers)
    embeddings = sum(parts[k] for k in parts if k.endswith("embedding") or k == "embedding_ln")
    stacked = parts["attention"] + parts["attention_ln"] + parts["mlp"] + parts["output_ln"]
    return Ledger(embeddings, stacked // layers, parts["pooler"], layers)


def _verify(config: Mapping[str, Any], difficulty: str, ledger: Ledger) -> Any:
    """Total (and, for models, one block) against the torch modules on the meta device."""
    kwargs = _counter_config(config)
    if config["model"] == "block":
        kind = "encoder_block" if difficulty == "easy" else "decoder_block"
        ours, theirs = counting.verify_count(kind, **kwargs)
        return agree(ROUTES, [abs(ours - theirs), abs(ledger.block - theirs)])
    ours, theirs = counting.verify_count(config["model"], **kwargs)
    block = {k: config[k] for k in ("d_model", "heads", "d_ff")}
    _, torch_block = counting.verify_count("encoder_block", **block)
    return agree(
        ROUTES,
        [abs(ours - theirs), abs(ledger.total() - theirs), abs(ledger.block - torch_block)],
    )


def _model_text(config: Mapping[str, Any]) -> str:
    d, h, d_ff, layers = config["d_model"], config["heads"], config["d_ff"], config["layers"]
    if config["model"] == "gpt":
        if not config["name"]:
            subject = "A GPT-2-style decoder-only transformer"
        elif config["tied"]:
            subject = f"{config['name']} (a decoder-only transformer)"
        else:
            subject = f"A variant of {config['name']} (a decoder-only transformer)"
        head = (
            "The LM head is **tied** to the token embedding (it reuses the same matrix)."
            if config["tied"]
            else f"The LM head is **not tied**: it is its own $V \\times d = {config['vocab']} \\times {d}$ "
            "matrix, without bias."
        )
        return (
            f"{subject} has a vocabulary of $V = {config['vocab']}$ "
            f"tokens, a context of $T = {config['context']}$ positions with **learned** position "
            f"embeddings, width $d = {d}$, $h = {h}$ heads and $L = {layers}$ blocks with an MLP of "
            f"width $d_{{ff}} = {d_ff}$. Each block is: LayerNorm, multi-head self-attention (Q, K, V "
            "and output projections, all with biases), LayerNorm, MLP $d \\to d_{ff} \\to d$ (both "
            "layers with biases). After the last block comes a final LayerNorm. Every LayerNorm has "
            f"a gain and a bias. {head}"
        )
    if not config["name"]:
        subject = "A BERT-style encoder"
    elif config["pooler"]:
        subject = f"{config['name']} (an encoder)"
    else:
        subject = f"{config['name']} used without its pooler"
    pooler = (
        "On top sits the **pooler**: a dense $d \\times d$ layer with bias applied to the [CLS] token."
        if config["pooler"]
        else "There is **no pooler** and no masked-LM head."
    )
    return (
        f"{subject} has a vocabulary of $V = {config['vocab']}$ tokens, "
        f"$T = {config['context']}$ learned position embeddings and $S = {config['type_vocab']}$ "
        "token-type (segment) embeddings; the three embeddings are summed and passed through a "
        f"LayerNorm. Then come $L = {layers}$ post-LN blocks of width $d = {d}$ with $h = {h}$ "
        "heads: multi-head self-attention (Q, K, V and output projections, all with biases), "
        f"LayerNorm, MLP $d \\to {d_ff} \\to d$ with biases, LayerNorm. Every LayerNorm has a gain "
        f"and a bias. {pooler}"
    )


def _prompt(config: Mapping[str, Any], difficulty: str) -> str:
    d, h, d_ff = config["d_model"], config["heads"], config["d_ff"]
    if difficulty == "easy":
        return (
            f"A transformer encoder block, `torch.nn.TransformerEncoderLayer(d_model={d}, nhead={h}, "
            f"dim_feedforward={d_ff})`, holds multi-head self-attention ($d = {d}$, $h = {h}$; Q, K, "
            f"V and output projections, all with biases), a feed-forward network ${d} \\to {d_ff} "
            f"\\to {d}$ with biases, and two LayerNorms, each with a gain and a bias.\n\n"
            "How many trainable parameters does one block hold? Give the exact number."
        )
    if difficulty == "medium":
        return (
            "The decoder of an encoder-decoder transformer is a stack of "
            f"$N = {config['layers']}$ blocks like `torch.nn.TransformerDecoderLayer(d_model={d}, "
            f"nhead={h}, dim_feedforward={d_ff})`. Each block holds masked multi-head "
            f"self-attention, multi-head cross-attention over the encoder output (also of width "
            f"{d}), a feed-forward network ${d} \\to {d_ff} \\to {d}$, and a LayerNorm for each of "
            f"the three sub-layers. Every linear layer has a bias; every LayerNorm a gain and a bias. "
            f"There are $h = {h}$ heads.\n\n"
            "1. How many trainable parameters does one decoder block hold?\n"
            f"2. How many does the stack of {config['layers']} blocks hold?\n\n"
            "Give exact numbers."
        )
    embedding = (
        "the token and position embedding tables"
        if config["model"] == "gpt"
        else "the embedding layer: the token, position and token-type tables and their LayerNorm"
    )
    return (
        f"{_model_text(config)}\n\n"
        f"1. How many parameters are in {embedding}?\n"
        "2. How many parameters does one block hold?\n"
        "3. How many parameters does the whole model hold?\n\n"
        "Give exact numbers."
    )


def _steps(config: Mapping[str, Any], difficulty: str, ledger: Ledger) -> tuple[Step, ...]:
    d, d_ff = config["d_model"], config["d_ff"]
    attention = 4 * d * d + 4 * d
    mlp = 2 * d * d_ff + d_ff + d
    block_text = f"Attention $4d^2 + 4d = {attention}$, MLP $2 d d_{{ff}} + d_{{ff}} + d = {mlp}$, "
    if difficulty == "medium":
        block_text += (
            f"cross-attention another {attention}, three LayerNorms $3 \\cdot 2d = {6 * d}$."
        )
        values = {
            "self_attention": attention,
            "cross_attention": attention,
            "mlp": mlp,
            "layernorms": 6 * d,
        }
    else:
        block_text += f"two LayerNorms $2 \\cdot 2d = {4 * d}$."
        values = {"attention": attention, "mlp": mlp, "layernorms": 4 * d}
    steps = [Step("One block", block_text, {**values, "block": ledger.block})]
    if difficulty == "medium":
        steps.append(
            Step(
                "The stack",
                f"${ledger.layers} \\times {ledger.block}$.",
                {"all_layers": ledger.total()},
            )
        )
    if difficulty == "hard":
        table = _count(config, difficulty).breakdown
        embeddings = {k: v for k, v in table.items() if "embedding" in k}
        steps.append(
            Step(
                "Embeddings",
                "One row of $d$ numbers per token, position (and segment).",
                embeddings,
            )
        )
        top = {k: table[k] for k in ("ln_f", "lm_head", "pooler") if k in table}
        steps.append(Step("Top of the model", "Final LayerNorm and head, or the pooler.", top))
        steps.append(
            Step(
                "Add up",
                f"embeddings + ${ledger.layers} \\times$ block + top.",
                {"embeddings": ledger.embeddings, "block": ledger.block, "total": ledger.total()},
            )
        )
    return tuple(steps)


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    config = _config(rng, difficulty)
    ledger = _ledger(config, difficulty)
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params=config,
        prompt=_prompt(config, difficulty),
        parts=_parts(difficulty, config["layers"]),
        answer=_answers(ledger, difficulty),
        steps=_steps(config, difficulty, ledger),
        verification=_verify(config, difficulty, ledger),
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each applicable wrong procedure produces for this variant."""
    config, difficulty = variant.params, variant.difficulty
    ledger = _ledger(config, difficulty)
    d, d_ff = config["d_model"], config["d_ff"]
    model = config["model"]
    linear_biases = (3 * d + d) * (2 if difficulty == "medium" else 1) + d_ff + d
    output_projection = (d * d + d) * (2 if difficulty == "medium" else 1)
    wrong: dict[str, Ledger] = {
        "forgot_bias": ledger.changed(block=-linear_biases),
        "forgot_output_projection": ledger.changed(block=-output_projection),
    }
    if model == "block":
        norms = 3 if difficulty == "medium" else 2
        wrong["forgot_layernorm"] = ledger.changed(block=-2 * d * norms)
        wrong["layernorm_gain_only"] = ledger.changed(block=-d * norms)
        wrong["forgot_mlp"] = ledger.changed(block=-(2 * d * d_ff + d_ff + d))
        if difficulty == "medium":
            wrong["forgot_cross_attention"] = ledger.changed(block=-(4 * d * d + 4 * d))
            wrong["two_layernorms"] = ledger.changed(block=-2 * d)
    elif model == "gpt":
        table = config["vocab"] * d
        wrong["forgot_layernorm"] = ledger.changed(block=-4 * d, top=-2 * d)
        wrong["forgot_position_embeddings"] = ledger.changed(embeddings=-config["context"] * d)
        wrong["forgot_final_layernorm"] = ledger.changed(top=-2 * d)
        if config["tied"]:
            wrong["untied_when_tied"] = ledger.changed(top=table)
        else:
            wrong["tied_when_untied"] = ledger.changed(top=-table)
    else:
        pooler = d * d + d
        wrong["forgot_layernorm"] = ledger.changed(embeddings=-2 * d, block=-4 * d)
        wrong["forgot_position_embeddings"] = ledger.changed(embeddings=-config["context"] * d)
        wrong["forgot_token_type_embeddings"] = ledger.changed(embeddings=-config["type_vocab"] * d)
        if config["pooler"]:
            wrong["forgot_pooler"] = ledger.changed(top=-pooler)
        else:
            wrong["counted_pooler"] = ledger.changed(top=pooler)
    answers = {code: _answers(changed, difficulty) for code, changed in wrong.items()}
    if difficulty == "medium":
        answers["per_layer_only"] = {"all_layers": ledger.block}
    if difficulty == "hard":
        answers["one_block_only"] = {"total": ledger._replace(layers=1).total()}
    order = [code for code in MISCONCEPTIONS if code in answers]
    return {code: answers[code] for code in order}


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The stack or the model total implied by the learner's own block (and embeddings)."""
    ledger = _ledger(variant.params, variant.difficulty)
    if variant.difficulty == "medium" and "block" in learner:
        return {"all_layers": learner["block"] * ledger.layers}
    if variant.difficulty == "hard" and {"embeddings", "block"} <= set(learner):
        return {"total": learner["embeddings"] + ledger.layers * learner["block"] + ledger.top}
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
