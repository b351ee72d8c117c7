"""The learner API end to end: items by kind and by topic, hints, reviews, isolation, no key leaks.

Every response is recorded; `test_no_key_in_any_learner_response_before_grading` walks them all.
"""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from attention_engine import api as engine
from questions.catalogue.models import QuestionVersion
from questions.keyed import opaque_id
from questions.learning import rules as learning_rules
from questions.learning.models import ReviewCard
from questions.practice.models import PracticeItem, Submission
from tests.choices import answer_by_id, by_id

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


class RecordingClient(APIClient):
    """An API client that keeps every JSON body it receives."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies: list[tuple[str, str]] = []

    def request(self, **request):
        response = super().request(**request)
        self.bodies.append((request.get("PATH_INFO", ""), response.content.decode()))
        return response


def login(user) -> RecordingClient:
    client = RecordingClient()
    response = client.post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@pytest.fixture
def api(learner):
    return login(learner)


def theory_item(learner, question_type: str) -> PracticeItem:
    version = QuestionVersion.objects.filter(status="published", data__type=question_type).order_by("id").first()
    return PracticeItem.objects.create(learner=learner, question_version=version)


# --- endpoints --------------------------------------------------------------------------------------


def test_every_endpoint_refuses_strangers():
    anonymous = APIClient()
    for method, url in [
        ("get", "/api/v1/topics"), ("get", "/api/v1/kinds"), ("post", "/api/v1/practice/items"),
        ("get", "/api/v1/practice/items/1"), ("post", "/api/v1/practice/items/1/submissions"),
        ("post", "/api/v1/practice/items/1/hints"), ("get", "/api/v1/submissions/1"),
        ("get", "/api/v1/reviews"), ("post", "/api/v1/reviews/next"),
    ]:
        assert getattr(anonymous, method)(url, format="json").status_code == 401, url


def test_topics_and_kinds(api, bank):
    topics = {t["slug"]: t for t in api.get("/api/v1/topics").json()}
    assert "masking" in topics and "causal_mask" in topics["masking"]["kinds"]
    kinds = api.get("/api/v1/kinds").json()
    assert {k["name"] for k in kinds} == {k["name"] for k in engine.list_kinds()}


def test_item_by_kind_then_read_it(api):
    response = api.post("/api/v1/practice/items", {"kind": "causal_mask", "difficulty": "hard"}, format="json")
    assert response.status_code == 201
    item = response.json()
    assert (item["type"], item["kind"], item["difficulty"], item["purpose"]) == ("numeric", "causal_mask", "hard", "practice")
    assert item["hints"]["revealed"] == 0 and item["hints"]["total"] > 0
    assert api.get(f"/api/v1/practice/items/{item['id']}").json() == item
    default = api.post("/api/v1/practice/items", {"kind": "causal_mask"}, format="json").json()
    assert default["difficulty"] == "medium"


def test_items_by_topic_interleave_theory_and_numeric(api, bank):
    items = [api.post("/api/v1/practice/items", {"topic": "masking"}, format="json") for _ in range(4)]
    assert all(r.status_code == 201 for r in items)
    types = [r.json()["type"] for r in items]
    assert set(types) == {"theory", "numeric"}
    theory = next(r.json() for r in items if r.json()["type"] == "theory")
    assert theory["topic"] == "masking" and theory["question_type"] and theory["title"]
    assert api.get(f"/api/v1/practice/items/{theory['id']}").json() == theory
    numeric = next(r.json() for r in items if r.json()["type"] == "numeric")
    kinds = [k["name"] for k in engine.list_kinds() if "masking" in k["topics"]]
    assert numeric["kind"] in kinds
    # A topic only the engine's kinds name (listed by /topics) serves numeric problems.
    only_kinds = api.post("/api/v1/practice/items", {"topic": "by-hand"}, format="json")
    assert only_kinds.status_code == 201 and only_kinds.json()["kind"] == "by_hand"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"topic": "no-such-topic"}, "Unknown topic 'no-such-topic'"),
        ({"topic": "masking", "kind": "causal_mask"}, 'exactly one of "kind" and "topic"'),
        ({}, 'exactly one of "kind" and "topic"'),
        ({"difficulty": "easy"}, 'exactly one of "kind" and "topic"'),
        ({"topic": "masking", "difficulty": "easy"}, '"difficulty" goes with "kind"'),
        ({"topic": "not a slug!"}, "slug"),
        ({"kind": "nope"}, "Unknown problem kind"),
    ],
)
def test_bad_item_requests_are_400_with_a_message(api, bank, body, message):
    response = api.post("/api/v1/practice/items", body, format="json")
    assert response.status_code == 400
    body = response.json()
    assert message.lower() in (body.get("detail") or str(body)).lower()
    assert not PracticeItem.objects.filter(learner__username="ada").exists()


def test_theory_submission_with_idempotency_key_then_read(api, learner, bank, django_capture_on_commit_callbacks):
    item = theory_item(learner, "single_choice")
    right_text = next(c["text"] for c in item.question_version.data["choices"] if c["weight"] == 100)
    # The client reads the options, each with its id, and answers with the id of the one it picks.
    shown = api.get(f"/api/v1/practice/items/{item.id}").json()["choices"]
    assert all(set(c) == {"id", "text"} for c in shown)
    assert sorted(c["id"] for c in shown) == sorted(by_id(item, list(range(len(shown)))))
    right = next(c["id"] for c in shown if c["text"] == right_text)
    url = f"/api/v1/practice/items/{item.id}/submissions"
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(url, {"answer": {"response": 0}}, format="json")  # a number is not an id
        first = api.post(url, {"answer": {"response": right}}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
        second = api.post(url, {"answer": {"response": right}}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert refused.status_code == 400 and "each named by its id" in refused.content.decode()
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and Submission.objects.count() == 1
    graded = api.get(f"/api/v1/submissions/{first.json()['id']}").json()
    assert graded["status"] == "graded" and graded["score"] == pytest.approx(1.0)
    assert graded["source"] == item.question_version.data["source"]
    assert ReviewCard.objects.filter(learner=learner, question=item.question_version.question).exists()


def test_hints_open_in_order_and_idempotently(api, learner, bank):
    item = theory_item(learner, "multiple_response")
    url = f"/api/v1/practice/items/{item.id}/hints"
    first = api.post(url, {}, format="json")
    assert first.status_code == 200
    ladder = first.json()
    assert ladder["revealed"] == 1 and len(ladder["hints"]) == 1 and ladder["next_rung"] == 2
    assert api.post(url, {"rung": 1}, format="json").json() == ladder  # a repeat changes nothing
    skipped = api.post(url, {"rung": ladder["total"]}, format="json") if ladder["total"] > 2 else None
    if skipped is not None:
        assert skipped.status_code == 400 and "first" in skipped.json()["detail"]
    assert api.post(url, {"rung": 0}, format="json").status_code == 400
    assert api.post(url, {"rung": "two"}, format="json").status_code == 400
    for _ in range(ladder["total"] + 1):
        last = api.post(url, {}, format="json")
    assert last.status_code == 200 and last.json()["revealed"] == ladder["total"] and last.json()["next_rung"] is None
    assert api.get(f"/api/v1/practice/items/{item.id}").json()["hints"] == {
        "revealed": ladder["total"], "total": ladder["total"]
    }
    assert not Submission.objects.exists()


def test_reviews_list_and_next(api, learner, bank, django_capture_on_commit_callbacks):
    assert api.get("/api/v1/reviews").json() == {"due": 0, "due_later_today": 0, "cards": []}
    nothing = api.post("/api/v1/reviews/next", format="json")
    assert nothing.status_code == 409 and "No reviews are due" in nothing.json()["detail"]
    numeric = api.post("/api/v1/practice/items", {"kind": "self_attention", "difficulty": "easy"}, format="json").json()
    theory = theory_item(learner, "true_false")
    with django_capture_on_commit_callbacks(execute=True):
        key = PracticeItem.objects.get(id=numeric["id"]).variant.data["answer"]
        api.post(f"/api/v1/practice/items/{numeric['id']}/submissions", {"answer": key}, format="json")
        api.post(f"/api/v1/practice/items/{theory.id}/submissions",
                 {"answer": {"response": theory.question_version.data["answer"]}}, format="json")
    ReviewCard.objects.filter(kind="self_attention").update(due=timezone.now() - timedelta(days=3))
    ReviewCard.objects.filter(kind="").update(due=timezone.now() - timedelta(days=1))
    listed = api.get("/api/v1/reviews").json()
    assert listed["due"] == 2
    assert [c["subject"] for c in listed["cards"]] == ["kind", "question"]  # most overdue first
    assert listed["cards"][0]["kind"] == "self_attention" and listed["cards"][0]["difficulty"] == "easy"
    # The card names its question by an opaque id, never by its slug.
    assert listed["cards"][1]["question"] == opaque_id("question", theory.question_version.question_id)
    assert theory.question_version.question.slug not in json.dumps(listed)
    assert listed["cards"][0]["last_rating"] == 4  # right, first try, fast: Easy
    started = api.post("/api/v1/reviews/next", format="json")
    assert started.status_code == 201
    review = started.json()
    assert (review["purpose"], review["type"], review["kind"], review["difficulty"]) == ("review", "numeric", "self_attention", "easy")
    assert review["id"] != numeric["id"]
    again = api.post("/api/v1/reviews/next", format="json")
    assert again.status_code == 200 and again.json()["id"] == review["id"]  # one review per card


def test_other_learners_ids_are_404(api, learner, other_learner, bank, django_capture_on_commit_callbacks):
    item = theory_item(learner, "single_choice")
    with django_capture_on_commit_callbacks(execute=True):
        submission = api.post(
            f"/api/v1/practice/items/{item.id}/submissions", {"answer": answer_by_id(item, {"response": 0})}, format="json"
        ).json()
    theirs = login(other_learner)
    assert theirs.get(f"/api/v1/practice/items/{item.id}").status_code == 404
    assert theirs.post(f"/api/v1/practice/items/{item.id}/hints", {}, format="json").status_code == 404
    assert theirs.post(
        f"/api/v1/practice/items/{item.id}/submissions", {"answer": answer_by_id(item, {"response": 0})}, format="json"
    ).status_code == 404
    assert theirs.get(f"/api/v1/submissions/{submission['id']}").status_code == 404
    assert theirs.get("/api/v1/reviews").json()["due"] == 0
    assert PracticeItem.objects.get(id=item.id).hints_revealed == 0


def test_every_endpoint_is_in_the_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/token", "/api/v1/topics", "/api/v1/kinds", "/api/v1/practice/items",
        "/api/v1/practice/items/{item_id}", "/api/v1/practice/items/{item_id}/submissions",
        "/api/v1/practice/items/{item_id}/hints", "/api/v1/submissions/{submission_id}",
        "/api/v1/reviews", "/api/v1/reviews/next",
    ):
        assert path in paths, path
    create = paths["/api/v1/practice/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["$ref"].endswith("/PracticeItemRequest")
    request_fields = response.json()["components"]["schemas"]["PracticeItemRequest"]["properties"]
    assert {"kind", "difficulty", "topic"} <= set(request_fields)


# --- the key never leaks -------------------------------------------------------------------------------

KEY_FIELDS = {"answer", "answers", "steps", "verification", "weight", "feedback", "feedback_true",
              "feedback_false", "explanation", "pairs", "correct", "values", "other_feedback"}


def walk(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from walk(inner, f"{path}.{key}")
            yield path, key
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from walk(inner, f"{path}[{i}]")
    else:
        yield path, value


def shown_numbers(data) -> set[str]:
    """The numbers of a variant's public view (params, prompt, tolerances)."""
    return set(re.findall(r"\d[\d.]*", json.dumps(engine.public(data))))


