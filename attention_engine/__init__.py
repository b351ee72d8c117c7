"""attention_engine: verified numeric problems about the transformer attention mechanism.

A pure numeric library (numpy, with torch imported lazily where a second verification route
or a device is needed). Importing this package, ``attention_engine.api``,
``attention_engine.parsing`` or ``attention_engine.registry`` never imports torch, so the web
process stays light; see ``attention_engine.api`` for the public functions.
"""

# ENGINE_VERSION is part of every variant and of its identity (kind + seed + difficulty +
# version -> byte-identical JSON). Bump rules:
#   major: the variant JSON or grade result changes shape (a field renamed/removed), or the
#          kind protocol changes in a way stored variants cannot be graded any more;
#   minor: any change that makes an existing (kind, seed, difficulty) produce a different
#          variant (new draw, new vetting rule, new part, new step text) or a different grade
#          (tolerance, misconception catalogue), or a new kind;
#   patch: changes that leave every variant and every grade byte-identical (refactors,
#          performance, docs, CLI cosmetics).
ENGINE_VERSION = "1.2.1"

__all__ = ["ENGINE_VERSION"]
