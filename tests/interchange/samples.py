"""Bank-shaped questions (as the YAML loader returns them), one per FORMAT.md type, and the
projection of a question onto the fields a format can carry, used by the round-trip tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from questions.catalogue.interchange.common import DEFAULT_EXPORT_FORMAT, snap_export_weight, tidy

_COMMON = {
    "difficulty": "medium",
    "source": "Vaswani et al. (2017), Attention Is All You Need, §3.2",
    "hints": ["Think about the shape of $QK^T$.", "Each row is one query."],
}

SAMPLES: dict[str, dict[str, Any]] = {
    "single_choice": {
        "slug": "softmax-axis",
        "type": "single_choice",
        "tags": ["softmax", "attention-weights"],
        "title": "Which axis does the attention softmax run over?",
        "prompt": "In $\\mathrm{softmax}(QK^T/\\sqrt{d_k})$, over which axis is the softmax taken?",
        "explanation": "Each query's scores over all keys must sum to 1: the key axis.",
        "choices": [
            {"text": "The key axis (last axis)", "weight": 100, "feedback": "Right."},
            {"text": "The query axis", "weight": 0,
             "feedback": "That would make each key's column sum to 1, not each query's row."},
            {"text": "Both, jointly", "weight": 0,
             "feedback": "A joint softmax couples unrelated queries."},
        ],
    },
    "multiple_response": {
        "slug": "scaling-reasons",
        "type": "multiple_response",
        "tags": ["scaling"],
        "title": "Why divide by sqrt(d_k)?",
        "prompt": "Select **every** true statement about the $1/\\sqrt{d_k}$ factor.",
        "explanation": "With unit-variance entries, $q\\cdot k$ has variance $d_k$.",
        "choices": [
            {"text": "It keeps the variance of the scores near 1", "weight": 50, "feedback": ""},
            {"text": "It keeps the softmax out of its saturated region", "weight": 50,
             "feedback": ""},
            {"text": "It normalises the values V", "weight": -50,
             "feedback": "V is never scaled by it."},
            {"text": "It is needed for causal masking", "weight": -50,
             "feedback": "Masking works the same with or without it."},
        ],
    },
    "true_false": {
        "slug": "mask-before-softmax",
        "type": "true_false",
        "tags": ["masking"],
        "title": "The causal mask is applied before the softmax",
        "prompt": "The causal mask is added to the scores *before* the softmax.",
        "explanation": "Adding $-\\infty$ before the softmax gives masked keys weight exactly 0.",
        "answer": True,
        "feedback_true": "Yes: masked positions get $e^{-\\infty} = 0$.",
        "feedback_false": "After the softmax the row would no longer sum to 1.",
    },
    "numeric": {
        "slug": "kv-cache-bytes",
        "type": "numeric",
        "tags": ["kv-cache"],
        "title": "KV-cache size",
        "prompt": "A layer caches K and V for 1024 tokens, 8 heads of width 64, in fp16. "
                  "How many KiB is that?",
        "explanation": "2 (K and V) x 1024 x 8 x 64 x 2 bytes = 2 MiB = 2048 KiB.",
        "answers": [
            {"value": 2048, "tolerance": 0, "weight": 100, "feedback": "Correct."},
            {"value": 1024, "tolerance": 0.5, "weight": 50,
             "feedback": "You counted only K (or only V)."},
        ],
        "unit": "KiB",
    },
    "short_answer": {
        "slug": "name-of-qkt",
        "type": "short_answer",
        "tags": [],
        "title": "Name the score matrix",
        "prompt": "What is $QK^T$ usually called?",
        "explanation": "It holds one score per (query, key) pair.",
        "answers": [
            {"text": "attention scores", "weight": 100, "feedback": ""},
            {"text": "*logits*", "weight": 50, "feedback": "Also said, but less precise."},
        ],
        "case_sensitive": True,
    },
    "matching": {
        "slug": "shapes",
        "type": "matching",
        "tags": ["shapes"],
        "title": "Match the tensors to their shapes",
        "prompt": "Batch $B$, length $n$, model width $d$, $h$ heads of width $d_k$.",
        "explanation": "The scores are per head and per (query, key) pair.",
        "pairs": [
            {"left": "Q after the head split", "right": "(B, h, n, d_k)"},
            {"left": "The scores QK^T", "right": "(B, h, n, n)"},
            {"left": "The output before W_O", "right": "(B, n, h·d_k)"},
        ],
        "distractors": ["(B, n, n, d)"],
    },
    "ordering": {
        "slug": "pipeline-order",
        "type": "ordering",
        "tags": ["pipeline"],
        "title": "Order the steps of scaled dot-product attention",
        "prompt": "Put the steps in the order they are computed.",
        "explanation": "Scores, scale, mask, softmax, then weight the values.",
        "items": ["Compute QK^T", "Divide by sqrt(d_k)", "Add the mask", "Softmax over keys",
                  "Multiply by V"],
    },
    "essay": {
        "slug": "why-multi-head",
        "type": "essay",
        "tags": [],
        "title": "Why several heads?",
        "prompt": "Explain in a few sentences why multi-head attention helps.",
        "explanation": "Different heads can attend to different positions and subspaces.",
    },
}


def sample(kind: str, **changes: Any) -> dict[str, Any]:
    """A deep copy of the sample of ``kind``, with the common fields and ``changes``."""
    question = {**copy.deepcopy(_COMMON), **copy.deepcopy(SAMPLES[kind])}
    question.update(changes)
    return question


def _stripped(value: Any) -> Any:
    """Texts without surrounding whitespace: Moodle trims every text it imports."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_stripped(v) for v in value]
    if isinstance(value, dict):
        return {k: _stripped(v) for k, v in value.items()}
    return value


