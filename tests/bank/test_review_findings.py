"""Findings of the expert review of the bank (issue #16), each held by a content test.

Every test names the fact it checks; a later edit that brings the mistake back fails here.
"""

import re

import pytest

from questions.catalogue.theory import grade_theory


@pytest.fixture(scope="module")
def by_slug(bank_questions):
    return {q["slug"]: q for q in bank_questions}


def key(q: dict) -> float:
    return next(a["value"] for a in q["answers"] if a["weight"] == 100)


def texts(value) -> list[str]:
    """Every string inside a question (prompt, choices, feedback, explanation, source ...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def blob(q: dict) -> str:
    return " ".join(" ".join(texts(q)).split())


def choice(q: dict, words: str) -> dict:
    (found,) = [c for c in q["choices"] if words in c["text"]]
    return found


# 5. The crossover follows the cited counting: Kaplan et al. (2020) §2.1 gives 12 d.

def test_crossover_key_is_kaplans_12d(by_slug):
    q = by_slug["cm-attention-crossover"]
    assert key(q) == 12 * 768 == 9216
    assert grade_theory(q, "9216")["score"] == 1.0
    assert "12d" in q["explanation"].replace(" ", "") and "9216" in q["explanation"].replace("{,}", "")
    # Counting both full n x n products (4 n d per token) gives 6d: a named wrong answer now.
    wrong = grade_theory(q, "4608")
    assert wrong["score"] == 0 and "AV" in wrong["feedback"] and "twice" in wrong["feedback"]
    # The prompt states the counting it wants, so 9216 follows from it.
    assert "n_{\\text{layer}}n_{\\text{ctx}}d_{\\text{attn}}" in q["prompt"]


def test_the_crossover_engine_figure_is_the_full_matrix_count(by_slug):
    q = by_slug["cm-attention-crossover"]
    (entry,) = [a for a in q["answers"] if "engine" in a]
    assert entry["value"] == 4608 and entry["weight"] == 0
    assert entry["engine"]["function"] == "attention_overtakes_seq_len"


# 6. Permutation equivariance holds only without positions AND without a causal mask.

@pytest.mark.parametrize("slug", ["pe-why-needed", "pe-permutation-equivariance", "sa-rnn-advantages"])
def test_permutation_equivariance_states_its_condition(by_slug, slug):
    q = by_slug[slug]
    prose = texts({k: v for k, v in q.items() if k not in ("slug", "tags")})
    claims = [t for t in prose if re.search(r"equivarian|as a set", t) and "*" not in t]  # not patterns
    assert claims, slug
    for text in claims:
        flat = " ".join(text.split()).lower()
        if re.search(r"invarian", flat) and "equivarian" not in flat:
            continue
        assert "causal mask" in flat or "unmasked" in flat, (slug, text)


def test_the_causal_mask_breaks_the_symmetry_is_said(by_slug):
    explanation = " ".join(by_slug["pe-permutation-equivariance"]["explanation"].split())
    assert "causal mask" in explanation
    right = choice(by_slug["pe-why-needed"], "set")
    assert "causal mask" in " ".join(right["text"].split())


# 7a. "Full-width heads" read as the opposite of "one full-width head" elsewhere: gone.

def test_no_ambiguous_full_width_wording(bank_questions):
    offenders = [q["slug"] for q in bank_questions if re.search(r"full[- ]width", blob(q), re.I)]
    assert offenders == []


def test_crossover_prompt_spells_out_the_head_layout(by_slug):
    assert "h\\,d_{\\text{head}} = d_{\\text{model}}" in by_slug["cm-attention-crossover"]["prompt"]


# 7b. Weight tying: the tied matrix is the output projection / LM head / unembedding.

@pytest.mark.parametrize("response", [
    "output projection", "the output projection", "language model head", "the LM head", "lm_head",
    "unembedding matrix", "the pre-softmax linear transformation", "output embedding",
    "final projection to the vocabulary",
])
def test_weight_tying_accepts_the_output_projection(by_slug, response):
    assert grade_theory(by_slug["pc-weight-tying"], response)["score"] == 1.0, response


@pytest.mark.parametrize("response", [
    "attention softmax", "the softmax in attention", "attention output projection", "W_O", "position embedding",
])
def test_weight_tying_refuses_attention_matrices(by_slug, response):
    result = grade_theory(by_slug["pc-weight-tying"], response)
    assert result["score"] == 0, response
    assert "Not one of the accepted answers" not in result["feedback"], f"{response}: generic feedback"


# 7c. The bug is normalising over the query axis, not "normalising columns".

def test_the_softmax_axis_bug_is_layout_independent(bank_questions, by_slug):
    for q in bank_questions:
        for text in texts(q):
            flat = " ".join(text.split())
            if "bug" in flat.lower() and "softmax" in blob(q).lower():
                assert "key axis" in flat and "query axis" in flat, (q["slug"], flat)
    feedback = choice(by_slug["softmax-which-axis"], "dim=-2")["feedback"]
    assert "K^\\top Q" in feedback  # the by-hand layout, where columns are right, is named
    assert "K^\\top Q" in by_slug["softmax-columns-sum"]["explanation"]


# 8a. Short answers accept reasonable variants.

@pytest.mark.parametrize(("slug", "response", "score"), [
    ("bert-cls-token", "the [CLS] token", 1.0),
    ("bert-cls-token", "CLS token", 1.0),
    ("bert-cls-token", "[CLS]", 1.0),
    ("bert-cls-token", "[SEP]", 0.0),
    ("cross-attention-name", "encoder-decoder cross-attention", 1.0),
    ("cross-attention-name", "cross attention", 1.0),
    ("cross-attention-name", "the encoder-decoder attention layer", 1.0),
    ("cross-attention-name", "masked self-attention", 0.0),
    ("mask-teacher-forcing-name", "Teacher-forced training", 1.0),
])
def test_short_answers_accept_variants(by_slug, slug, response, score):
    assert grade_theory(by_slug[slug], response)["score"] == score


# 8b. in_proj_weight has shape (3 * embed_dim, embed_dim).

def test_in_proj_weight_shape(by_slug):
    text = blob(by_slug["mha-torch-param-count"])
    assert "512\\times1536" not in text
    assert "1536\\times512" in text


def test_in_proj_weight_shape_against_torch():
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        assert tuple(torch.nn.MultiheadAttention(512, 8).in_proj_weight.shape) == (1536, 512)


# 8c. LayerNorm: GPT-2 adds a final LayerNorm after its last block; the original Post-LN has none.

def test_final_layer_norm_statements_agree(bank_questions, by_slug):
    layer_norm = [q for q in bank_questions if q["slug"].startswith("ln-")]
    for q in layer_norm:
        assert "Both have the same parameters" not in blob(q), q["slug"]
    formula = by_slug["ln-pre-ln-formula"]["explanation"]
    assert "final LayerNorm" in formula and "no final LayerNorm" in " ".join(formula.split())
    gpt2 = by_slug["ln-gpt2-placement"]
    assert "after the last block" in " ".join(gpt2["prompt"].split())
    original = next(p["right"] for p in by_slug["ln-models-matching"]["pairs"] if "Original" in p["left"])
    assert "no final LayerNorm" in original


# 8d. Renormalising after masking is exactly right, not a half-fix.

def test_renormalising_after_masking_is_exact(by_slug):
    q = by_slug["mask-before-softmax"]
    feedback = " ".join(choice(q, "Nothing")["feedback"].split())
    assert "would fix the sum" not in feedback
    assert "exactly" in feedback and "identical" in feedback


# 8e. GPT-2's Table 2 lists layers and d_model only: head counts cite the released config.

def test_gpt2_head_counts_cite_a_config(bank_questions):
    for q in bank_questions:
        source = q["source"]
        if re.search(r"GPT-2[^;]*Table 2|Radford et al\. \(2019\)[^;]*Table 2", source) and \
                re.search(r"\b12 heads|heads?\b", blob({k: v for k, v in q.items() if k != "source"})):
            assert re.search(r"hparams|config", source, re.I), q["slug"]


# 8f. nanoGPT prints 123.65M: it leaves the position embeddings out (get_num_params).

@pytest.mark.parametrize("response", ["123.65M", "123653376", "123,653,376"])
def test_nanogpt_figure_gets_specific_feedback(by_slug, response):
    result = grade_theory(by_slug["pc-gpt2-small-total"], response)
    assert 0 < result["score"] < 1
    assert "get_num_params" in result["feedback"] and "position" in result["feedback"]
