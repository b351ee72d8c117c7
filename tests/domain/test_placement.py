"""The placement (issue #13, "a first visit with a path"): its rules (the level a question's
answer sets, which topics and forms it asks), its services (six questions over six topics, a
second start resumes, skip recorded) and its effect: topic practice and runs start each topic at
the level found, and a learner without one starts at easy, never hard."""

import random

import pytest

from questions.catalogue.models import QuestionVersion
from questions.learning import rules
from questions.learning import selectors as learning_selectors
from questions.learning import services as learning_services
from questions.learning.models import LearnerProfile
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem, Submission
from questions.practice.rules import kinds_by_name

pytestmark = pytest.mark.django_db


def level_of(item: PracticeItem) -> str:
    return item.variant.difficulty if item.variant_id else item.question_version.data["difficulty"]


def numeric_wrong(item: PracticeItem) -> dict:
    """A readable, wrong answer to a numeric problem: 987 in every cell (no key holds it)."""
    answer = {}
    for part in item.variant.data["parts"]:
        shape = part.get("shape") or []
        if not shape:
            answer[part["name"]] = 987
        elif len(shape) == 1:
            answer[part["name"]] = [987] * shape[0]
        else:
            answer[part["name"]] = [[987] * shape[1] for _ in range(shape[0])]
    return answer


def submit(item: PracticeItem, answer: dict, capture) -> Submission:
    with capture(execute=True):
        created = practice_services.submission_create(learner=item.learner, item=item, answer=answer)
    return Submission.objects.get(id=created.submission.id)


def placement_items(learner) -> list[PracticeItem]:
    profile = LearnerProfile.objects.get(user=learner)
    ids = [e["item"] for e in profile.placement_items]
    items = PracticeItem.objects.select_related("variant", "question_version__question__topic").in_bulk(ids)
    return [items[i] for i in ids]


# --- Rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("asked", "score", "start"), [
    ("easy", None, "easy"),      # skipped, or not graded yet
    ("medium", 0.0, "easy"),     # wrong
    ("medium", 0.4, "easy"),     # less than half right
    ("medium", 0.5, "medium"),   # half right keeps the question's level
    ("easy", 1.0, "medium"),     # right on easy
    ("medium", 1.0, "hard"),     # right on medium
    ("hard", 1.0, "hard"),       # nothing above hard
])
def test_the_level_a_placement_answer_sets(asked, score, start):
    assert rules.starting_level(asked=asked, score=score) == start


def test_the_placement_length_is_a_constant_within_its_bounds():
    assert 5 <= rules.PLACEMENT_LENGTH <= 8 and rules.PLACEMENT_LENGTH <= rules.PLACEMENT_MAX_ITEMS
    assert {form for form, _ in rules.PLACEMENT_SLOTS} == {"theory", "numeric"}
    assert {level for _, level in rules.PLACEMENT_SLOTS} == {"easy", "medium"}


def test_placement_topics_spread_over_the_bank_and_are_distinct():
    slugs = [f"t{i}" for i in range(12)]
    chosen = rules.placement_topics(slugs, 6)
    assert len(set(chosen)) == 6 and chosen[0] == "t0" and chosen[-1] == "t11"
    assert chosen == sorted(chosen, key=slugs.index)
    assert rules.placement_topics(slugs[:4], 6) == slugs[:4]


def test_the_plan_follows_the_slots_and_falls_back_to_what_a_topic_has():
    rng = random.Random(0)
    offers = [
        ("a", {"easy", "medium"}, ["k1"]),  # slot 1: theory easy
        ("b", {"easy"}, ["k2"]),            # slot 2: numeric easy
        ("c", {"easy"}, []),                # slot 3: theory medium -> its easy question
        ("d", {"medium"}, []),              # slot 4: numeric medium, no kind -> theory medium
        ("e", set(), ["k5"]),               # slot 5: theory easy, no theory -> numeric easy
        ("f", set(), []),                   # nothing to ask: left out
    ]
    plan = rules.placement_plan(offers, rng)
    assert [(s.topic, s.form, s.difficulty, s.kind) for s in plan] == [
        ("a", "theory", "easy", ""), ("b", "numeric", "easy", "k2"), ("c", "theory", "easy", ""),
        ("d", "theory", "medium", ""), ("e", "numeric", "easy", "k5"),
    ]


def test_when_the_home_offers_the_placement():
    offer = rules.placement_offer
    assert offer(answered_before=False, started=False, finished=False, skipped=False) == "start"
    assert offer(answered_before=True, started=False, finished=False, skipped=False) is None
    assert offer(answered_before=False, started=False, finished=False, skipped=True) is None
    assert offer(answered_before=True, started=True, finished=False, skipped=False) == "resume"
    assert offer(answered_before=True, started=True, finished=True, skipped=False) is None


def test_a_placement_run_numbers_its_questions_in_its_own_order():
    run = {"order": [7, 3, 9], "served": [3], "length": 3}
    assert rules.run_next_drawn(run) == 7
    assert rules.run_position(run, 9) == 3 and rules.run_position(run, 4) is None
    assert rules.run_next_drawn({**run, "served": [7, 3, 9]}) is None


# --- Services ---------------------------------------------------------------------------------


