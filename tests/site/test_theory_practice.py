"""Practising a topic: theory questions from the bank, graded with feedback and a source."""


import re

import pytest
from django.utils.html import escape

from questions.catalogue import services as catalogue_services
from questions.practice.models import PracticeItem, Submission
from tests.choices import by_id

pytestmark = pytest.mark.django_db


def test_a_topic_run_serves_each_question_before_repeating(client, learner, bank):
    client.force_login(learner)
    topic = "masking"
    from questions.catalogue.models import QuestionVersion

    published = QuestionVersion.objects.filter(question__topic__slug=topic, status="published").exclude(
        data__type="essay"
    )
    seen = []
    for _ in range(published.count()):
        response = client.post(f"/practice/topics/{topic}")
        assert response.status_code == 302
        item = PracticeItem.objects.order_by("-id").first()
        if item.question_version_id:
            seen.append(item.question_version.question_id)
    assert len(seen) == len(set(seen)), "a theory question came back before the others were served"


def test_answering_a_theory_question_shows_score_feedback_and_source(client, learner, bank, django_capture_on_commit_callbacks):
    from questions.catalogue.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type="single_choice", status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    page = client.get(f"/practice/items/{item.id}/").content.decode()
    assert "weight" not in page and version.data["choices"][0]["feedback"] not in page
    best = max(range(len(version.data["choices"])), key=lambda i: version.data["choices"][i]["weight"])
    fields = {"response": by_id(item, best)}  # the form posts the option's id
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/practice/items/{item.id}/", fields)
    assert response.status_code == 302
    result = client.get(response["Location"]).content.decode()
    assert 'data-score="1.0"' in result
    assert "Source:" in result and version.data["source"][:20] in result
    assert Submission.objects.get().score == 1.0


@pytest.mark.parametrize(
    "kind, field",
    [("single_choice", 'type="radio" name="response"'), ("multiple_response", 'type="checkbox" name="response"'),
     ("true_false", 'type="radio" name="response" value="true"'), ("numeric", '<input name="response"'),
     ("short_answer", '<input name="response"'), ("matching", 'name="match-0"'), ("ordering", 'name="order-0"')],
)
def test_every_question_type_has_its_answer_field(client, learner, bank, kind, field):
    from questions.catalogue.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type=kind, status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    assert field in client.get(f"/practice/items/{item.id}/").content.decode()


def test_theory_answer_with_no_choice_is_refused_without_cost(client, learner, bank):
    from questions.catalogue.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type="single_choice", status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    response = client.post(f"/practice/items/{item.id}/", {})
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_a_topic_with_nothing_published_is_a_400_with_a_message(client, learner):
    catalogue_services.topic_upsert(slug="imported", title="Imported questions")
    client.force_login(learner)
    response = client.post("/practice/topics/imported")
    assert response.status_code == 400
    assert "has no published questions" in response.content.decode()
    assert not PracticeItem.objects.exists()


def theory_item(learner, question_type):
    from questions.catalogue.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type=question_type, status="published").first()
    return PracticeItem.objects.create(learner=learner, question_version=version)


@pytest.mark.parametrize(
    "question_type, fields, message",
    [
        ("multiple_response", {}, "Tick at least one answer."),
        # CHOICE-0 stands for the id of the item's first option (a real choice beside junk).
        ("multiple_response", {"response": ["CHOICE-0", "abc"]}, "Choose among the options of this question"),
        ("multiple_response", {"response": ["-1"]}, "Choose among the options of this question"),
        ("multiple_response", {"response": ["0"]}, "each named by its id"),  # a number is not an id
        ("true_false", {}, "Choose True or False."),
        ("short_answer", {"response": "  "}, "Type an answer."),
        ("numeric", {"response": ""}, "Type a number."),
        ("ordering", {f"order-{i}": "1" for i in range(8)}, "Give each step a different position from 1 to"),
        ("ordering", {"order-0": "2"}, "Give each step a different position from 1 to"),
    ],
)
def test_an_unreadable_theory_answer_is_refused_in_words_and_costs_nothing(
    client, learner, bank, question_type, fields, message
):
    item = theory_item(learner, question_type)
    if "response" in fields and isinstance(fields["response"], list):
        fields = {"response": [by_id(item, 0) if r == "CHOICE-0" else r for r in fields["response"]]}
    client.force_login(learner)
    response = client.post(f"/practice/items/{item.id}/", fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Submission.objects.exists()


def test_a_refused_theory_answer_keeps_what_was_typed_and_chosen(client, learner, bank):
    client.force_login(learner)
    ordering = theory_item(learner, "ordering")
    n = len(ordering.question_version.data["items"])
    typed = {f"order-{i}": str(i + 1) for i in range(n)} | {f"order-{n - 1}": "1"}  # 1 used twice
    page = client.post(f"/practice/items/{ordering.id}/", typed).content.decode()
    for i in range(n):
        assert f'name="order-{i}" inputmode="numeric" size="2" value="{typed[f"order-{i}"]}"' in page

    matching = theory_item(learner, "matching")
    left = matching.question_version.data["pairs"][0]
    response = client.post(f"/practice/items/{matching.id}/", {"match-0": left["right"], "match-1": "Not offered"})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(rf'<option value="{re.escape(escape(left["right"]))}" selected>[A-Z]', page)


def test_a_graded_theory_answer_is_shown_in_its_fields_beside_the_result(
    client, learner, bank, django_capture_on_commit_callbacks
):
    item = theory_item(learner, "multiple_response")
    client.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/practice/items/{item.id}/", {"response": by_id(item, [0, 2])})
    page = client.get(response["Location"]).content.decode()
    assert 'data-score="' in page
    assert page.count('name="response"') == len(item.question_version.data["choices"])
    assert page.count(" checked>") == 2
    first, third = by_id(item, [0, 2])
    assert f'value="{first}" checked>' in page and f'value="{third}" checked>' in page


def test_a_result_of_another_question_is_not_shown_under_this_one(
    client, learner, bank, django_capture_on_commit_callbacks
):
    first, second = theory_item(learner, "true_false"), theory_item(learner, "single_choice")
    client.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/practice/items/{first.id}/", {"response": "true"})
    submission = Submission.objects.get()
    assert client.get(f"/practice/items/{first.id}/?submission={submission.id}").status_code == 200
    assert client.get(f"/practice/items/{second.id}/?submission={submission.id}").status_code == 404


def test_matching_answers_with_formulas_are_shown_as_math_and_chosen_by_letter(client, learner, bank):
    """An <option> cannot hold MathML: the answers are listed once, typeset, and the dropdowns
    name them by letter (text-only answers keep their text too); the form still posts the text."""
    from questions.catalogue.models import QuestionVersion

    version = next(v for v in QuestionVersion.objects.filter(data__type="matching", status="published")
                   if any("$" in p["right"] for p in v.data["pairs"]))
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    page = client.get(f"/practice/items/{item.id}/").content.decode()
    answers = re.search(r'<ol class="match-answers".*?</ol>', page, re.S).group()
    assert answers.count("<li>") == len(version.data["pairs"]) + len(version.data.get("distractors") or [])
    assert "<math" in answers and "$" not in answers
    options = re.findall(r"<option value=\"[^\"]+\"[^>]*>([^<]*)</option>", page)
    assert options and all(re.fullmatch(r"[A-Z](\. .+)?", o) for o in options)
    assert not any("$" in o for o in options), "raw LaTeX in a dropdown"