def _grade(weight: float) -> float:
    """The Moodle grade a weight is written as (33.33 -> 33.33333)."""
    return tidy(snap_export_weight(weight, None))


def carried(question: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The part of ``question`` that survives ``dump`` then ``parse`` in ``fmt``.

    Neither format has ``source`` or ``difficulty``, keeps surrounding whitespace, or holds
    weights other than Moodle's grades; GIFT also has no hints, units or case sensitivity
    (Moodle's GIFT short answers are case-insensitive).
    """
    q = _stripped(copy.deepcopy(question))
    out: dict[str, Any] = {
        key: q.get(key) for key in ("slug", "type", "title", "prompt", "explanation")
    }
    out["tags"] = list(q.get("tags") or [])
    out["format"] = q.get("format") or DEFAULT_EXPORT_FORMAT
    out["category"] = q.get("category")
    out["hints"] = list(q.get("hints") or []) if fmt == "moodle_xml" else []
    kind = q["type"]
    if kind in ("single_choice", "multiple_response"):
        out["choices"] = [{"text": c["text"], "weight": _grade(c["weight"]),
                           "feedback": c.get("feedback") or ""} for c in q["choices"]]
    elif kind == "true_false":
        out.update(answer=q["answer"], feedback_true=q.get("feedback_true") or "",
                   feedback_false=q.get("feedback_false") or "")
    elif kind == "numeric":
        out["answers"] = [{"value": a["value"], "tolerance": a["tolerance"],
                           "weight": _grade(a["weight"]), "feedback": a.get("feedback") or ""}
                          for a in q["answers"]]
        out["other_feedback"] = q.get("other_feedback") or None
        out["unit"] = q.get("unit") if fmt == "moodle_xml" else None
    elif kind == "short_answer":
        out["answers"] = [{"text": a["text"], "weight": _grade(a["weight"]),
                           "feedback": a.get("feedback") or ""} for a in q["answers"]]
        out["case_sensitive"] = bool(q.get("case_sensitive")) if fmt == "moodle_xml" else False
    elif kind == "matching":
        out["pairs"] = q["pairs"]
        out["distractors"] = list(q.get("distractors") or [])
    elif kind == "ordering":
        out["items"] = list(q["items"])
    return out


FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    """The text of a file in ``fixtures/`` (copied from Moodle; see fixtures/README.md)."""
    return (FIXTURES / name).read_text(encoding="utf-8")