def test_the_placement_draws_six_questions_over_six_topics_mixing_forms_and_levels(learner, bank):
    started = learning_services.placement_start(learner=learner)
    assert started.created
    items = placement_items(learner)
    assert len(items) == rules.PLACEMENT_LENGTH == 6
    topics = [e["topic"] for e in started.profile.placement_items]
    assert len(set(topics)) == 6
    assert {level_of(i) for i in items} == {"easy", "medium"}
    assert any(i.variant_id for i in items) and any(i.question_version_id for i in items)
    assert not any(i.is_code for i in items)  # a placement asks no code exercise
    for item, topic in zip(items, topics, strict=True):
        if item.question_version_id:
            assert item.question_version.question.topic.slug == topic
        else:
            assert topic in kinds_by_name()[item.variant.kind]["topics"]
    assert PracticeItem.objects.filter(learner=learner).count() == 6  # drew nothing else


def test_starting_twice_resumes_the_open_placement_without_drawing(learner, bank):
    first = learning_services.placement_start(learner=learner)
    again = learning_services.placement_start(learner=learner)
    assert not again.created
    assert again.profile.placement_items == first.profile.placement_items
    assert PracticeItem.objects.filter(learner=learner).count() == len(first.profile.placement_items)
    # Once finished, a new start replaces it with new questions.
    learning_services.placement_finish(learner=learner)
    learning_services.placement_finish(learner=learner)  # idempotent
    third = learning_services.placement_start(learner=learner)
    assert third.created and third.profile.placement_finished_at is None
    assert not {e["item"] for e in third.profile.placement_items} & {e["item"] for e in first.profile.placement_items}


def test_skip_is_recorded_once_and_stops_the_offer(learner, bank):
    assert learning_selectors.placement_offer_for(learner=learner) == "start"
    profile = learning_services.placement_skip(learner=learner)
    skipped_at = profile.placement_skipped_at
    assert skipped_at is not None
    assert learning_services.placement_skip(learner=learner).placement_skipped_at == skipped_at
    assert learning_selectors.placement_offer_for(learner=learner) is None
    assert PracticeItem.objects.filter(learner=learner).count() == 0  # skipping draws nothing


def test_a_learner_with_an_answer_is_not_offered_it(learner, bank, django_capture_on_commit_callbacks):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    submit(item, numeric_wrong(item), django_capture_on_commit_callbacks)
    assert learning_selectors.placement_offer_for(learner=learner) is None


def test_answers_set_each_topics_start_and_topic_practice_uses_it(learner, bank, django_capture_on_commit_callbacks):
    learning_services.placement_start(learner=learner)
    items = placement_items(learner)
    topics = [e["topic"] for e in LearnerProfile.objects.get(user=learner).placement_items]
    numeric = [(i, t) for i, t in zip(items, topics, strict=True) if i.variant_id]
    assert len(numeric) >= 2
    (right, right_topic), (wrong, wrong_topic) = numeric[-1], numeric[0]
    assert submit(right, right.variant.data["answer"], django_capture_on_commit_callbacks).score == 1
    assert submit(wrong, numeric_wrong(wrong), django_capture_on_commit_callbacks).score < rules.PASS_SCORE
    expected = rules.LEVELS[rules.LEVELS.index(right.variant.difficulty) + 1]
    levels = learning_selectors.topic_start_difficulties(learner=learner)
    assert levels[right_topic] == expected and levels[wrong_topic] == "easy"
    # Unanswered placement topics, and topics it did not ask about, start at easy.
    assert set(levels.values()) <= {"easy", expected}

    # A retry after seeing the result does not raise the level: the first answer counts.
    submit(wrong, wrong.variant.data["answer"], django_capture_on_commit_callbacks)
    assert learning_selectors.topic_start_difficulty(learner=learner, topic_slug=wrong_topic) == "easy"

    # Topic practice draws the topic's problems at the level found.
    served = [learning_services.practice_item_create_at_level(learner=learner, topic_slug=right_topic)
              for _ in range(3)]
    drawn_numeric = [i for i in served if i.variant_id]
    assert drawn_numeric and all(i.variant.difficulty == expected for i in drawn_numeric)
    drawn_theory = [i for i in served if i.question_version_id]
    topic_levels = set(QuestionVersion.objects.filter(question__topic__slug=right_topic, status="published")
                       .values_list("data__difficulty", flat=True))
    assert drawn_theory and (level_of(drawn_theory[0]) == expected or expected not in topic_levels)

    # And so do practice runs (round robin over the chosen topics, at each one's level).
    run_item = learning_services.practice_item_create_for_topics(learner=learner, topic_slugs=[wrong_topic], turn=0)
    assert level_of(run_item) == "easy"


def test_a_learner_without_placement_starts_easy_and_meets_hard_last(learner, bank):
    """self-attention-vs-rnn: 3 easy, 3 medium and 1 hard theory questions, no problem kind."""
    topic = "self-attention-vs-rnn"
    counts = {lv: QuestionVersion.objects.filter(question__topic__slug=topic, status="published",
                                                 data__difficulty=lv).count() for lv in rules.LEVELS}
    assert counts["hard"] >= 1 and counts["easy"] >= 1
    served = [learning_services.practice_item_create_at_level(learner=learner, topic_slug=topic)
              for _ in range(counts["easy"] + counts["medium"] + 1)]
    levels = [level_of(i) for i in served]
    assert levels == ["easy"] * counts["easy"] + ["medium"] * counts["medium"] + ["hard"]


def test_a_new_learners_topic_problems_are_easy(learner, bank):
    """The topic page's route and the practice service's default: easy, never medium or hard."""
    first = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="bert-vs-gpt")
    second = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="bert-vs-gpt")
    assert level_of(first) == "easy" and second.variant_id and second.variant.difficulty == "easy"
    with pytest.raises(Exception, match="Unknown difficulty"):
        practice_services.practice_item_create_for_topic(learner=learner, topic_slug="bert-vs-gpt", difficulty="x")
