"""Code exercises: the learner writes attention in NumPy or PyTorch, and the worker runs it.

``sandbox`` runs learner code in a fresh bubblewrap sandbox (``harness`` is the program inside)
and brings back the arrays it returned; ``exercise`` is the contract of a code kind (a prompt,
a signature, starter code, verified and vetted tests) and grades code against it; the kinds
live beside it (``attention``...). Importing this package imports neither torch nor the kinds'
tests, and nothing here runs learner code outside a sandbox.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from attention_engine.variant import DIFFICULTIES, check_difficulty

MAX_CODE_BYTES = 20_000  # a solution is a few dozen lines

# Kind name -> "module:attribute" of its CodeKind, in the order they are listed: from the core
# formula to the pieces of a transformer layer.
REGISTERED = {
    "code_attention_numpy": "attention_engine.code.attention:NUMPY",
    "code_attention_torch": "attention_engine.code.attention:TORCH",
    "code_stable_softmax": "attention_engine.code.masks:STABLE_SOFTMAX",
    "code_causal_attention": "attention_engine.code.masks:CAUSAL",
    "code_padding_attention": "attention_engine.code.masks:PADDING",
    "code_cross_attention": "attention_engine.code.decoding:CROSS",
    "code_kv_cache_step": "attention_engine.code.decoding:KV_CACHE_STEP",
    "code_mha_module": "attention_engine.code.modules:MHA",
    "code_sinusoidal_positions": "attention_engine.code.positions:SINUSOIDAL",
    "code_rope": "attention_engine.code.positions:ROPE",
}
# The registered kinds whose module exists (as ``registry.available_names``: kinds are written
# by more than one hand, and one still being written must not break the others).
CODE_KINDS = {name: path for name, path in REGISTERED.items()
              if importlib.util.find_spec(path.split(":")[0]) is not None}


def answer_problem(answer: Any) -> str | None:
    """Why ``answer`` is no code to run (the message, for the learner), or None: it must be
    ``{"code": text}`` with some code, at most ``MAX_CODE_BYTES``, and no NUL character."""
    code = answer.get("code") if isinstance(answer, dict) else None
    if not isinstance(code, str):
        return 'Send the code as text: {"code": "..."}.'
    if not code.strip():
        return "No code given."
    if "\x00" in code:
        return "The code holds a NUL character; remove it."
    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        return f"The code is longer than {MAX_CODE_BYTES:,} bytes."
    return None


def not_run(message: str, *, part: str = "code") -> dict[str, Any]:
    """The result of code that was not run (no code to run, no sandbox): score 0 and the reason as
    a format error, which costs no attempt; the same fields as a graded run's result."""
    return {"score": 0.0, "tests": [], "misconception": None, "misconception_message": None,
            "format_errors": [{"part": part, "row": None, "col": None, "message": message}],
            "feedback": f"Not run: {message} This does not count as an attempt.", "output": "", "seconds": 0.0,
            "error": None}


def get_code_kind(name: str):
    """The ``CodeKind`` called ``name``; ``ValueError`` for an unknown one."""
    if name not in CODE_KINDS:
        raise ValueError(f"unknown code kind {name!r}; known: {', '.join(CODE_KINDS)}")
    module, attribute = CODE_KINDS[name].split(":")
    return getattr(importlib.import_module(module), attribute)


def list_code_kinds() -> list[dict[str, Any]]:
    """``[{"name", "title", "topics", "difficulties", "answer_type": "code", "framework"}]``."""
    return [
        {"name": name, "title": kind.title, "topics": list(kind.topics), "difficulties": list(DIFFICULTIES),
         "answer_type": "code", "framework": kind.framework}
        for name, kind in ((n, get_code_kind(n)) for n in CODE_KINDS)
    ]


def generate(kind: str, seed: int, difficulty: str = "medium") -> dict[str, Any]:
    """A verified code variant as JSON (see ``exercise.generate``)."""
    from attention_engine.code import exercise

    return exercise.generate(get_code_kind(kind), seed, check_difficulty(difficulty))


def grade(variant: dict[str, Any], answer: Any, *, examples_only: bool = False, device: str = "cpu") -> dict[str, Any]:
    """Run ``answer["code"]`` on the variant's tests in a fresh sandbox (only the visible examples
    with ``examples_only``) and grade it (see ``exercise.grade``)."""
    from attention_engine.code import exercise

    return exercise.grade(get_code_kind(variant.get("kind", "")), variant, answer, examples_only=examples_only,
                          device=device)
