"""Authoring through a form per question type (issue #13, "Instructors"): the type first, then
real fields; the form stores exactly what the YAML editor stores for the same question, opens a
stored question filled in, keeps what was typed when the validator refuses it (400, messages at
the fields), caps its rows, and stays closed to learners."""

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import services as courses_services
from quizsite.pages.authoring import MAX_ROWS, TYPE_TITLES

pytestmark = pytest.mark.django_db

COMMON = {
    "type": None, "difficulty": "hard", "title": "A question",
    "prompt": "Scores are $\\frac{QK^\\top}{\\sqrt{d_k}}$.\n\nThen:",
    "explanation": "Because $\\sqrt{d_k}$ keeps the variance at one.",
    "source": "Vaswani et al. (2017), Attention Is All You Need, §3.2.1",
    "tags": ["scaling", "softmax"], "hints": ["Think of the variance.", "Of a sum of $d_k$ terms."],
}
KV = {"function": "kv_cache_bytes", "args": {"layers": 12, "heads": 12, "d_head": 64, "seq_len": 1, "batch": 1,
                                              "dtype": "fp16"}, "field": "total"}
OWN = {  # each type's own fields, as FORMAT.md writes them
    "single_choice": {"choices": [
        {"text": "$\\sqrt{d_k}$", "weight": 100, "feedback": "Right."},
        {"text": "$d_k$", "weight": 0, "feedback": "Too much: the weights flatten."},
        {"text": "Nothing", "weight": 0, "feedback": "Then softmax saturates."}]},
    "multiple_response": {"choices": [
        {"text": "Keys", "weight": 50, "feedback": "Yes."}, {"text": "Queries", "weight": 50},
        {"text": "Biases", "weight": -50, "feedback": "No: they are added after."}]},
    "true_false": {"answer": False, "feedback_true": "It is not: look at the mask.", "feedback_false": "Right."},
    "numeric": {"unit": "bytes", "engine": KV, "other_feedback": "Count K and V, every layer.", "answers": [
        {"value": 36864, "tolerance": 0, "weight": 100, "feedback": "Right."},
        {"value": 18432.5, "tolerance": 0.5, "weight": 0, "feedback": "Keys only.",
         "engine": {**KV, "field": "breakdown.K"}}]},
    "short_answer": {"case_sensitive": True, "answers": [
        {"text": "softmax", "weight": 100}, {"text": "sigmoid*", "weight": 0, "feedback": "Rows must sum to one."}]},
    "matching": {"distractors": ["What a token forgets"], "pairs": [
        {"left": "Query", "right": "What a token looks for"}, {"left": "Key", "right": "What a token offers"},
        {"left": "Value", "right": "What a token passes on"}]},
    "ordering": {"items": ["Scores $QK^\\top$", "Scale", "Mask", "Softmax"]},
    "essay": {},
}
ROWS = {"choices": ("text", "weight", "feedback"), "pairs": ("left", "right"), "items": ("text",)}
ANSWER_ROWS = {"numeric": ("value", "tolerance", "weight", "feedback", "engine"), "short_answer": ("text", "weight", "feedback")}


def question(kind: str, slug: str) -> dict:
    return {**COMMON, "type": kind, "slug": slug, **OWN[kind]}


def make_instructor(user_model, username: str):
    user = user_model.objects.create_user(username=username, password="s3cret-pass-word")
    user.groups.add(Group.objects.get_or_create(name="instructors")[0])
    return user


@pytest.fixture
def instructor(django_user_model):
    return make_instructor(django_user_model, "ines")


@pytest.fixture
def course(instructor):
    return courses_services.course_create(title="Attention 101", instructor=instructor)


@pytest.fixture
def author(client, instructor, course):
    catalogue_services.topic_upsert(slug="scaled-dot-product", title="Scaled dot-product attention")
    client.force_login(instructor)
    client.owner = str(course.id)
    return client


def common_post(owner: str, data: dict) -> dict:
    return {"owner": owner, "topic": "scaled-dot-product", "slug": data["slug"], "type": data["type"],
            "difficulty": data["difficulty"], "title": data["title"], "prompt": data["prompt"],
            "explanation": data["explanation"], "source": data["source"], "tags": ", ".join(data["tags"]),
            "hints": "\n".join(data["hints"])}


def cell(value) -> str:
    if isinstance(value, dict):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return "" if value is None else str(value)


