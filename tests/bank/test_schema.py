"""The bank loader and validator: every rule of FORMAT.md, each error naming file and line."""

import textwrap
from pathlib import Path

import pytest

from questions.catalogue.schema import (
    BankError,
    BankValidationError,
    load_bank_dir,
    load_bank_file,
    load_valid_bank,
    validate,
    validate_question,
)

GOOD = """\
topic:
  slug: {slug}
  title: Masking
  description: Causal and padding masks.
questions:
  - slug: {qslug}
    type: single_choice
    difficulty: easy
    tags: [masking]
    title: Why triangular?
    prompt: Why is the causal mask triangular?
    explanation: Position i may only see positions up to i.
    source: "Vaswani et al. (2017), §3.2.3"
    choices:
      - text: To keep the model auto-regressive.
        weight: 100
        feedback: Right.
      - text: To save compute.
        weight: 0
        feedback: The mask is about correctness.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(folder: Path) -> list[BankError]:
    """Every error of the folder: YAML-level ones from loading, then content rules."""
    try:
        docs = load_bank_dir(folder)
    except BankValidationError as exc:
        return exc.errors
    return validate(docs)


def good(slug: str = "masking", qslug: str = "q-one") -> str:
    return GOOD.format(slug=slug, qslug=qslug)


def test_a_good_file_has_no_errors(tmp_path):
    write(tmp_path, "masking.yaml", good())
    assert problems(tmp_path) == []


def test_questions_are_plain_dicts_with_defaults(tmp_path):
    text = good().replace("    tags: [masking]\n", "")
    doc = load_bank_file(write(tmp_path, "masking.yaml", text))
    (question,) = doc.questions
    assert type(question) is dict and type(question["choices"][0]) is dict
    assert question["tags"] == [] and question["hints"] == []
    assert doc.topic == {"slug": "masking", "title": "Masking", "description": "Causal and padding masks."}
    assert doc.line(("questions", 0, "choices", 1, "weight")) == 18


# (description, replacement applied to the good file, expected line, words in the message)
BROKEN = [
    ("missing explanation", ("    explanation: Position i may only see positions up to i.\n", ""), 6,
     "missing required field 'explanation'"),
    ("empty source", ('    source: "Vaswani et al. (2017), §3.2.3"\n', '    source: "  "\n'), 13,
     "'source' must not be empty"),
    ("bad difficulty", ("difficulty: easy", "difficulty: trivial"), 8, "difficulty must be one of"),
    ("unknown type", ("type: single_choice", "type: multiple_choice"), 7, "unknown type"),
    ("unknown field", ("    tags: [masking]\n", "    tags: [masking]\n    feeback: oops\n"), 10,
     "unknown field 'feeback'"),
    ("bad slug", ("slug: q-one", "slug: Q One"), 6, "must match"),
    ("bad tag", ("tags: [masking]", "tags: [Masking Rules]"), 9, "tag 'Masking Rules'"),
    ("no weight-100 choice", ("weight: 100", "weight: 90"), 15, "exactly one choice with weight 100"),
    ("weight not a number", ("weight: 100", "weight: full"), 16, "'weight' must be a number"),
    ("missing feedback on a wrong choice", ("        feedback: The mask is about correctness.\n", ""), 18,
     "missing required field 'feedback'"),
    ("choice text read as a number", ("text: To save compute.", "text: 0.5"), 18, "quote it"),
    ("topic slug differs from file name", ("  slug: masking", "  slug: masks"), 2, "must equal the file name"),
    ("unbalanced dollar", ("prompt: Why is the causal mask triangular?", "prompt: Why is $M$ triangular$?"), 11,
     "unbalanced '$'"),
    ("LaTeX in a double-quoted string", ("prompt: Why is the causal mask triangular?", 'prompt: "Is $\\theta$ masked?"'),
     11, "control character"),
    ("duplicate key", ("    difficulty: easy\n", "    difficulty: easy\n    difficulty: hard\n"), 9,
     "duplicate key 'difficulty'"),
    ("YAML syntax error", ("    title: Why triangular?\n", "    title: Why: triangular?\n"), 10, "YAML syntax"),
    ("questions not a list", ("questions:\n", "questions: {}\nextra:\n"), 5, "'questions' must be a list"),
]


@pytest.mark.parametrize(("replace", "line", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_each_error_names_file_and_line(tmp_path, replace, line, words):
    old, new = replace
    assert old in good()
    write(tmp_path, "masking.yaml", good().replace(old, new, 1))
    found = problems(tmp_path)
    assert found, "expected an error"
    assert any(words in e.message for e in found), [str(e) for e in found]
    error = next(e for e in found if words in e.message)
    assert error.file.endswith("masking.yaml")
    assert error.line == line, str(error)
    assert str(error).startswith(f"{error.file}:{line}: ")


def test_slugs_are_unique_across_the_whole_bank(tmp_path):
    write(tmp_path, "masking.yaml", good())
    write(tmp_path, "softmax.yaml", good(slug="softmax"))
    (error,) = problems(tmp_path)
    assert error.file.endswith("softmax.yaml") and error.line == 6
    assert "question slug 'q-one' already used at" in error.message and "masking.yaml:6" in error.message


def test_errors_from_several_files_are_all_reported(tmp_path):
    write(tmp_path, "masking.yaml", good().replace("difficulty: easy", "difficulty: hardest"))
    write(tmp_path, "softmax.yaml", good(slug="softmax", qslug="q-two").replace("weight: 100", "weight: 50"))
    files = {Path(e.file).name for e in problems(tmp_path)}
    assert files == {"masking.yaml", "softmax.yaml"}


def test_load_valid_bank_raises_with_every_error(tmp_path):
    write(tmp_path, "masking.yaml", good().replace("difficulty: easy", "difficulty: x").replace("weight: 100", "weight: 1"))
    with pytest.raises(BankValidationError) as caught:
        load_valid_bank(tmp_path)
    assert len(caught.value.errors) == 2
    assert "masking.yaml:8:" in str(caught.value)


def test_empty_file(tmp_path):
    write(tmp_path, "masking.yaml", "# nothing yet\n")
    (error,) = problems(tmp_path)
    assert error.line == 1 and "empty" in error.message


# A question dict per type, valid; each test below breaks one rule of that type.
def question(kind: str, **fields) -> dict:
    base = {"slug": "q", "type": kind, "difficulty": "medium", "title": "T", "prompt": "P",
            "explanation": "E", "source": "S"}
    return {**base, **fields}


VALID = {
    "multiple_response": question("multiple_response", choices=[
        {"text": "a", "weight": 50}, {"text": "b", "weight": 50},
        {"text": "c", "weight": -50, "feedback": "why not c"}]),
    "true_false": question("true_false", answer=False, feedback_true="no", feedback_false="yes"),
    "numeric": question("numeric", unit="bytes", other_feedback="Count K and V.", answers=[
        {"value": 4, "tolerance": 0, "weight": 100},
        {"value": 2, "tolerance": 0, "weight": 0, "feedback": "K only"}],
        engine={"function": "kv_cache_bytes", "args": {"layers": 1}, "field": "breakdown.K"}),
    "short_answer": question("short_answer", case_sensitive=False, answers=[
        {"text": "teacher forcing", "weight": 100}, {"text": "beam*", "weight": 0, "feedback": "no"}]),
    "matching": question("matching", pairs=[{"left": "Q", "right": "asks"}, {"left": "K", "right": "offers"}],
                         distractors=["normalises"]),
    "ordering": question("ordering", items=["scores", "softmax", "weighted sum"]),
    "essay": question("essay"),
}


@pytest.mark.parametrize("kind", VALID)
def test_valid_question_of_every_type(kind):
    assert validate_question(VALID[kind]) == []


INVALID = [
    ("multiple_response", {"choices": [{"text": "a", "weight": 50}, {"text": "b", "weight": -50, "feedback": "x"}]},
     "sum to 100"),
    ("multiple_response", {"choices": [{"text": "a", "weight": 100}, {"text": "b", "weight": -150, "feedback": "x"}]},
     "[-100, 100]"),
    ("multiple_response", {"choices": [{"text": "a", "weight": 100}, {"text": "a", "weight": -50, "feedback": "x"}]},
     "duplicate choice text"),
    ("multiple_response", {"choices": [{"text": "a", "weight": 100}, {"text": "b", "weight": -50}]},
     "missing required field 'feedback'"),
    ("true_false", {"answer": "yes"}, "must be true or false"),
    ("true_false", {"feedback_false": ""}, "'feedback_false' must not be empty"),
    ("numeric", {"answers": [{"value": "1e9", "tolerance": 0, "weight": 100}]}, "write 1.0e+9"),
    ("numeric", {"answers": [{"value": 1, "tolerance": -1, "weight": 100}]}, "tolerance must not be negative"),
    ("numeric", {"answers": [{"value": 1, "tolerance": 0, "weight": 50, "feedback": "half"}]},
     "at least one answer needs weight 100"),
    ("numeric", {"engine": {"function": "kv cache", "args": {}, "field": "total"}}, "not a function name"),
    ("numeric", {"engine": {"function": "f", "args": {}, "field": "breakdown"}}, "'total' or 'breakdown.<key>'"),
    ("numeric", {"engine": {"function": "f"}}, "missing required field 'args'"),
    ("short_answer", {"answers": [{"text": 3, "weight": 100}]}, "'text' must be a string"),
    ("short_answer", {"case_sensitive": "no"}, "'case_sensitive' must be true or false"),
    ("matching", {"pairs": [{"left": "Q", "right": "asks"}]}, "at least 2 entries"),
    ("matching", {"distractors": ["asks"]}, "also a correct right-hand item"),
    ("matching", {"pairs": [{"left": "Q", "right": "a"}, {"left": "Q", "right": "b"}]}, "duplicate left item"),
    ("ordering", {"items": ["a", "b"]}, "at least 3 entries"),
    ("ordering", {"items": ["a", "b", "a"]}, "duplicate item"),
    ("essay", {"choices": []}, "unknown field 'choices'"),
]


@pytest.mark.parametrize(("kind", "change", "words"), INVALID, ids=[f"{k}-{w}" for k, _, w in INVALID])
def test_type_rules(kind, change, words):
    found = validate_question({**VALID[kind], **change})
    assert any(words in e.message for e in found), [str(e) for e in found]
    assert all(e.line is None for e in found)  # a dict from a form has no lines


def test_zero_weight_wrong_choice_is_accepted_for_imports():
    q = {**VALID["multiple_response"]}
    q["choices"] = [*q["choices"][:2], {"text": "c", "weight": 0, "feedback": "wrong, no penalty"}]
    assert validate_question(q) == []


def test_errors_inside_a_question_point_at_the_node(tmp_path):
    text = good().replace("weight: 0\n", "weight: -20\n")  # single_choice weights must be >= 0
    write(tmp_path, "masking.yaml", text)
    (error,) = problems(tmp_path)
    assert error.line == 19 and "questions[0].choices[1].weight" in error.message