def numeric_secrets(data) -> set[str]:
    """The key's and the worked steps' non-trivial numbers, as a response could spell them.

    Numbers the learner is shown anyway (params, prompt, each part's tolerance) are no secret,
    even when a key or the verification record happens to hold the same value.
    """
    given = shown_numbers(data)
    found = set()
    for _, value in walk([data["answer"], [s.get("values") for s in data["steps"]], data["verification"]]):
        if isinstance(value, float) and not value.is_integer() and len(repr(value)) >= 6:
            found |= {repr(value), f"{value:.4f}"}
        elif isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > 10:
            found.add(str(int(value)))
    return found - given


def theory_secrets(data) -> set[str]:
    """Texts only the key holds: explanation, feedback, accepted answers (not in the question)."""
    public = json.dumps({k: data.get(k) for k in ("prompt", "title", "choices", "items", "pairs", "distractors")})
    texts = {data["explanation"], data.get("feedback_true"), data.get("feedback_false"), data.get("other_feedback")}
    texts |= {c.get("feedback") for c in data.get("choices") or [] if c["weight"] > 0}
    for answer in data.get("answers") or []:
        texts.add(answer.get("feedback"))
        if "value" in answer and abs(float(answer["value"])) > 10:
            texts.add(str(answer["value"]))
        if answer.get("text") and answer["text"] not in public:
            texts.add(answer["text"])
    return {t.strip()[:60] for t in texts if t and len(t.strip()) >= 4}