def form_post(owner: str, data: dict, *, blank_rows: int = 1, action: str = "publish") -> dict:
    """What a browser posts from the form of `data`'s type, with `blank_rows` untouched rows."""
    kind = data["type"]
    post = {**common_post(owner, data), "editor": "form", "action": action}
    own = OWN[kind]
    lists = {key: fields for key, fields in ROWS.items() if key in own}
    if kind in ANSWER_ROWS:
        lists["answers"] = ANSWER_ROWS[kind]
    for key, fields in lists.items():
        entries = data[key]
        post.update({f"{key}-TOTAL_FORMS": str(len(entries) + blank_rows), f"{key}-INITIAL_FORMS": "0"})
        for i, entry in enumerate(entries):
            for name in fields:
                post[f"{key}-{i}-{name}"] = entry if key == "items" else cell(entry.get(name))
    if kind == "true_false":
        post.update(answer=str(data["answer"]).lower(), feedback_true=data["feedback_true"],
                    feedback_false=data["feedback_false"])
    if kind == "numeric":
        post.update(unit=data["unit"], other_feedback=data["other_feedback"], engine=cell(data["engine"]))
    if kind == "short_answer" and data["case_sensitive"]:
        post["case_sensitive"] = "on"
    if kind == "matching":
        post["distractors"] = "\n".join(data["distractors"])
    return post


def yaml_post(owner: str, data: dict) -> dict:
    spec = {k: v for k, v in data.items() if k not in COMMON and k != "slug"}
    return {**common_post(owner, data), "spec": yaml.safe_dump(spec, sort_keys=False), "action": "publish"}


