"""The public functions of the engine: list, generate, grade (one or in bulk), hide the key, verify.

Everything takes and returns JSON values (dicts, lists, numbers, strings), so callers (the
Django app, Celery tasks, the CLI) never handle engine classes. Importing this module does not
import torch; ``generate`` and ``verify`` do, inside the kind that needs a second route.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from attention_engine import batch, registry
from attention_engine.variant import DIFFICULTIES, Variant, check_difficulty, check_seed

PRIVATE_FIELDS = ("answer", "steps", "verification")


def list_kinds() -> list[dict[str, Any]]:
    """``[{"name", "title", "topics", "difficulties"}]`` for every available kind, in order."""
    kinds = []
    for name in registry.available_names():
        module = registry.get_kind(name)
        kinds.append(
            {"name": name, "title": module.TITLE, "topics": list(module.TOPICS), "difficulties": list(DIFFICULTIES)}
        )
    return kinds


def generate(kind: str, seed: int, difficulty: str = "medium", **options: Any) -> dict[str, Any]:
    """A verified variant of ``kind`` as JSON. Same kind + seed + difficulty + engine version
    (and options) -> the same bytes under ``json.dumps(v, sort_keys=True)``, on any device.

    Raises ``ValueError`` for an unknown kind, a bad difficulty or a bad seed.
    """
    module = registry.get_kind(kind)
    check_difficulty(difficulty)
    check_seed(seed)
    return module.generate(seed, difficulty, **options).to_dict()


def grade(variant: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Grade ``answer`` (part name -> number, list, list of lists, or typed text) against the
    full ``variant`` (as returned by ``generate``). Never raises for a badly typed answer: those
    come back as ``format_errors`` with score 0."""
    module = registry.get_kind(variant.get("kind", ""))
    return module.grade(Variant.from_dict(variant), answer).to_dict()


def generate_batch(kind: str, seeds: Iterable[int], difficulty: str = "medium", device: str = "auto") -> list[dict[str, Any]]:
    """``[generate(kind, seed, difficulty) for seed in seeds]``, byte for byte, computed in bulk.

    ``device``: ``auto`` (``ATTN_DEVICE`` decides), ``cpu`` or ``cuda``. The attention kinds
    solve and verify the whole batch as arrays; the others share the setup and loop. For a
    stream with bounded memory use ``attention_engine.batch.iter_variants``.
    """
    return list(batch.iter_variants(kind, seeds, difficulty, device))


def grade_batch(variants: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[grade(v, a) for v, a in zip(variants, answers)]``, the same results; ``ValueError``
    when the two lists differ in length."""
    return batch.grade_all(variants, answers)


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
