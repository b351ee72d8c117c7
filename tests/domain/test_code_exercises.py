"""Code exercises in the product: listed, served without their solution, graded only by the code
worker's tasks in the sandbox, with per-test results; "Run examples" stores nothing."""

import json
from unittest import mock

import pytest
from django.conf import settings

from attention_engine import api as engine
from attention_engine.code.sandbox import SandboxUnavailable
from questions.errors import AnswerFormatError
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice import tasks as practice_tasks
from questions.practice.models import Submission

pytestmark = pytest.mark.django_db

# No scaling by 1/sqrt(d_k): a catalogued mistake of this kind.
UNSCALED = """import numpy as np

def attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    weights = np.nan_to_num(weights)
    return weights @ V, weights
"""


@pytest.fixture
def code_item(learner):
    return practice_services.practice_item_create_numeric(learner=learner, kind="code_attention_numpy", difficulty="easy")


def solution(item) -> str:
    return item.variant.data["answer"]["code"]


def submit(client, item, code, capture):
    with capture(execute=True):
        response = client.post(f"/api/v1/practice/items/{item.id}/submissions", {"answer": {"code": code}}, format="json")
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/submissions/{response.json()['id']}").json()


def test_every_kind_says_how_it_is_answered(learner, client_for):
    kinds = client_for(learner).get("/api/v1/kinds").json()
    types = {k["name"]: k["answer_type"] for k in kinds}
    assert set(types.values()) == {"numeric", "code"}
    assert types["self_attention"] == "numeric"
    code = [k for k in kinds if k["answer_type"] == "code"]
    assert {k["name"] for k in code} >= {
        "code_attention_numpy", "code_attention_torch", "code_causal_attention", "code_padding_attention",
        "code_stable_softmax", "code_mha_module", "code_cross_attention", "code_kv_cache_step",
        "code_sinusoidal_positions", "code_rope"}
    assert all(k["framework"] in ("numpy", "torch") for k in code)


def test_code_kinds_belong_to_topics_of_the_bank(bank):
    """Topic practice and mock interviews find code kinds by the bank's topic slugs."""
    from questions.catalogue.models import Topic
    from questions.practice.rules import kinds_by_topic

    slugs = set(Topic.objects.values_list("slug", flat=True))
    for kind in (k for k in engine.list_kinds() if k["answer_type"] == "code"):
        assert slugs & set(kind["topics"]), f"{kind['name']} is in no topic of the bank: {kind['topics']}"
    assert "code_rope" in kinds_by_topic()["positional-encodings"]


def test_a_code_item_has_its_task_and_examples_never_its_solution(learner, client_for, code_item):
    body = client_for(learner).get(f"/api/v1/practice/items/{code_item.id}").json()
    stored = code_item.variant.data
    assert body["type"] == "code"
    assert body["entry_point"] == "attention" and body["starter_code"] == stored["starter_code"]
    assert body["signature"] == stored["signature"] and "attention(Q, K, V" in body["signature"]
    assert [e["name"] for e in body["examples"]] == [e["name"] for e in stored["examples"]]
    assert body["examples"][0]["expected"] == stored["examples"][0]["expected"]
    # The arguments in the signature's order, whatever order the database keeps the keys in.
    assert [n for n in body["examples"][1]["inputs"]] == [n for n in ("Q", "K", "V", "mask")
                                                         if n in stored["examples"][1]["inputs"]]
    assert [t["name"] for t in body["hidden_tests"]] == [t["name"] for t in stored["hidden_tests"]]
    text = json.dumps(body)
    assert "answer" not in body and "verification" not in body
    assert stored["answer"]["code"] not in text
    hidden = stored["answer"]["tests"][len(stored["examples"]):]
    assert hidden and all(json.dumps(t["expected"]) not in text and json.dumps(t["inputs"]) not in text for t in hidden)


def test_the_model_solution_scores_full_marks_with_a_result_per_test(
    sandboxed, learner, client_for, code_item, django_capture_on_commit_callbacks
):
    result = submit(client_for(learner), code_item, solution(code_item), django_capture_on_commit_callbacks)
    tests = code_item.variant.data["answer"]["tests"]
    assert result["status"] == "graded" and result["score"] == 1.0
    assert [t["name"] for t in result["tests"]] == [t["name"] for t in tests]
    assert all(t["passed"] and t["message"] for t in result["tests"])
    assert [t["hidden"] for t in result["tests"]] == [i >= len(code_item.variant.data["examples"]) for i in range(len(tests))]
    assert result["misconception"] is None and result["tests_passed"] == len(tests)
    assert result["solution_code"] == solution(code_item)  # practice shows it once graded


