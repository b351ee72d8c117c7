"""With Redis away (a restart), throttled writes and /healthz answer as usual instead of a 500:
the cache (rate counters, health checks) forgives a missing Redis (quizsite/cache.py). Found by
`make bench-stack`: 4 to 8 answers and item requests per Redis restart were a 500."""

import pytest
from django.core.cache import caches
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

AWAY = {
    "default": {
        "BACKEND": "quizsite.cache.ForgivingRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@override_settings(CACHES=AWAY)
def test_throttled_writes_and_healthz_work_while_redis_is_away(learner, numeric_item):
    cache = caches["default"]
    assert cache.get("anything", "missed") == "missed" and cache.set("k", 1) is None
    api = APIClient()
    api.force_authenticate(learner)
    made = api.post("/api/v1/practice/items", {"kind": "mha_params", "difficulty": "easy"}, format="json")
    assert made.status_code == 201
    sent = api.post(f"/api/v1/practice/items/{numeric_item.id}/submissions",
                    {"answer": numeric_item.variant.data["answer"]}, format="json")
    assert sent.status_code in (201, 202)
    from django.test import Client

    page = Client()
    page.force_login(learner)
    assert page.post("/practice/new", {"kind": "mha_params", "difficulty": "easy"}).status_code == 302
    assert page.get("/healthz").status_code == 200


def test_djangos_own_redis_cache_would_have_raised():
    """The control: the same settings on Django's RedisCache raise into the view."""
    from redis.exceptions import ConnectionError

    with override_settings(CACHES={"default": {**AWAY["default"], "BACKEND": "django.core.cache.backends.redis.RedisCache"}}):
        with pytest.raises(ConnectionError):
            caches["default"].get("anything")
