"""The quiz builder's page (issue #13, instructors): sections added, removed and moved without
JavaScript keep every value; the section cap is a 400; a section without a pool is marked where it
is; the question picker's search is bounded, filtered by text, topic and type, and staff-only."""

from html.parser import HTMLParser

import pytest

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import rules as courses_rules
from questions.courses import services as courses_services
from questions.courses.models import Quiz
from quizsite.pages.courses import MAX_SEARCH_LENGTH, MAX_SEARCH_RESULTS, SectionForm
from tests.courses.conftest import POOL_SLUGS, choice_question

PASSWORD = "s3cret-pass-word"
MASKS = "masks-true-false"
STEPS = "attention-steps-order"


class FormValues(HTMLParser):
    """What a browser would post from the page's quiz form: text, number, hidden and date inputs,
    ticked checkboxes and selected options (buttons and the section template left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self.autofocus: list[str] = []
        self._select: str | None = None
        self._in_template = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template = True
        if self._in_template:
            return
        if "autofocus" in a:
            self.autofocus.append(a.get("id") or a.get("value") or tag)
        name = a.get("name")
        if tag == "input" and name and a.get("type") != "checkbox":
            self.values.setdefault(name, []).append(a.get("value") or "")
        elif tag == "input" and name and "checked" in a:
            self.values.setdefault(name, []).append(a.get("value", "on"))
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select].append(a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template = False
        elif tag == "select":
            self._select = None


def parsed(response) -> FormValues:
    parser = FormValues()
    parser.feed(response.content.decode())
    return parser


def post_data(values: dict[str, list[str]], **extra) -> dict[str, list[str]]:
    return {**values, **{k: [v] for k, v in extra.items()}}


def one(values, name) -> str:
    (value,) = values[name]
    return value


@pytest.fixture
def mix(course, pool, django_user_model):
    """Besides the pool (three single-choice questions of "Quiz topic"): a true-or-false question
    of the public bank and an ordering question of this course, both of "Masks and order"; and
    what no picker may offer: another course's question, an essay, a draft."""
    topic = catalogue_services.topic_upsert(slug="masks-and-order", title="Masks and order", position=1)
    rival_owner = django_user_model.objects.create_user(username="rita", password=PASSWORD, is_staff=True)
    rival = courses_services.course_create(title="Rival 101", instructor=rival_owner)

    def save(slug, title, kind, prompt, owner=None, status=QuestionVersion.Status.PUBLISHED, **fields):
        data = {**choice_question(slug), "title": title, "type": kind, "prompt": prompt, **fields}
        if kind != "single_choice":
            data.pop("choices")
        catalogue_services.question_version_save(topic=topic, data=data, status=status, owner=owner)

    save(MASKS, "Causal masks hide future tokens", "true_false", "A causal mask stops a token seeing later ones.",
         answer=True, feedback_true="Yes.", feedback_false="It does.")
    save(STEPS, "Order the steps of attention", "ordering", "Put scores, softmax and the weighted sum in order.",
         owner=course, items=["scores", "softmax", "weighted sum"])
    save("rival-steps", "Rival ordering of steps", "ordering", "Their course's own softmax question.",
         owner=rival, items=["a", "b"])
    save("attention-essay", "Essay on softmax", "essay", "Write about softmax.")
    save("draft-steps", "Draft ordering of softmax steps", "ordering", "Not published.",
         status=QuestionVersion.Status.DRAFT, items=["a", "b"])


def builder_values(**overrides) -> dict[str, list[str]]:
    data = {
        "section_count": "3", "title": "Week 3", "opens_at": "", "closes_at": "", "time_limit_minutes": "25",
        "attempts_allowed": "2", "grading_method": "highest", "penalty": "0", "feedback_timing": "after_submission",
        "shuffle": "on",
        "s0-title": "Theory", "s0-topic": "quiz-topic", "s0-draw": "2", "s0-points": "1", "s0-difficulty": "medium",
        "s1-title": "Arithmetic", "s1-kind": "mha_params", "s1-difficulty": "easy", "s1-draw": "1", "s1-points": "2",
        "s2-title": "Picked", "s2-draw": "1", "s2-points": "3", "s2-difficulty": "medium",
    }
    data.update(overrides)
    values = {k: [v] for k, v in data.items() if v is not None}
    values["s2-questions"] = [POOL_SLUGS[1], POOL_SLUGS[2]]
    return values


def url(course) -> str:
    return f"/courses/{course.id}/quizzes/new"


# --- Sections without JavaScript ------------------------------------------------------------------