def test_a_catalogued_mistake_is_named(sandboxed, learner, client_for, code_item, django_capture_on_commit_callbacks):
    result = submit(client_for(learner), code_item, UNSCALED, django_capture_on_commit_callbacks)
    assert result["status"] == "graded" and result["score"] < 1.0
    assert result["misconception"] == "no_scaling", result
    assert "sqrt" in result["misconception_message"]
    failed = [t for t in result["tests"] if not t["passed"]]
    assert failed and all("largest error" in t["message"] for t in failed)


def test_a_syntax_error_is_graded_zero_with_its_line(sandboxed, learner, client_for, code_item,
                                                      django_capture_on_commit_callbacks):
    result = submit(client_for(learner), code_item, "def attention(Q, K, V, mask=None):\n    return (Q,\n",
                    django_capture_on_commit_callbacks)
    assert result["status"] == "graded" and result["score"] == 0.0
    assert result["error"]["status"] == "syntax_error" and result["error"]["line"] in (2, 3)
    assert "syntax error" in result["feedback"]


@pytest.mark.parametrize("answer, message", [
    ({"code": "   \n"}, "No code given"),
    ({"code": 5}, "Send the code as text"),
    ({"code": "x = 1", "weights": [[1]]}, "no part"),
    ({"code": "#" * 20_001}, "longer than 20,000 bytes"),
])
def test_unusable_code_answers_are_refused_and_nothing_is_stored(learner, code_item, answer, message):
    with pytest.raises(AnswerFormatError) as refused:
        practice_services.submission_create(learner=learner, item=code_item, answer=answer)
    assert message in json.dumps(refused.value.details)
    assert not Submission.objects.exists()


def test_run_examples_runs_only_the_examples_and_stores_nothing(sandboxed, learner, client_for, code_item):
    client = client_for(learner)
    response = client.post(f"/api/v1/practice/items/{code_item.id}/run", {"code": UNSCALED}, format="json")
    assert response.status_code == 200, response.content
    run = response.json()
    assert [t["name"] for t in run["tests"]] == [e["name"] for e in code_item.variant.data["examples"]]
    assert not any(t["hidden"] for t in run["tests"])
    assert run["score"] < 1.0 and any(not t["passed"] for t in run["tests"])
    # The examples alone may not tell this mistake from every other (the vetting holds for all
    # the tests, which Submit runs); when they name one, it is this one.
    assert run["misconception"] in (None, "no_scaling")
    printed = client.post(f"/api/v1/practice/items/{code_item.id}/run",
                          {"code": solution(code_item) + "\nprint('hello from the sandbox')\n"}, format="json").json()
    assert printed["score"] == 1.0 and "hello from the sandbox" in printed["output"]
    assert not Submission.objects.exists()


def test_run_examples_refuses_other_learners_and_numeric_items(learner, other_learner, client_for, code_item, numeric_item):
    assert client_for(other_learner).post(f"/api/v1/practice/items/{code_item.id}/run", {"code": "x = 1"},
                                          format="json").status_code == 404
    assert client_for(learner).post(f"/api/v1/practice/items/{numeric_item.id}/run", {"code": "x = 1"},
                                    format="json").status_code == 404
    empty = client_for(learner).post(f"/api/v1/practice/items/{code_item.id}/run", {"code": ""}, format="json")
    assert empty.status_code == 400 and "No code given" in empty.content.decode()


def test_code_runs_only_on_the_code_queue():
    routes = settings.CELERY_TASK_ROUTES
    assert routes["questions.tasks.grade_code_submission"] == {"queue": settings.CODE_QUEUE}
    assert routes["questions.tasks.run_code_examples"] == {"queue": settings.CODE_QUEUE}
    assert settings.CODE_QUEUE not in (settings.GRADING_QUEUE, settings.BULK_QUEUE)
    assert settings.CODE_QUEUE in settings.HEALTH_EXPECTED_QUEUES