class FormFields(HTMLParser):
    """The fields a browser would submit from the authoring form, as it shows them."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._in_template = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "data-author-form" in a:
            self._in_form = True
        if tag == "template":
            self._in_template = True
        if not self._in_form or self._in_template:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            else:
                self.fields.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "template":
            self._in_template = False
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def shown_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return dict(parser.fields)


def stored(slug: str) -> dict:
    data = dict(QuestionVersion.objects.filter(question__slug=slug).order_by("-number").first().data)
    data.pop("slug")
    return data


# --- The type first, then its form -------------------------------------------------------------


def test_new_question_asks_for_the_type_in_words_first(author):
    page = author.get("/author/questions/new")
    assert page.status_code == 200
    html = page.content.decode()
    for kind, title in TYPE_TITLES.items():
        assert f'value="{kind}"' in html and title in html
    assert 'name="spec"' not in html and 'name="prompt"' not in html
    form = author.get("/author/questions/new?type=matching")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="pairs-0-left"' in html and 'name="spec"' not in html and "Matching" in html
    assert "Scaled dot-product attention" in html  # the topic by its title
    refused = author.get("/author/questions/new?type=crossword")
    assert refused.status_code == 400 and "Unknown question type" in refused.content.decode()


def test_the_yaml_editor_stays_one_link_away(author):
    page = author.get("/author/questions/new?format=yaml")
    assert page.status_code == 200 and 'name="spec"' in page.content.decode()
    assert '?format=yaml" aria-current="page"' in page.content.decode()


# --- One path: the form stores what YAML stores ------------------------------------------------


@pytest.mark.parametrize("kind", list(TYPE_TITLES))
def test_the_form_stores_what_the_yaml_editor_stores(author, kind):
    slug = kind.replace("_", "-")
    by_yaml = author.post("/author/questions/new", yaml_post(author.owner, question(kind, f"yaml-{slug}")))
    assert by_yaml.status_code == 302, by_yaml.content.decode()[:2000]
    by_form = author.post("/author/questions/new", form_post(author.owner, question(kind, f"form-{slug}")))
    assert by_form.status_code == 302, by_form.content.decode()[:4000]
    assert stored(f"form-{slug}") == stored(f"yaml-{slug}")
    assert stored(f"form-{slug}")["type"] == kind and stored(f"form-{slug}")["tags"] == ["scaling", "softmax"]
    if kind == "numeric":  # numbers keep their kind: 36864 an integer, 18432.5 a float
        answers = stored(f"form-{slug}")["answers"]
        assert isinstance(answers[0]["value"], int) and answers[1]["value"] == 18432.5


@pytest.mark.parametrize("kind", list(TYPE_TITLES))
def test_editing_opens_the_form_of_its_type_filled_in(author, kind):
    assert author.post("/author/questions/new", yaml_post(author.owner, question(kind, "q"))).status_code == 302
    page = author.get("/author/questions/q/")
    assert page.status_code == 200
    fields = shown_fields(page.content.decode())
    assert fields["type"] == kind and fields["editor"] == "form"
    assert fields["title"] == COMMON["title"] and fields["prompt"] == COMMON["prompt"]
    assert fields["source"] == COMMON["source"] and fields["topic"] == "scaled-dot-product"
    # Posted back as shown, the form stores the question unchanged: every field was filled in.
    before = QuestionVersion.objects.get(question__slug="q")
    again = author.post("/author/questions/q/", {**fields, "action": "publish"})
    assert again.status_code == 302, again.content.decode()[:4000]
    assert list(QuestionVersion.objects.filter(question__slug="q").values_list("id", flat=True)) == [before.id]
    assert QuestionVersion.objects.get(question__slug="q").data == before.data


def test_preview_from_the_form_shows_the_learner_view_and_the_key_and_saves_nothing(author):
    post = form_post(author.owner, question("single_choice", "previewed"), action="preview")
    response = author.post("/author/questions/new", post)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-label="Preview as a learner sees it"' in html and 'type="radio" name="response"' in html
    key = html.split("Right answer:")[1].split("</ul>")[0]
    assert "<math" in key and "Nothing" not in key
    assert "Too much: the weights flatten." in html.split('id="preview"')[1]  # a wrong choice's feedback
    assert not QuestionVersion.objects.exists()
    assert shown_fields(html)["choices-2-text"] == "Nothing"  # the form is still filled in


# --- Refusals: at the fields, 400, nothing lost ------------------------------------------------


def test_the_validators_messages_land_at_their_fields_and_what_was_typed_stays(author):
    data = question("single_choice", "broken")
    data["choices"][0]["weight"] = 0  # no right choice
    del data["choices"][1]["feedback"]  # a wrong choice that does not say why
    post = form_post(author.owner, data, blank_rows=2)
    post["choices-2-text"], post["choices-2-weight"], post["choices-2-feedback"] = "", "", ""  # a blank row
    post["choices-3-text"], post["choices-3-weight"], post["choices-3-feedback"] = "Keep me", "0", "Typed here"
    post["source"] = "   "
    response = author.post("/author/questions/new", post)
    assert response.status_code == 400
    editor = response.context["editor"]
    assert "exactly one choice with weight 100" in " ".join(editor.list_errors["choices"])
    assert editor.rows["choices"].forms[1].errors["feedback"] == ["missing required field 'feedback'"]
    assert not editor.rows["choices"].forms[3].errors  # row 4 is the third entry: rows map, blanks skipped
    assert "source" in editor.form.errors
    fields = shown_fields(response.content.decode())
    assert fields["choices-3-text"] == "Keep me" and fields["choices-3-feedback"] == "Typed here"
    assert fields["prompt"] == COMMON["prompt"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not QuestionVersion.objects.exists()


def test_a_number_that_is_not_one_is_refused_at_its_cell(author):
    post = form_post(author.owner, question("numeric", "nums"))
    post["answers-1-tolerance"] = "a bit"
    response = author.post("/author/questions/new", post)
    assert response.status_code == 400
    errors = response.context["editor"].rows["answers"].forms[1].errors
    assert list(errors) == ["tolerance"] and "Enter a number" in errors["tolerance"][0]
    assert shown_fields(response.content.decode())["answers-1-tolerance"] == "a bit"
    assert not QuestionVersion.objects.exists()


def test_an_engine_error_lands_at_the_answer_that_carries_it(author):
    post = form_post(author.owner, question("numeric", "engine-typo"))
    post["answers-1-engine"] = "{function: kv_cache_bytes, args: {layers: 12}, field: breakdown}"
    response = author.post("/author/questions/new", post)
    assert response.status_code == 400
    errors = response.context["editor"].rows["answers"].forms[1].errors
    assert "field must be 'total' or 'breakdown.<key>'" in errors["engine"][0]


def test_a_slug_taken_by_another_course_is_refused_at_the_slug(author, django_user_model):
    rival = make_instructor(django_user_model, "rival")
    rival_course = courses_services.course_create(title="Rival course", instructor=rival)
    catalogue_services.question_author_save(topic_slug="scaled-dot-product", data=question("ordering", "taken"),
                                            publish=True, author=rival, owner=rival_course)
    response = author.post("/author/questions/new", form_post(author.owner, question("ordering", "taken")))
    assert response.status_code == 400
    assert "taken by a question you cannot edit" in response.context["editor"].form.errors["slug"][0]


# --- Rows: added without JavaScript, capped on the server --------------------------------------


def test_add_row_without_javascript_adds_a_blank_row_and_keeps_the_rest(author):
    post = form_post(author.owner, question("ordering", "steps"), blank_rows=0, action="add-items")
    post["title"] = ""  # not finished yet: adding a row says nothing about it
    response = author.post("/author/questions/new", post)
    assert response.status_code == 200
    fields = shown_fields(response.content.decode())
    assert fields["items-TOTAL_FORMS"] == "5" and fields["items-4-text"] == ""
    assert [fields[f"items-{i}-text"] for i in range(4)] == OWN["ordering"]["items"]
    assert "autofocus" in re.search(r'<input[^>]*name="items-4-text"[^>]*>', response.content.decode()).group()
    assert "field-error" not in response.content.decode()
    assert not QuestionVersion.objects.exists()


def test_rows_are_capped_on_the_server(author):
    post = form_post(author.owner, question("single_choice", "many"), blank_rows=MAX_ROWS)
    response = author.post("/author/questions/new", post)
    assert response.status_code == 400 and f"at most {MAX_ROWS}" in response.content.decode()
    assert not QuestionVersion.objects.exists()
    full = form_post(author.owner, question("single_choice", "many"), blank_rows=MAX_ROWS - 3, action="add-choices")
    at_cap = author.post("/author/questions/new", full)
    assert at_cap.status_code == 200
    assert shown_fields(at_cap.content.decode())["choices-TOTAL_FORMS"] == str(MAX_ROWS)


def test_a_post_without_its_rows_bookkeeping_is_a_400_not_a_500(author):
    post = form_post(author.owner, question("matching", "no-management"))
    del post["pairs-TOTAL_FORMS"]
    assert author.post("/author/questions/new", post).status_code == 400
    assert author.post("/author/questions/new", {**post, "action": "add-pairs"}).status_code == 400
    assert author.post("/author/questions/new", {**post, "type": "crossword"}).status_code == 400
    assert not QuestionVersion.objects.exists()


# --- Who may author ---------------------------------------------------------------------------


def test_learners_get_403_and_other_courses_questions_read_as_missing(learner, author, django_user_model):
    learner_browser = Client()
    learner_browser.force_login(learner)
    assert learner_browser.get("/author/questions/new?type=single_choice").status_code == 403
    refused = learner_browser.post("/author/questions/new", form_post(author.owner, question("true_false", "x")))
    assert refused.status_code == 403
    other = make_instructor(django_user_model, "otto")
    other_course = courses_services.course_create(title="Other course", instructor=other)
    catalogue_services.question_author_save(topic_slug="scaled-dot-product", data=question("true_false", "theirs"),
                                            publish=True, author=other, owner=other_course)
    assert author.get("/author/questions/theirs/").status_code == 404
    assert not QuestionVersion.objects.filter(question__slug="x").exists()


# --- The import form -------------------------------------------------------------------------


def test_the_import_form_lays_every_field_on_the_grid_and_refuses_a_missing_file_at_it(author):
    page = author.get("/author/import").content.decode()
    for name in ("owner", "file", "format", "publish"):
        assert f'for="id_{name}"' in page
    assert len(re.findall(r'<div class="field[ "]', page)) == 4
    response = author.post("/author/import", {"owner": author.owner, "format": "gift"})
    assert response.status_code == 400
    assert "Choose a GIFT" in response.content.decode().split('id="id_file_error"')[1]
    ok = author.post("/author/import", {"owner": author.owner, "format": "gift", "publish": "on",
                                        "file": SimpleUploadedFile("q.gift", b"::T:: Rows sum to one. {T#No.#Yes.####Softmax.}\n")})
    assert ok.status_code == 200 and "Imported 1 question" in ok.content.decode()


def test_text_beyond_the_cap_is_refused_at_its_field(author):
    post = form_post(author.owner, question("true_false", "long"))
    post["explanation"] = "x" * 10_001
    response = author.post("/author/questions/new", post)
    assert response.status_code == 400 and "at most 10000 characters" in response.context["editor"].form.errors["explanation"][0]
    assert not QuestionVersion.objects.exists()


def test_a_stored_question_with_more_rows_than_the_form_holds_opens_as_yaml(author, course):
    data = question("short_answer", "many-answers")
    data["answers"] = [{"text": "softmax", "weight": 100}] + [
        {"text": f"wrong {i}", "weight": 0, "feedback": "No."} for i in range(MAX_ROWS)]
    catalogue_services.question_author_save(topic_slug="scaled-dot-product", data=data, publish=True,
                                            author=course.memberships.get().user, owner=course)
    page = author.get("/author/questions/many-answers/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"more than {MAX_ROWS} rows" in html and 'name="spec"' in html and "wrong 19" in html


def test_a_blank_slug_is_made_from_the_title(author):
    post = form_post(author.owner, question("ordering", "ignored"))
    post.update(slug="", title="Steps of scaled dot-product attention")
    assert author.post("/author/questions/new", post).status_code == 302
    assert QuestionVersion.objects.get().question.slug == "steps-of-scaled-dot-product-attention"
