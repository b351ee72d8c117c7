"""Loading the bank into the database: idempotent, versioned, all-or-nothing."""

from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import Question, QuestionVersion, Topic
from questions.practice.models import PracticeItem, Submission

pytestmark = pytest.mark.django_db

QUESTION = {
    "slug": "why-scale",
    "type": "single_choice",
    "difficulty": "easy",
    "title": "Why scale?",
    "prompt": "Why divide $QK^T$ by $\\sqrt{d_k}$?",
    "explanation": "The variance of $q \\cdot k$ grows as $d_k$.",
    "source": "Vaswani et al. 2017, §3.2.1",
    "tags": ["scaling"],
    "choices": [
        {"text": "To keep the variance of the scores near 1", "weight": 100, "feedback": "Right."},
        {"text": "To make the matrix symmetric", "weight": 0, "feedback": "Scaling cannot make it symmetric."},
    ],
}


def write_bank(folder: Path, question: dict) -> Path:
    folder.mkdir(exist_ok=True)
    doc = {"topic": {"slug": "scaling", "title": "Scaling", "description": "d"}, "questions": [question]}
    (folder / "scaling.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def test_the_real_bank_loads_and_reloading_changes_nothing():
    first = catalogue_services.bank_load(path=Path("questions/bank"))
    assert first.questions >= 1 and len(first.changed) == first.questions
    versions = QuestionVersion.objects.count()
    again = catalogue_services.bank_load(path=Path("questions/bank"))
    assert again.changed == []
    assert QuestionVersion.objects.count() == versions
    assert Topic.objects.count() == first.topics


def test_an_edit_makes_a_new_version_and_graded_work_keeps_its_own(tmp_path, learner):
    bank = write_bank(tmp_path / "bank", QUESTION)
    catalogue_services.bank_load(path=bank)
    v1 = QuestionVersion.objects.get()
    item = PracticeItem.objects.create(learner=learner, question_version=v1)
    graded = Submission.objects.create(item=item, learner=learner, answer=0, status="graded", score=1.0)

    write_bank(bank, {**QUESTION, "explanation": "Dot products of d_k terms have variance d_k."})
    report = catalogue_services.bank_load(path=bank)
    assert report.changed == ["why-scale"]
    v1.refresh_from_db()
    v2 = QuestionVersion.objects.get(number=2)
    assert v1.status == "retired" and v2.status == "published"
    graded.refresh_from_db()
    assert graded.item.question_version_id == v1.id
    assert "variance of $q" in graded.item.question_version.data["explanation"]


def test_a_broken_bank_loads_nothing_and_names_file_and_line(tmp_path):
    bank = write_bank(tmp_path / "bank", {**QUESTION, "difficulty": "impossible"})
    with pytest.raises(CommandError) as caught:
        call_command("load_bank", str(bank))
    text = (bank / "scaling.yaml").read_text().splitlines()
    line = next(n for n, row in enumerate(text, start=1) if "difficulty: impossible" in row)
    assert f"scaling.yaml:{line}:" in str(caught.value)
    assert not Question.objects.exists()