def test_a_code_answer_is_enqueued_for_the_code_worker(learner, code_item, django_capture_on_commit_callbacks):
    with mock.patch.object(practice_tasks.grade_code_submission, "delay") as code_task, \
            mock.patch.object(practice_tasks.grade_submission, "delay") as grading_task, \
            django_capture_on_commit_callbacks(execute=True):
        created = practice_services.submission_create(learner=learner, item=code_item, answer={"code": "x = 1"})
    code_task.assert_called_once_with(created.submission.id)
    grading_task.assert_not_called()


def test_the_grading_worker_never_runs_code(learner, code_item):
    """The grading worker's task forwards a code answer (a message from before the code queue, a
    misrouted one) and its job refuses one; neither runs the sandbox."""
    submission = Submission.objects.create(item=code_item, learner=learner, answer={"code": "x = 1"})
    with mock.patch.object(engine, "grade_code", side_effect=AssertionError("ran code")), \
            mock.patch.object(practice_tasks.grade_code_submission, "delay") as forwarded:
        assert practice_tasks.grade_submission.run(submission.id) == "sent to the code worker"
        with pytest.raises(ValueError, match="code worker"):
            practice_jobs.submission_grade(submission_id=submission.id)
        assert practice_jobs.submissions_grade(submission_ids=[submission.id]) == {submission.id: "failed"}
    forwarded.assert_called_once_with(submission.id)
    assert Submission.objects.get(id=submission.id).status == "pending"
    with pytest.raises(ValueError, match="code kind"):
        engine.grade(code_item.variant.data, {"code": "x = 1"})


