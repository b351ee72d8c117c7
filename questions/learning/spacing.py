"""FSRS (`fsrs`, the spaced-repetition scheduler), imported without torch.

`fsrs/__init__.py` imports its optimizer, which imports torch when it is installed (it is: the
engine's worker needs it): about 0.9 s and 250 MB in every web process and in beat, for an
optimizer this site never runs. The optimizer guards that import with `except ImportError`, so
hiding torch while fsrs loads gives the scheduler alone. A process that has imported torch
already (a worker) just imports fsrs. tests/architecture/test_lean_web.py checks that serving
the main pages never imports torch.
"""

from __future__ import annotations

import sys


def _load():
    if "torch" in sys.modules or "fsrs" in sys.modules:
        import fsrs

        return fsrs
    sys.modules["torch"] = None  # `import torch` now raises ImportError
    try:
        import fsrs
    finally:
        del sys.modules["torch"]
    return fsrs


fsrs = _load()
