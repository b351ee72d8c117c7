"""A matching or ordering question's shuffle cannot be replayed from the item's public id: it was
`random.Random(item.id)`, and inverting that permutation gave the key for 8 of 8 items."""

import random

import pytest
from django.test import override_settings

from questions.catalogue.services import question_version_save, topic_upsert
from questions.practice.models import PracticeItem
from quizsite.disclosure import item_view

pytestmark = pytest.mark.django_db

ORDER = [f"step {i}" for i in range(1, 9)]


@pytest.fixture
def ordering_items(learner):
    topic = topic_upsert(slug="t", title="T")
    version, _ = question_version_save(topic=topic, data={
        "slug": "order-me", "type": "ordering", "difficulty": "easy", "title": "Order", "prompt": "Order.",
        "explanation": "E.", "source": "S.", "items": ORDER,
    })
    return [PracticeItem.objects.create(learner=learner, question_version=version) for _ in range(8)]


def _replayed(item_id: int) -> list[str]:
    items = list(ORDER)
    rng = random.Random(item_id)
    for _ in range(10):
        rng.shuffle(items)
        if items != ORDER:
            break
    return items


def test_the_shown_order_is_not_the_one_the_public_id_replays(ordering_items):
    shown = [item_view(item)["items"] for item in ordering_items]
    assert all(sorted(s) == sorted(ORDER) and s != ORDER for s in shown)
    assert sum(s == _replayed(item.id) for s, item in zip(shown, ordering_items, strict=True)) == 0


def test_the_order_is_stable_for_an_item_and_changes_with_the_secret_key(ordering_items):
    item = ordering_items[0]
    first = item_view(item)["items"]
    assert item_view(item)["items"] == first  # a reload shows the same order
    others = []
    for n in range(5):
        with override_settings(SECRET_KEY=f"another-secret-{n}-0123456789abcdefghijklmnopqrstuvwxyz"):
            others.append(item_view(item)["items"])
    assert any(o != first for o in others)
