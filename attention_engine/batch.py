"""Many variants, many grades at once: the bulk paths behind ``api.generate_batch`` / ``grade_batch``.

``iter_variants`` yields, seed by seed, exactly what ``api.generate`` returns for each seed
(the same bytes under ``json.dumps(v, sort_keys=True)``), in chunks of ``CHUNK`` seeds so memory
stays bounded however many are asked for. A kind module may offer
``generate_batch(seeds, difficulty) -> list[Variant]`` (the attention kinds do: arrays over the
whole chunk, see ``attention_engine.kinds._attention_batch``); any other kind is generated seed
by seed with the setup shared (one registry look-up, one device choice for the whole run).

Like ``api``, importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from attention_engine import grade_batch, registry
from attention_engine.device import check_device, resolve_device, using_device
from attention_engine.variant import check_difficulty, check_seed

# Seeds per chunk: large enough that the torch route's per-call cost is shared, small enough
# that a chunk's arrays and variants stay a few MB.
CHUNK = 512


def iter_variants(kind: str, seeds: Iterable[int], difficulty: str, device: str = "auto",
                  chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """The variants of ``kind`` for ``seeds`` (in order) as JSON, generated chunk by chunk.

    ``device`` is ``auto`` (``ATTN_DEVICE`` decides), ``cpu`` or ``cuda`` (``RuntimeError`` if
    torch sees no CUDA device). Raises ``ValueError`` for an unknown kind, difficulty or
    device at once, and for a bad seed when its chunk comes up.
    """
    module = registry.get_kind(kind)
    check_difficulty(difficulty)
    check_device(device)
    pending: list[int] = []
    for seed in seeds:
        pending.append(check_seed(seed))
        if len(pending) == chunk:
            yield from _chunk(module, pending, difficulty, device)
            pending = []
    if pending:
        yield from _chunk(module, pending, difficulty, device)


def _chunk(module: Any, seeds: list[int], difficulty: str, device: str) -> list[dict[str, Any]]:
    # The device choice holds while the chunk is computed, not while the caller holds a
    # suspended iterator.
    with using_device(device), grade_batch.collector_paused():  # a chunk's variants are many small objects
        if device != "auto":
            resolve_device()  # a missing CUDA device fails here, before any work
        batched = getattr(module, "generate_batch", None)
        variants = batched(seeds, difficulty) if batched else [module.generate(seed, difficulty) for seed in seeds]
        return [variant.to_dict() for variant in variants]


def grade_all(variants: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``api.grade`` for each (variant, answer) pair: the same results, graded in bulk (each
    variant parsed once, the attention kinds' mistakes built and plain-number answers graded as
    arrays; see ``attention_engine.grade_batch``)."""
    if len(variants) != len(answers):
        raise ValueError(f"{len(variants)} variants but {len(answers)} answers")
    return grade_batch.grade_many(variants, answers)
