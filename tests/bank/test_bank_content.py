"""The real bank: it validates, it is big and varied enough, and every key is self-consistent."""

from collections import Counter

import pytest

from questions.catalogue.schema import QUESTION_TYPES, validate
from questions.catalogue.theory import grade_theory

MIN_QUESTIONS = 210
MIN_TOPICS = 16
MIN_PER_TYPE = 3


def test_every_bank_file_validates(bank_docs):
    errors = validate(bank_docs)
    assert errors == [], "\n".join(str(e) for e in errors)


def test_counts(bank_docs, bank_questions):
    assert len(bank_docs) >= MIN_TOPICS
    assert len(bank_questions) >= MIN_QUESTIONS
    per_type = Counter(q["type"] for q in bank_questions)
    for kind in QUESTION_TYPES:
        if kind != "essay":
            assert per_type[kind] >= MIN_PER_TYPE, (kind, per_type)
    for doc in bank_docs:
        assert len(doc.questions) >= 5, f"{doc.file}: a topic needs at least 5 questions"


def test_every_question_is_complete(bank_questions):
    for q in bank_questions:
        assert q["explanation"].strip() and q["source"].strip(), q["slug"]
        assert q["tags"], f"{q['slug']}: no tags"
        assert q["difficulty"] in ("easy", "medium", "hard")


def test_sources_name_a_section_or_a_page(bank_questions):
    # "A precise source": a section, table, figure, theorem, appendix, docs page or file.
    markers = ("§", "Table", "Figure", "Theorem", "Appendix", "docs", ".py", "abstract", "Chapter", "IEEE")
    vague = [q["slug"] for q in bank_questions if not any(m in q["source"] for m in markers)]
    assert vague == []


def test_difficulties_are_mixed(bank_questions):
    per_level = Counter(q["difficulty"] for q in bank_questions)
    assert min(per_level[level] for level in ("easy", "medium", "hard")) >= 10, per_level


def test_wrong_choices_in_the_bank_carry_feedback_and_penalties(bank_questions):
    for q in bank_questions:
        for choice in q.get("choices", []):
            if choice["weight"] < 100 and q["type"] == "single_choice" or choice["weight"] <= 0:
                assert choice.get("feedback", "").strip(), (q["slug"], choice["text"])
            if q["type"] == "multiple_response":
                assert choice["weight"] != 0, f"{q['slug']}: wrong choices in the bank are penalised"


def test_every_choice_question_has_plausible_distractors(bank_questions):
    for q in bank_questions:
        if q["type"] == "single_choice":
            assert len(q["choices"]) >= 3, q["slug"]
        if q["type"] == "multiple_response":
            assert any(c["weight"] < 0 for c in q["choices"]), q["slug"]


def key_response(q: dict):
    """The response that the key says is fully right."""
    kind = q["type"]
    if kind == "single_choice":
        return next(i for i, c in enumerate(q["choices"]) if c["weight"] == 100)
    if kind == "multiple_response":
        return [i for i, c in enumerate(q["choices"]) if c["weight"] > 0]
    if kind == "true_false":
        return q["answer"]
    if kind == "numeric":
        return str(next(a["value"] for a in q["answers"] if a["weight"] == 100))
    if kind == "short_answer":
        return next(a["text"].replace("*", "x") for a in q["answers"] if a["weight"] == 100)
    if kind == "matching":
        return {p["left"]: p["right"] for p in q["pairs"]}
    if kind == "ordering":
        return list(q["items"])
    raise AssertionError(kind)


def test_the_key_scores_full_marks(bank_questions):
    for q in bank_questions:
        result = grade_theory(q, key_response(q))
        assert result["format_error"] is None, (q["slug"], result)
        assert result["score"] == 1.0 and result["correct"] is True, (q["slug"], result)
        assert q["explanation"].strip() in result["feedback"]


def test_every_misconception_answer_is_reachable(bank_questions):
    """A wrong answer listed with feedback must be graded as itself, not shadowed by a better one."""
    for q in bank_questions:
        if q["type"] not in ("numeric", "short_answer"):
            continue
        for answer in q["answers"]:
            response = str(answer["value"]) if q["type"] == "numeric" else answer["text"].replace("*", "x")
            result = grade_theory(q, response)
            assert result["score"] == pytest.approx(answer["weight"] / 100), (q["slug"], response, result)
            if answer.get("feedback"):
                assert answer["feedback"].strip() in result["feedback"], (q["slug"], response)


def test_every_wrong_choice_scores_below_full_marks(bank_questions):
    for q in bank_questions:
        if q["type"] == "single_choice":
            for i, choice in enumerate(q["choices"]):
                if choice["weight"] < 100:
                    result = grade_theory(q, i)
                    assert result["score"] < 1 and not result["correct"]
                    assert choice["feedback"].strip() in result["feedback"]
        elif q["type"] == "multiple_response":
            everything = grade_theory(q, list(range(len(q["choices"]))))
            assert everything["score"] < 1, f"{q['slug']}: ticking every box must not earn full marks"


def test_true_false_questions_are_not_all_true(bank_questions):
    answers = Counter(q["answer"] for q in bank_questions if q["type"] == "true_false")
    assert answers[True] >= 3 and answers[False] >= 3, answers


def test_the_right_choice_is_not_always_in_the_same_place(bank_questions):
    """Choices are shown in bank order (their index is the response), so the key must move around."""
    positions = Counter(next(i for i, c in enumerate(q["choices"]) if c["weight"] == 100)
                        for q in bank_questions if q["type"] == "single_choice")
    total = sum(positions.values())
    assert len(positions) >= 3 and max(positions.values()) <= total / 2, positions
    for q in bank_questions:
        if q["type"] == "multiple_response":
            signs = [c["weight"] > 0 for c in q["choices"]]
            assert signs != sorted(signs, reverse=True), f"{q['slug']}: all right choices come first"


def test_every_problem_kind_is_practised_in_a_bank_topic(bank_docs):
    # Practice by topic, mock interviews and mastery pair a topic with the kinds that name its
    # slug: a kind naming no bank topic would never be drawn, and a typo would go unnoticed.
    from attention_engine import api as engine

    slugs = {doc.topic["slug"] for doc in bank_docs}
    orphans = {k["name"]: k["topics"] for k in engine.list_kinds() if not slugs & set(k["topics"])}
    assert orphans == {}
    numeric_topics = {t for k in engine.list_kinds() for t in k["topics"]} & slugs
    assert {"positional-encodings", "compute-and-memory", "queries-keys-values"} <= numeric_topics
