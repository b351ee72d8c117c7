"""Practising a topic: theory questions from the bank, graded with feedback and a source."""


import pytest

from questions import services
from questions.models import PracticeItem, Submission

pytestmark = pytest.mark.django_db


def test_a_topic_run_serves_each_question_before_repeating(client, learner, bank):
    client.force_login(learner)
    topic = "masking"
    from questions.models import QuestionVersion

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
    from questions.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type="single_choice", status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    page = client.get(f"/practice/items/{item.id}/").content.decode()
    assert "weight" not in page and version.data["choices"][0]["feedback"] not in page
    best = max(range(len(version.data["choices"])), key=lambda i: version.data["choices"][i]["weight"])
    fields = {"response": str(best)}
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
    from questions.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type=kind, status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    assert field in client.get(f"/practice/items/{item.id}/").content.decode()


def test_theory_answer_with_no_choice_is_refused_without_cost(client, learner, bank):
    from questions.models import QuestionVersion

    version = QuestionVersion.objects.filter(data__type="single_choice", status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    client.force_login(learner)
    response = client.post(f"/practice/items/{item.id}/", {})
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_a_topic_with_nothing_published_is_a_400_with_a_message(client, learner):
    services.topic_upsert(slug="imported", title="Imported questions")
    client.force_login(learner)
    response = client.post("/practice/topics/imported")
    assert response.status_code == 400
    assert "has no published questions" in response.content.decode()
    assert not PracticeItem.objects.exists()