def test_no_key_in_any_learner_response_before_grading(api, learner, bank):
    items = []
    for question_type in ("single_choice", "multiple_response", "true_false", "numeric", "short_answer",
                          "matching", "ordering"):
        item = theory_item(learner, question_type)
        items.append(item)
        api.get(f"/api/v1/practice/items/{item.id}")
    for kind in ("self_attention", "multihead_shapes", "model_params", "variance_scaling", "softmax_stability"):
        body = api.post("/api/v1/practice/items", {"kind": kind, "difficulty": "medium"}, format="json").json()
        items.append(PracticeItem.objects.get(id=body["id"]))
    for _ in range(3):
        body = api.post("/api/v1/practice/items", {"topic": "scaled-dot-product"}, format="json").json()
        items.append(PracticeItem.objects.get(id=body["id"]))
    struck_feedback = set()
    for item in items:
        for _ in range(12):  # every rung of every ladder
            ladder = api.post(f"/api/v1/practice/items/{item.id}/hints", {}, format="json").json()
        for hint in ladder["hints"]:
            if hint["title"] == "Not this one":
                struck_feedback.add(hint["text"])
        # Answers stay pending: the grading callbacks are never run in this test.
        answer = answer_by_id(item, {"response": 0}) if not item.is_numeric else {
            p["name"]: json.dumps([[0] * (p["shape"][1] if len(p["shape"]) > 1 else 1)] * p["shape"][0])
            if p["shape"] else "0"
            for p in item.variant.data["parts"]
        }
        submitted = api.post(f"/api/v1/practice/items/{item.id}/submissions", {"answer": answer}, format="json",
                             HTTP_IDEMPOTENCY_KEY=f"leak-{item.id}")
        if submitted.status_code == 202:
            api.get(f"/api/v1/submissions/{submitted.json()['id']}")
        api.get(f"/api/v1/practice/items/{item.id}")
    api.get("/api/v1/reviews")
    assert not Submission.objects.exclude(status="pending").exists()

    struck_choices = set()
    for item in items:
        if not item.is_numeric:
            for c in item.question_version.data.get("choices") or []:
                if any(c.get("feedback") and c["feedback"] in text for text in struck_feedback):
                    assert c["weight"] <= 0, "a hint struck out a right choice"
                    struck_choices.add(c["feedback"])
    secrets = {}
    for item in items:
        if item.is_numeric:
            # The ladder's last rung shows one intermediate value of the problem, on purpose
            # (learning.rules.value_hint; never the final answer: tests/domain/test_learning.py).
            shown_on_purpose = set(re.findall(r"\d[\d.]*", learning_rules.value_hint(item.variant.data) or ""))
            secrets[item.id] = numeric_secrets(item.variant.data) - shown_on_purpose
        else:
            secrets[item.id] = theory_secrets(item.question_version.data) - {s[:60] for s in struck_choices}
    # A number any item shows publicly (a tolerance such as 0.0001) is no leak in another's body.
    shown = set().union(*(shown_numbers(i.variant.data) for i in items if i.is_numeric))
    everything = {s for values in secrets.values() for s in values if len(s) >= 6} - shown
    assert len(api.bodies) > 60
    for url, body in api.bodies:
        if not body or url == "/api/v1/auth/token":
            continue
        parsed = json.loads(body)
        for path, leaf in walk(parsed):
            if leaf == "weight" and re.search(r"(^|\.)parts\[\d+\]$", path):
                continue  # a numeric part's share of the score (`Part.weight`) is public, unlike a choice's
            assert leaf not in KEY_FIELDS, (url, leaf)
        # Each body is checked against the secrets of the item it is about (a small number of one
        # item's key may well appear in another item's prompt), and every body against long ones.
        about = re.search(r"/practice/items/(\d+)", url)
        if about:
            item_id = int(about.group(1))
        elif isinstance(parsed, dict):
            item_id = parsed.get("item") or parsed.get("id")  # a submission, or a new item
        else:
            item_id = None
        for secret in secrets.get(item_id, set()) | everything:
            assert not re.search(rf"(?<![\w.]){re.escape(secret)}(?![\w])", body), (url, secret)
