"""Instructors write, preview, publish, import and export questions in the browser's forms."""

import pytest
import yaml
from django.contrib.auth.models import Group

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion, Topic
from questions.courses import services as courses_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def instructor(django_user_model):
    user = django_user_model.objects.create_user(username="ines", password="s3cret-pass-word")
    user.groups.add(Group.objects.get_or_create(name="instructors")[0])
    return user


@pytest.fixture
def course(instructor):
    return courses_services.course_create(title="Attention 101", instructor=instructor)


@pytest.fixture
def author(client, instructor, course):
    """An instructor's browser; their questions belong to the course they teach."""
    catalogue_services.topic_upsert(slug="masking", title="Masking")
    client.force_login(instructor)
    client.owner = str(course.id)
    return client


def form_for(author, **overrides) -> dict:
    form = {
        "owner": author.owner,
        "topic": "masking",
        "slug": "causal-triangular",
        "type": "true_false",
        "difficulty": "easy",
        "title": "Causal masks",
        "prompt": "A causal mask hides positions $j > i$ from query $i$.",
        "explanation": "Token $i$ may attend only to $j \\le i$.",
        "source": "Vaswani et al. 2017, §3.2.3",
        "tags": "masking, decoder",
        "hints": "Think of generation order.",
        "spec": yaml.safe_dump({"answer": True, "feedback_true": "Yes.", "feedback_false": "It hides the future."}),
        "action": "publish",
    }
    form.update(overrides)
    return form


def test_learners_cannot_author(client, learner, course):
    client.force_login(learner)
    client.owner = str(course.id)
    assert client.get("/author/").status_code == 403
    assert client.post("/author/questions/new", form_for(client)).status_code == 403


def test_preview_shows_the_question_as_a_learner_sees_it_and_saves_nothing(author):
    response = author.post("/author/questions/new", form_for(author, action="preview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-label="Preview as a learner sees it"' in page
    assert "<math" in page  # the LaTeX is rendered
    assert not QuestionVersion.objects.exists()


def test_publish_then_edit_makes_version_two(author):
    assert author.post("/author/questions/new", form_for(author)).status_code == 302
    v1 = QuestionVersion.objects.get()
    assert v1.status == "published" and v1.data["answer"] is True and v1.data["tags"] == ["masking", "decoder"]
    response = author.post("/author/questions/causal-triangular/", form_for(author, title="Causal masks, again"))
    assert response.status_code == 302
    assert list(QuestionVersion.objects.order_by("number").values_list("number", "status")) == [
        (1, "retired"), (2, "published"),
    ]


def test_text_posted_by_a_browser_with_crlf_line_ends_is_saved_with_unix_ones(author):
    crlf = {
        "prompt": "A causal mask hides positions $j > i$.\r\n\r\nFrom query $i$.",
        "explanation": "Line one.\r\nLine two.",
        "hints": "Think of generation order.\r\nWhich tokens exist yet?",
        "spec": form_for(author)["spec"].replace("\n", "\r\n"),
    }
    response = author.post("/author/questions/new", form_for(author, **crlf))
    assert response.status_code == 302, response.content.decode()[:3000]
    data = QuestionVersion.objects.get().data
    assert data["prompt"] == "A causal mask hides positions $j > i$.\n\nFrom query $i$."
    assert data["hints"] == ["Think of generation order.", "Which tokens exist yet?"]
    assert "\r" not in data["explanation"]


def test_draft_is_edited_in_place(author):
    author.post("/author/questions/new", form_for(author, action="draft"))
    author.post("/author/questions/causal-triangular/", form_for(author, action="draft", title="Better title"))
    version = QuestionVersion.objects.get()
    assert version.status == "draft" and version.data["title"] == "Better title"


def test_invalid_question_is_a_400_with_the_rule_broken(author):
    response = author.post("/author/questions/new", form_for(author, spec="answer: maybe"))
    assert response.status_code == 400
    assert "answer" in response.content.decode()
    assert not QuestionVersion.objects.exists()
    bad_yaml = author.post("/author/questions/new", form_for(author, spec="answer: [unclosed"))
    assert bad_yaml.status_code == 400 and "Not valid YAML" in bad_yaml.content.decode()


GIFT = """// two questions, complete enough to publish; Moodle keeps the source in a comment we add
::Q1:: The softmax in attention is taken over the keys. {T#It is over the keys: each query's weights sum to 1.#Right.####Each row of weights is a distribution over keys.}

::Q2:: Which matrix holds what a token looks for? {=Q#Right.~K#K is what it offers.~V#V is what it passes on.####The query asks; keys answer.}
"""


def test_bare_moodle_questions_come_in_as_drafts(author):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bare = "::Bare:: Attention weights in a row sum to one. {T}\n"
    upload = SimpleUploadedFile("q.gift", bare.encode(), content_type="text/plain")
    response = author.post("/author/import", {"owner": author.owner, "file": upload, "format": "gift"})
    assert response.status_code == 200, response.content.decode()
    assert QuestionVersion.objects.get().status == "draft"
    # Publishing it as it is would break the bank's rules (no explanation, no feedback).
    upload = SimpleUploadedFile("q.gift", bare.encode(), content_type="text/plain")
    refused = author.post("/author/import", {"owner": author.owner, "file": upload, "format": "gift", "publish": "1"})
    assert refused.status_code == 400 and "explanation" in refused.content.decode()


def test_a_stored_draft_without_a_source_opens_in_the_editor_with_it_blank(author, course):
    """Versions are stored by code that does not hold them to the publishing rules (drafts, data
    loaded by scripts); one without a source or explanation made its edit page a 500."""
    topic = Topic.objects.get(slug="masking")
    catalogue_services.question_version_save(
        topic=topic, status="draft", owner=course,
        data={"slug": "half-done", "type": "true_false", "difficulty": "easy", "title": "Half done",
              "prompt": "Attention weights in a row sum to one.", "answer": True},
    )
    page = author.get("/author/questions/half-done/")
    assert page.status_code == 200 and "Attention weights in a row sum to one." in page.content.decode()


def test_import_gift_from_the_web_then_export(author):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("q.gift", GIFT.encode(), content_type="text/plain")
    response = author.post("/author/import", {"owner": author.owner, "file": upload, "format": "gift", "publish": "1"})
    assert response.status_code == 200, response.content.decode()
    assert "Imported 2 questions" in response.content.decode()
    assert Topic.objects.filter(slug="imported").exists()
    exported = author.get("/author/export?format=gift")
    assert exported.status_code == 200
    assert "looks for" in exported.content.decode()
    xml = author.get("/author/export?format=moodle_xml")
    assert xml.status_code == 200 and b"<quiz>" in xml.content
    assert author.get("/author/export?format=pdf").status_code == 400


def test_broken_import_saves_nothing_and_names_the_line(author):
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = GIFT + "\n::Q3:: Unclosed {=yes ~no\n"
    upload = SimpleUploadedFile("q.gift", broken.encode(), content_type="text/plain")
    response = author.post("/author/import", {"owner": author.owner, "file": upload, "format": "gift"})
    assert response.status_code == 400
    assert "line" in response.content.decode().lower()
    assert not QuestionVersion.objects.exists()
