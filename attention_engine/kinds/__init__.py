"""Problem kinds: one module per kind, registered in ``attention_engine.registry``.

The protocol a kind module follows (``self_attention.py`` is the model to copy):

``NAME``, ``TITLE``, ``TOPICS``
    registry key, display title, topic slugs.
``MISCONCEPTIONS: dict[str, str]``
    stable code -> the message shown when a response matches that wrong procedure.
``generate(seed, difficulty="medium", **options) -> Variant`` and ``grade(variant, response) -> Grade``
    usually ``generate, grade = attention_engine.generation.kind_functions(NAME, build,
    misconception_answers, MISCONCEPTIONS, carry_forward=...)``, where ``build(rng, seed,
    difficulty)`` draws from the given generator only, returns ``None`` to reject a draw,
    computes the key on the reference route and records the second route with
    ``attention_engine.variant.agree`` (raises on disagreement). ``draw_verified`` redraws until
    the key grades 1 and every catalogued mistake is told apart; ``grading.grade_response``
    does the grading. Torch is imported inside functions, never at module level.
    The single-head attention kinds share ``_attention.AttentionKind`` instead.
``misconception_answers(variant) -> {code: {part: value}}``
    the full answer each applicable wrong procedure produces (used by the grader to name
    mistakes and by the verifier to check that every mistake is caught).
``generate_batch(seeds, difficulty) -> list[Variant]`` (optional)
    the variants ``generate`` gives for each seed, in order, computed in bulk; used by
    ``attention_engine.batch`` (a kind without one is generated seed by seed). The attention
    kinds get theirs from ``_attention_batch.batch_function(SPEC, grade)``.
"""
