"""The public functions of the engine: list, generate, grade (one or in bulk), hide the key, verify.

Everything takes and returns JSON values (dicts, lists, numbers, strings), so callers (the
Django app, Celery tasks, the CLI) never handle engine classes. Importing this module does not
import torch; ``generate`` and ``verify`` do, inside the kind that needs a second route.

Two answer types share the listing and generation: ``numeric`` kinds (answers are numbers,
graded by ``grade``) and ``code`` kinds (answers are code, graded by ``grade_code``, which runs
the code in a sandbox; ``grade`` refuses them, so a process that grades numbers never runs code).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from attention_engine import batch, code, registry
from attention_engine.variant import DIFFICULTIES, Variant, check_difficulty, check_seed

PRIVATE_FIELDS = ("answer", "steps", "verification")


def list_kinds() -> list[dict[str, Any]]:
    """``[{"name", "title", "topics", "difficulties", "answer_type"}]`` for every available kind,
    the numeric kinds first, then the code kinds (which also give their ``framework``)."""
    kinds = []
    for name in registry.available_names():
        module = registry.get_kind(name)
        kinds.append(
            {"name": name, "title": module.TITLE, "topics": list(module.TOPICS), "difficulties": list(DIFFICULTIES),
             "answer_type": "numeric"}
        )
    return kinds + code.list_code_kinds()


def is_code_kind(kind: str) -> bool:
    """Whether ``kind`` is answered with code (graded by ``grade_code`` in a sandbox)."""
    return kind in code.CODE_KINDS


def generate(kind: str, seed: int, difficulty: str = "medium", **options: Any) -> dict[str, Any]:
    """A verified variant of ``kind`` as JSON. Same kind + seed + difficulty + engine version
    (and options) -> the same bytes under ``json.dumps(v, sort_keys=True)``, on any device.

    Raises ``ValueError`` for an unknown kind, a bad difficulty or a bad seed.
    """
    if is_code_kind(kind):
        return code.generate(kind, check_seed(seed), difficulty)
    module = registry.get_kind(kind)
    check_difficulty(difficulty)
    check_seed(seed)
    return module.generate(seed, difficulty, **options).to_dict()


def grade(variant: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Grade ``answer`` (part name -> number, list, list of lists, or typed text) against the
    full ``variant`` (as returned by ``generate``). Never raises for a badly typed answer: those
    come back as ``format_errors`` with score 0. A code variant raises ``ValueError``: its
    answers are graded by ``grade_code``, in a sandbox."""
    _refuse_code(variant)
    module = registry.get_kind(variant.get("kind", ""))
    return module.grade(Variant.from_dict(variant), answer).to_dict()


def generate_batch(kind: str, seeds: Iterable[int], difficulty: str = "medium", device: str = "auto") -> list[dict[str, Any]]:
    """``[generate(kind, seed, difficulty) for seed in seeds]``, byte for byte, computed in bulk.

    ``device``: ``auto`` (``ATTN_DEVICE`` decides), ``cpu`` or ``cuda``. The attention kinds
    solve and verify the whole batch as arrays; the others share the setup and loop. For a
    stream with bounded memory use ``attention_engine.batch.iter_variants``. A code kind's
    variants are made one by one (their tests are small; the CPU is enough).
    """
    if is_code_kind(kind):
        check_difficulty(difficulty)
        return [code.generate(kind, check_seed(seed), difficulty) for seed in seeds]
    return list(batch.iter_variants(kind, seeds, difficulty, device))


def grade_batch(variants: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[grade(v, a) for v, a in zip(variants, answers)]``, the same results; ``ValueError``
    when the two lists differ in length, or when a variant is a code variant."""
    for variant in variants:
        _refuse_code(variant)
    return batch.grade_all(variants, answers)


def grade_code(variant: dict[str, Any], answer: Any, *, examples_only: bool = False,
               device: str = "cpu") -> dict[str, Any]:
    """Run ``answer["code"]`` on a code variant's tests in a fresh sandbox and grade it: ``score``,
    ``tests`` (``name``, ``description``, ``passed``, ``message``, ``hidden``), ``misconception``,
    ``feedback``, and ``format_errors`` when there is no code to run. With ``examples_only`` only
    the visible examples run. Raises ``attention_engine.code.sandbox.SandboxUnavailable`` when
    the sandbox cannot be set up: the code was not run."""
    if not is_code_kind(variant.get("kind", "")):
        raise ValueError(f"{variant.get('kind')!r} is not a code kind: grade it with grade")
    return code.grade(variant, answer, examples_only=examples_only, device=device)


def _refuse_code(variant: dict[str, Any]) -> None:
    if is_code_kind(variant.get("kind", "")):
        raise ValueError(f"{variant['kind']} is a code kind: its answers run in a sandbox (grade_code)")


def public(variant: dict[str, Any]) -> dict[str, Any]:
    """What a learner may see before grading: the variant without key, steps and verification."""
    return {k: v for k, v in variant.items() if k not in PRIVATE_FIELDS}


def verify(kind: str | None = None, seeds: int = 20, difficulty: str | None = None, jobs: int = 1) -> dict[str, Any]:
    """Run the verification sweep (see ``attention_engine.verify``); ``kind=None`` = every kind.

    Returns ``{"ok", "seeds", "rows": [{"kind", "difficulty", "variants", "failed", "failures",
    "seconds"}], "seconds"}``; ``jobs`` worker processes share the work.
    """
    from attention_engine.verify import run_verification

    kinds = [kind] if kind else registry.available_names()
    difficulties = [check_difficulty(difficulty)] if difficulty else list(DIFFICULTIES)
    return run_verification(kinds, seeds, difficulties, jobs=jobs)
