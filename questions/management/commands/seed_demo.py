"""Demo data for the embedded run mode: a learner, an instructor with a course and an open quiz
the learner has joined, and a stock of numeric problems."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from questions.catalogue.models import QuestionVersion
from questions.courses import services as courses_services
from questions.courses.models import Course
from questions.courses.rules import SectionSpec
from questions.practice import jobs as practice_jobs
from questions.practice import rules as practice_rules
from questions.practice import selectors as practice_selectors
from questions.roles import INSTRUCTORS_GROUP

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "attention-demo"
TEACHER_USERNAME = "teacher"
TEACHER_PASSWORD = "attention-teach"
DEMO_COURSE = "Attention 101 (demo)"


class Command(BaseCommand):
    help = "Create the demo learner, load the theory bank and stock a few variants of every kind."

    def add_arguments(self, parser):
        parser.add_argument("--per-kind", type=int, default=2, help="variants to stock per kind")

    def handle(self, *args, per_kind: int, **options):
        user = _user(DEMO_USERNAME, DEMO_PASSWORD)
        call_command("load_bank", verbosity=0)
        teacher = _user(TEACHER_USERNAME, TEACHER_PASSWORD)
        teacher.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
        course = Course.objects.filter(title=DEMO_COURSE, created_by=teacher).first()
        if course is None:
            course = courses_services.course_create(title=DEMO_COURSE, instructor=teacher)
            quiz = courses_services.quiz_create(
                course=course,
                actor=teacher,
                title="Scaled dot-product attention: a 15-minute check",
                sections=[
                    SectionSpec(
                        title="Theory",
                        draw=3,
                        questions=tuple(
                            QuestionVersion.objects.filter(
                                question__topic__slug="scaled-dot-product", status="published"
                            )
                            .exclude(data__type="essay")
                            .values_list("question__slug", flat=True)
                        ),
                    ),
                    SectionSpec(title="Count the parameters", kind="mha_params", difficulty="easy", points=2),
                ],
                time_limit_seconds=15 * 60,
                attempts_allowed=2,
            )
            courses_services.quiz_open(quiz=quiz, actor=teacher)
        courses_services.course_join(user=user, code=course.join_code)
        for kind in practice_rules.kinds():
            missing = min(per_kind, practice_selectors.stock_missing(kind=kind["name"], difficulty="medium"))
            practice_jobs.variants_generate(kind=kind["name"], difficulty="medium", count=missing)
        self.stdout.write(
            self.style.SUCCESS(f"Demo learner: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo instructor: username {TEACHER_USERNAME!r}, password {TEACHER_PASSWORD!r} "
                f"(course {DEMO_COURSE!r}, join code {course.join_code})"
            )
        )


def _user(username: str, password: str):
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save()
    return user
