"""Kind name -> kind module, imported lazily so that importing the registry stays light.

A kind module (see ``attention_engine/kinds/__init__.py`` for the full protocol) exposes::

    NAME: str                      # the registry key
    TITLE: str                     # shown in lists
    TOPICS: tuple[str, ...]        # topic slugs, for practice by topic
    MISCONCEPTIONS: dict[str, str] # stable code -> message shown to the learner
    generate(seed, difficulty="medium", **options) -> Variant
    grade(variant, response) -> Grade
    misconception_answers(variant) -> {code: {part: value}}
    generate_batch(seeds, difficulty) -> list[Variant]   # optional: generate's variants, in bulk

Kind modules must not import torch at module level (torch is imported inside ``generate`` for
the second verification route), so ``list_kinds`` and grading stay torch-free.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# Order is the order of ``list_kinds``: from first contact with attention to the arithmetic of
# whole models.
KIND_MODULES: dict[str, str] = {
    "self_attention": "attention_engine.kinds.self_attention",
    "qkv_pipeline": "attention_engine.kinds.qkv_pipeline",
    "by_hand": "attention_engine.kinds.by_hand",
    "softmax_stability": "attention_engine.kinds.softmax_stability",
    "causal_mask": "attention_engine.kinds.causal_mask",
    "padding_mask": "attention_engine.kinds.padding_mask",
    "cross_attention": "attention_engine.kinds.cross_attention",
    "multihead_shapes": "attention_engine.kinds.multihead_shapes",
    "sinusoidal_positions": "attention_engine.kinds.sinusoidal_positions",
    "layer_norm": "attention_engine.kinds.layer_norm",
    "variance_scaling": "attention_engine.kinds.variance_scaling",
    "mha_params": "attention_engine.kinds.mha_params",
    "model_params": "attention_engine.kinds.model_params",
    "flops": "attention_engine.kinds.flops",
    "kv_cache": "attention_engine.kinds.kv_cache",
}

REQUIRED_ATTRIBUTES = ("NAME", "TITLE", "TOPICS", "MISCONCEPTIONS", "generate", "grade", "misconception_answers")


def registered_names() -> list[str]:
    """Every kind the engine is meant to serve, whether or not its module is installed yet."""
    return list(KIND_MODULES)


def available_names() -> list[str]:
    """Registered kinds whose module exists (the kinds are written by more than one hand, and
    a kind file still being written must not break the ones that are done)."""
    return [name for name, path in KIND_MODULES.items() if importlib.util.find_spec(path) is not None]


def get_kind(name: str) -> ModuleType:
    """The module of kind ``name``; ``ValueError`` for an unknown or missing kind."""
    if name not in KIND_MODULES:
        raise ValueError(f"unknown kind {name!r}; known kinds: {', '.join(KIND_MODULES)}")
    path = KIND_MODULES[name]
    if importlib.util.find_spec(path) is None:
        raise ValueError(f"kind {name!r} is registered but its module {path} is not installed")
    module = importlib.import_module(path)
    missing = [a for a in REQUIRED_ATTRIBUTES if not hasattr(module, a)]
    if missing:
        raise TypeError(f"kind module {path} lacks {', '.join(missing)}")
    if module.NAME != name:
        raise TypeError(f"kind module {path} declares NAME={module.NAME!r}, registered as {name!r}")
    return module