def test_sections_move_go_and_come_without_javascript_and_every_value_stays(client, course, instructor, pool):
    client.force_login(instructor)
    page = client.post(url(course), post_data(builder_values(), builder_action="up-2"))
    assert page.status_code == 200 and not Quiz.objects.exists()
    values = parsed(page).values
    assert [one(values, f"s{i}-title") for i in range(3)] == ["Theory", "Picked", "Arithmetic"]
    assert values["s1-questions"] == [POOL_SLUGS[1], POOL_SLUGS[2]] and "s2-questions" not in values
    assert one(values, "s1-points") == "3" and one(values, "s2-kind") == "mha_params"
    assert one(values, "s2-difficulty") == "easy" and one(values, "s0-topic") == "quiz-topic"
    assert one(values, "title") == "Week 3" and one(values, "time_limit_minutes") == "25"
    assert values["shuffle"] == ["on"] and "certainty_based_marking" not in values
    assert "Section 3 moved up: it is now section 2." in page.content.decode()
    assert parsed(page).autofocus == ["up-1"]  # the same button, where the section went

    page = client.post(url(course), post_data(values, builder_action="remove-0"))
    values = parsed(page).values
    assert one(values, "section_count") == "2"
    assert [one(values, f"s{i}-title") for i in range(2)] == ["Picked", "Arithmetic"]
    assert values["s0-questions"] == [POOL_SLUGS[1], POOL_SLUGS[2]] and "s2-title" not in values

    page = client.post(url(course), post_data(values, builder_action="add"))
    values = parsed(page).values
    assert one(values, "section_count") == "3" and one(values, "s2-title") == "" and one(values, "s2-draw") == "1"
    assert parsed(page).autofocus == ["id_s2-title"]

    page = client.post(url(course), post_data(values, builder_action="down-0"))
    values = parsed(page).values
    assert [one(values, f"s{i}-title") for i in range(3)] == ["Arithmetic", "Picked", ""]
    assert parsed(page).autofocus == ["down-1"]

    response = client.post(url(course), values)
    quiz = Quiz.objects.get()
    assert response.status_code == 302 and quiz.title == "Week 3" and quiz.time_limit_seconds == 25 * 60
    arithmetic, picked = quiz.sections.order_by("position")  # the untouched third section is left out
    assert (arithmetic.title, arithmetic.kind, arithmetic.points) == ("Arithmetic", "mha_params", 2.0)
    assert picked.title == "Picked" and picked.points == 3.0
    assert sorted(q.slug for q in picked.questions.all()) == [POOL_SLUGS[1], POOL_SLUGS[2]]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"section_count": str(courses_rules.MAX_SECTIONS + 1)}, f"A quiz has 1 to {courses_rules.MAX_SECTIONS} sections"),
        ({"section_count": "0"}, "A quiz has 1 to"),
        ({"section_count": "three"}, "A quiz has 1 to"),
        ({"section_count": "9" * 5000}, "A quiz has 1 to"),
        ({"builder_action": "up-0"}, "Section 1 cannot move up."),
        ({"builder_action": "down-2"}, "Section 3 cannot move down."),
        ({"builder_action": "remove-3"}, "does not know that button"),
        ({"builder_action": "remove-" + "9" * 5000}, "does not know that button"),
        ({"builder_action": "shuffle-1"}, "does not know that button"),
    ],
)
def test_odd_section_counts_and_buttons_are_400s_with_a_message(client, course, instructor, pool, changes, message):
    client.force_login(instructor)
    response = client.post(url(course), post_data(builder_values(), **changes))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Quiz.objects.exists()


def test_the_section_cap_is_the_services(client, course, instructor, pool):
    client.force_login(instructor)
    full = courses_rules.MAX_SECTIONS
    values = post_data(builder_values(), section_count=str(full))
    page = client.post(url(course), post_data(values, builder_action="down-0"))  # a full builder: no Add
    assert page.status_code == 200 and one(parsed(page).values, f"s{full - 1}-draw") == ""
    assert 'data-builder="add" formnovalidate hidden>' in page.content.decode()
    refused = client.post(url(course), post_data(values, builder_action="add"))
    assert refused.status_code == 400 and f"at most {full} sections" in refused.content.decode()
    single = post_data(builder_values(), section_count="1")
    refused = client.post(url(course), post_data(single, builder_action="remove-0"))
    assert refused.status_code == 400 and "at least one section" in refused.content.decode()


# --- Errors at their section ----------------------------------------------------------------------


def test_a_section_filled_in_without_a_pool_is_marked_there_and_focused(client, course, instructor, pool):
    client.force_login(instructor)
    response = client.post(url(course), builder_values(**{"s1-kind": ""}))
    page = response.content.decode()
    assert response.status_code == 400 and not Quiz.objects.exists()
    assert "The quiz was not saved: correct the fields marked below." in page
    second, third = page.index('id="section-1"'), page.index('id="section-2"')
    assert second < page.index(SectionForm.NO_POOL) < third
    assert page.count(SectionForm.NO_POOL) == 1  # not the first section (a topic) nor the third (picked)
    assert parsed(response).autofocus == ["id_s1-topic"]


