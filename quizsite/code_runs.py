"""Which code item's examples a learner may run now ("Run examples", pages and API alike)."""

from __future__ import annotations

from questions.courses import selectors as courses_selectors
from questions.learning import selectors as learning_selectors
from questions.practice import selectors as practice_selectors
from questions.practice.models import PracticeItem, Purpose


def runnable_code_item(*, learner, item_id: int) -> PracticeItem:
    """The learner's code item whose examples may be run now: 404 for another learner's item or
    one that is not code, 403 while a practice question is withheld for a quiz, 409 once its quiz
    attempt or mock interview is over (nothing of the key is at stake, but the code worker's time
    is spent only where the learner may still answer)."""
    item = practice_selectors.code_item_for_learner(learner=learner, item_id=item_id)
    if item.purpose == Purpose.QUIZ:
        courses_selectors.require_quiz_item_open(item=item)
    elif item.purpose == Purpose.MOCK:
        learning_selectors.require_mock_item_open(item=item)
    return item