def test_the_sweep_sends_stale_code_answers_to_the_code_worker(learner, code_item, numeric_item,
                                                               django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(minutes=10)
    code = [Submission.objects.create(item=code_item, learner=learner, answer={"code": "x = 1"},
                                      enqueued_at=long_ago, enqueue_count=1) for _ in range(2)]
    numbers = [Submission.objects.create(item=numeric_item, learner=learner, answer={}, enqueued_at=long_ago,
                                         enqueue_count=1) for _ in range(2)]
    with mock.patch.object(practice_tasks.grade_code_submission, "delay") as code_task, \
            mock.patch.object(practice_tasks.grade_submissions, "delay") as burst, \
            django_capture_on_commit_callbacks(execute=True):
        swept = practice_tasks.submissions_sweep()
    assert sorted(swept) == sorted(s.id for s in code + numbers)
    assert sorted(c.args[0] for c in code_task.call_args_list) == sorted(s.id for s in code)
    burst.assert_called_once_with(sorted(s.id for s in numbers))


def test_without_a_sandbox_the_code_is_not_run_and_the_learner_is_told(learner, code_item):
    submission = Submission.objects.create(item=code_item, learner=learner, answer={"code": solution(code_item)})
    with mock.patch("attention_engine.code.sandbox._check_setup",
                    side_effect=SandboxUnavailable("bubblewrap (bwrap) is not installed")):
        graded = practice_jobs.code_submission_grade(submission_id=submission.id)
        run = practice_jobs.code_examples_grade(item_id=code_item.id, code=solution(code_item))
    assert graded.status == Submission.Status.INVALID and graded.score is None  # costs no attempt
    message = graded.result["format_errors"][0]["message"]
    assert "was not run" in message and "bubblewrap" in message
    assert "was not run" in run["format_errors"][0]["message"] and run["tests"] == []


def test_a_code_answer_is_graded_once(sandboxed, learner, code_item):
    submission = Submission.objects.create(item=code_item, learner=learner, answer={"code": solution(code_item)})
    first = practice_jobs.code_submission_grade(submission_id=submission.id)
    with mock.patch.object(engine, "grade_code", side_effect=AssertionError("graded twice")):
        again = practice_jobs.code_submission_grade(submission_id=submission.id)
    assert first.status == again.status == "graded" and again.graded_at == first.graded_at


def test_a_graded_code_answer_rates_a_review_card_that_serves_a_fresh_exercise(sandboxed, learner, code_item):
    from datetime import timedelta

    from django.utils import timezone

    from questions.learning import services as learning_services
    from questions.learning.models import ReviewCard

    submission = Submission.objects.create(item=code_item, learner=learner, answer={"code": UNSCALED})
    practice_jobs.code_submission_grade(submission_id=submission.id)
    card = ReviewCard.objects.get(learner=learner, kind="code_attention_numpy")
    assert card.last_rating == 1  # wrong: Again
    ReviewCard.objects.filter(id=card.id).update(due=timezone.now() - timedelta(minutes=1))
    started = learning_services.review_item_next(learner=learner)
    assert started.item.is_code and started.item.variant.kind == "code_attention_numpy"
    assert started.item.id != code_item.id and started.item.purpose == "review"


def test_a_run_still_going_is_awaited_again_not_sent_again(learner, code_item, settings):
    """After a 202 the page sends the same code again: it waits for the run already on the code
    worker instead of queueing another; a failed run is not awaited again."""
    from celery.exceptions import TimeoutError as CeleryTimeoutError
    from django.core.cache import cache

    from questions.errors import Preparing, ServiceUnavailable

    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.clear()
    running = mock.Mock(id="run-1")
    running.get.side_effect = CeleryTimeoutError()
    again = mock.Mock(id="run-1")
    again.get.return_value = {"score": 1.0, "tests": []}
    with mock.patch.object(practice_tasks.run_code_examples, "delay", return_value=running) as sent, \
            mock.patch.object(practice_tasks.run_code_examples, "AsyncResult", return_value=again) as awaited:
        with pytest.raises(Preparing):
            practice_services.code_examples_run(learner=learner, item=code_item, answer={"code": "x = 1"})
        assert practice_services.code_examples_run(learner=learner, item=code_item, answer={"code": "x = 1"}) \
            == {"score": 1.0, "tests": []}
        sent.assert_called_once_with(item_id=code_item.id, code="x = 1")
        awaited.assert_called_once_with("run-1")
        # Other code is another run; a run that failed is forgotten.
        failed = mock.Mock(id="run-2")
        failed.get.side_effect = RuntimeError("worker lost")
        sent.return_value = failed
        with pytest.raises(ServiceUnavailable):
            practice_services.code_examples_run(learner=learner, item=code_item, answer={"code": "x = 2"})
        assert sent.call_count == 2
        with pytest.raises(ServiceUnavailable):
            practice_services.code_examples_run(learner=learner, item=code_item, answer={"code": "x = 2"})
        assert sent.call_count == 3


def test_hidden_tests_never_say_what_the_code_raised_with_their_inputs(sandboxed, learner, code_item):
    """Code that raises with its arguments in the message would carry the hidden inputs out: a
    hidden test's message keeps the exception's type only (the examples' inputs are shown anyway)."""
    leaky = "import numpy as np\n\ndef attention(Q, K, V, mask=None):\n    raise ValueError(repr(np.asarray(Q).round(4).tolist()))\n"
    submission = Submission.objects.create(item=code_item, learner=learner, answer={"code": leaky})
    result = practice_jobs.code_submission_grade(submission_id=submission.id).result
    hidden = [t for t in result["tests"] if t["hidden"]]
    shown = [t for t in result["tests"] if not t["hidden"]]
    assert hidden and all(t["message"].startswith("raised ValueError") and "[" not in t["message"] for t in hidden)
    assert all("[[" in t["message"] for t in shown)  # an example's own message, as raised


@pytest.mark.parametrize("answer", [{"code": "def attention(Q, K, V, mask=None):\x00\n    pass"},
                                    {"code": "x = 1", "note": "a\x00b"}])
def test_a_nul_character_is_refused_not_a_500(learner, client_for, code_item, answer):
    response = client_for(learner).post(f"/api/v1/practice/items/{code_item.id}/submissions", {"answer": answer},
                                        format="json")
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_code_answer_still_running_is_not_sent_again(learner, code_item, numeric_item):
    """A code answer may run for seconds: the sweep sends it again only after its task's time
    limit, while a numeric answer is sent again after SUBMISSION_STALE_SECONDS."""
    from datetime import timedelta

    from django.utils import timezone

    half_a_minute_ago = timezone.now() - timedelta(seconds=30)
    code = Submission.objects.create(item=code_item, learner=learner, answer={"code": "x = 1"},
                                     enqueued_at=half_a_minute_ago, enqueue_count=1)
    number = Submission.objects.create(item=numeric_item, learner=learner, answer={},
                                       enqueued_at=half_a_minute_ago, enqueue_count=1)
    assert practice_jobs.submissions_mark_stale() == [number.id]
    Submission.objects.filter(id=code.id).update(enqueued_at=timezone.now() - timedelta(
        seconds=settings.CODE_SUBMISSION_STALE_SECONDS + 1))
    assert practice_jobs.submissions_mark_stale() == [code.id]