def test_the_first_wrong_field_takes_the_focus(client, course, instructor, pool):
    client.force_login(instructor)
    response = client.post(url(course), builder_values(title="", **{"s2-points": "-1"}))
    assert response.status_code == 400 and parsed(response).autofocus == ["id_title"]
    response = client.post(url(course), builder_values(**{"s2-points": "-1"}))
    assert response.status_code == 400 and parsed(response).autofocus == ["id_s2-points"]


def test_the_builder_offers_the_pool_by_title_topic_and_type(client, course, instructor, mix):
    client.force_login(instructor)
    page = client.get(url(course)).content.decode()
    assert f'data-search-url="/courses/{course.id}/quizzes/questions"' in page
    assert "Causal masks hide future tokens <span class=\"meta\">· True or false</span>" in page
    assert "Order the steps of attention <span class=\"meta\">· Ordering</span>" in page
    assert "<legend>Masks and order</legend>" in page and "<legend>Quiz topic</legend>" in page
    for hidden in ("Rival ordering", "Essay on softmax", "Draft ordering"):
        assert hidden not in page
    assert '<option value="true_false">True or false</option>' in page
    assert '<template id="builder-section-template">' in page and 'name="s__new__-title"' in page


# --- The picker's search ---------------------------------------------------------------------------


def search(client, course, **params):
    return client.get(f"/courses/{course.id}/quizzes/questions", params)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["title"] for r in response.json()["results"]]


def test_search_by_text_topic_and_type_among_the_questions_the_course_may_use(client, course, instructor, mix):
    client.force_login(instructor)
    pool_titles = [f"Question {slug}" for slug in POOL_SLUGS]
    everything = search(client, course)
    assert titles(everything) == [*pool_titles, "Order the steps of attention", "Causal masks hide future tokens"]
    assert everything.json()["more"] is False
    assert everything.json()["results"][4] == {
        "slug": MASKS, "title": "Causal masks hide future tokens", "topic": "Masks and order", "type": "True or false",
    }
    assert titles(search(client, course, q="CAUSAL")) == ["Causal masks hide future tokens"]  # the title
    assert titles(search(client, course, q="softmax")) == ["Order the steps of attention"]  # the prompt
    assert titles(search(client, course, q="pool-b")) == [f"Question {POOL_SLUGS[1]}"]
    assert titles(search(client, course, q="50%_")) == []  # LIKE's wildcards are plain text
    assert titles(search(client, course, topic="quiz-topic")) == pool_titles
    assert titles(search(client, course, type="ordering")) == ["Order the steps of attention"]
    assert titles(search(client, course, topic="masks-and-order", type="true_false", q="mask")) == [
        "Causal masks hide future tokens"
    ]
    assert titles(search(client, course, topic="quiz-topic", type="true_false")) == []


def test_search_answers_at_most_a_page(client, course, instructor, pool):
    topic = catalogue_services.topic_upsert(slug="quiz-topic", title="Quiz topic")
    for n in range(MAX_SEARCH_RESULTS + 5):
        catalogue_services.question_version_save(topic=topic, data=choice_question(f"many-{n:02}"))
    client.force_login(instructor)
    body = search(client, course, q="many").json()
    assert len(body["results"]) == MAX_SEARCH_RESULTS and body["more"] is True
    body = search(client, course, q="many-2").json()
    assert len(body["results"]) == 10 and body["more"] is False  # many-20 ... many-29


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * (MAX_SEARCH_LENGTH + 1)},
        {"q": "nul\x00byte"},
        {"type": "essay"},
        {"type": "single choice"},
        {"topic": "no-such-topic"},
        {"topic": "t" * 5000},
    ],
)
def test_search_refuses_odd_parameters_with_a_400(client, course, instructor, mix, params):
    client.force_login(instructor)
    response = search(client, course, **params)
    assert response.status_code == 400 and response.json()["error"]


def test_search_is_for_the_courses_instructors_only(client, course, instructor, mix, django_user_model):
    learner = django_user_model.objects.create_user(username="lea", password=PASSWORD)
    courses_services.course_join(user=learner, code=course.join_code)
    stranger = django_user_model.objects.create_user(username="sam", password=PASSWORD, is_staff=True)
    assert search(client, course).status_code == 302  # to the login page
    client.force_login(learner)
    assert search(client, course, q="mask").status_code == 403
    client.force_login(stranger)
    assert search(client, course, q="mask").status_code == 404
    client.force_login(instructor)
    assert client.post(f"/courses/{course.id}/quizzes/questions", {"q": "mask"}).status_code == 405
