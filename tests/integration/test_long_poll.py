"""A waiting page gets its result the moment the grade is stored (issue #12): `?wait=N` holds the
request on a Redis subscription that grading announces on after its commit; the number of
waiting requests per process is capped; bad values are a 400."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from questions.practice import jobs as practice_jobs
from questions.practice import notify
from questions.practice.models import Submission
from tests.conftest import wait_for

pytestmark = pytest.mark.services


def pending_submission(item, learner) -> Submission:
    return Submission.objects.create(
        item=item, learner=learner, answer=item.variant.data["answer"], enqueued_at=timezone.now()
    )


def test_a_waiting_request_answers_when_the_grade_is_stored(postgres, redis_client, learner, numeric_item, monkeypatch):
    # Only the announcement can end the wait early: the fallback re-read is pushed past the wait.
    monkeypatch.setattr(notify, "RECHECK_SECONDS", 60.0)
    submission = pending_submission(numeric_item, learner)
    client = Client()
    client.force_login(learner)
    answers = {}

    def wait(path):
        try:
            answers[path] = client.get(path)
        finally:
            connections.close_all()

    paths = [f"/api/v1/submissions/{submission.id}?wait=10", f"/practice/submissions/{submission.id}/result?wait=10"]
    waiters = [threading.Thread(target=wait, args=(path,)) for path in paths]
    for waiter in waiters:
        waiter.start()
    channel = f"quizsite:graded:{submission.id}"
    wait_for(lambda: redis_client.pubsub_numsub(channel)[0][1] == 2, timeout=10, what="both requests to wait")
    assert all(w.is_alive() for w in waiters) and answers == {}  # still pending: they wait

    practice_jobs.submission_grade(submission_id=submission.id)  # commits, then announces
    for waiter in waiters:
        waiter.join(timeout=5)  # well inside the 10 s wait: only the announcement ends it
    assert not any(w.is_alive() for w in waiters)
    api, page = (answers[p] for p in paths)
    assert api.status_code == 200 and api.json()["status"] == "graded" and api.json()["score"] == 1.0
    assert page.status_code == 200 and b"pending" not in page.content


def test_a_wait_that_runs_out_answers_pending(postgres, redis_client, learner, numeric_item, settings):
    settings.LONG_POLL_SECONDS = 1
    submission = pending_submission(numeric_item, learner)
    client = Client()
    client.force_login(learner)
    assert client.get(f"/api/v1/submissions/{submission.id}?wait=1").json()["status"] == "pending"
    assert client.get(f"/practice/submissions/{submission.id}/result?wait=1").status_code == 202


def test_beyond_the_waiters_cap_a_request_answers_at_once(postgres, redis_client, learner, numeric_item, monkeypatch):
    submission = pending_submission(numeric_item, learner)
    monkeypatch.setattr(notify, "_waiters", threading.BoundedSemaphore(1))
    assert notify._waiters.acquire(blocking=False)  # the one place is taken

    def no_subscription():
        raise AssertionError("a request over the cap must not wait")

    monkeypatch.setattr(notify, "_redis", no_subscription)
    client = Client()
    client.force_login(learner)
    assert client.get(f"/api/v1/submissions/{submission.id}?wait=10").json()["status"] == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["-1", "x", "1e9", "٣"])
def test_a_bad_wait_is_a_400(client, learner, numeric_item, value):
    submission = Submission.objects.create(item=numeric_item, learner=learner, answer={}, enqueued_at=timezone.now() - timedelta(seconds=1))
    client.force_login(learner)
    assert client.get(f"/api/v1/submissions/{submission.id}?wait={value}").status_code == 400
    assert client.get(f"/practice/submissions/{submission.id}/result?wait={value}").status_code == 400


def test_a_wait_longer_than_the_setting_is_cut_to_it(settings):
    from quizsite.presenters import wait_seconds

    settings.LONG_POLL_SECONDS = 5
    assert wait_seconds("10") == 5 and wait_seconds("3") == 3 and wait_seconds("") == 0
