"""Problem kinds: one module per kind, registered in ``attention_engine.registry``.

The protocol a kind module follows (``self_attention.py`` is the model to copy):

``NAME``, ``TITLE``, ``TOPICS``
    registry key, display title, topic slugs.
``MISCONCEPTIONS: dict[str, str]``
    stable code -> the message shown when a response matches that wrong procedure.
``generate(seed, difficulty="medium", **options) -> Variant``
    build with ``attention_engine.generation.draw_verified(NAME, seed, difficulty, build, grade,
    misconception_answers)`` where ``build(rng)`` draws from the given generator only, returns
    ``None`` to reject a draw, computes the key on the reference route and records the second
    route with ``attention_engine.variant.agree`` (raises on disagreement). Unknown options:
    ``generation.reject_options``. Torch is imported inside functions, never at module level.
``grade(variant, response) -> Grade``
    ``attention_engine.grading.grade_response(variant, response, misconceptions=MISCONCEPTIONS,
    misconception_answers=misconception_answers(variant), carry_forward=...)``.
``misconception_answers(variant) -> {code: {part: value}}``
    the full answer each applicable wrong procedure produces (used by the grader to name
    mistakes and by the verifier to check that every mistake is caught).
"""
