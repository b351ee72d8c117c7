"""Courses, memberships and the permission rules every quiz read and write goes through.

Roles (one per course and user):

* **instructor**: everything in the course: quizzes (create, open), gradebook, attempts,
  statistics, regrades, adding members.
* **ta** (teaching assistant): reads everything of the course (quizzes, gradebook and CSV,
  attempts, statistics, regrade previews) but changes nothing: no quiz edits, no opening, no
  regrade, no members.
* **learner**: the course's open quizzes and only their own attempts.

Who may create a course: staff users and members of the "instructors" group (the same rule as
the authoring pages); the creator becomes its instructor.

Refusals: a course (or anything in it) the user has no role in reads as missing
(`Http404`); a member whose role does not allow the action gets `PermissionDenied` (403).
"""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from .models import Course, Membership
from .services import ServiceError

INSTRUCTORS_GROUP = "instructors"

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: easy to read aloud and to type from a slide. 25 symbols, 8 of
# them: 25^8 ~ 1.5e11 codes, far too many to guess.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 8

STAFF_ROLES = (Membership.Role.INSTRUCTOR, Membership.Role.TA)


def can_create_courses(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.groups.filter(name=INSTRUCTORS_GROUP).exists()))


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(code: str) -> str:
    """What a learner typed, as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in str(code).upper() if ch not in " -\t")


def course_create(*, title: str, instructor) -> Course:
    """A new course with a fresh join code; `instructor` becomes its instructor."""
    if not can_create_courses(instructor):
        raise PermissionDenied("Only instructors can create courses.")
    title = (title or "").strip()
    if not title:
        raise ServiceError("A course needs a title.")
    for _ in range(10):
        try:
            with transaction.atomic():
                course = Course.objects.create(title=title, join_code=_new_join_code(), created_by=instructor)
                Membership.objects.create(course=course, user=instructor, role=Membership.Role.INSTRUCTOR)
                return course
        except IntegrityError:
            continue  # the code was taken (about 1 in 1e11 per course): draw another
    raise ServiceError("Could not find a free join code; please try again.")


def course_join(*, user, code: str) -> Membership:
    """Join the course with this code as a learner. Joining again returns the same membership
    (whatever role the user already has there)."""
    course = Course.objects.filter(join_code=normalise_join_code(code)).first()
    if course is None:
        raise ServiceError("No course has this join code. Check it with your instructor.")
    membership, _ = Membership.objects.get_or_create(
        course=course, user=user, defaults={"role": Membership.Role.LEARNER}
    )
    return membership


def membership_set(*, course: Course, actor, user, role: str) -> Membership:
    """Give `user` a role in the course (instructor only); changing an existing role is allowed,
    except that the last instructor cannot step down."""
    require_role(course=course, user=actor, roles=(Membership.Role.INSTRUCTOR,))
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}: use one of {', '.join(Membership.Role.values)}.")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(course=course, user=user).first()
        if membership is None:
            return Membership.objects.create(course=course, user=user, role=role)
        if membership.role == role:
            return membership
        if (
            membership.role == Membership.Role.INSTRUCTOR
            and course.memberships.filter(role=Membership.Role.INSTRUCTOR).count() == 1
        ):
            raise ServiceError("A course needs at least one instructor.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


# --- Permission checks (reads) -----------------------------------------------------------------


def role_in(*, course: Course, user) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(course=course, user=user).values_list("role", flat=True).first()


def require_role(*, course: Course, user, roles) -> str:
    """The user's role if it is one of `roles`; 404 for a stranger, 403 for the wrong role."""
    role = role_in(course=course, user=user)
    if role is None:
        raise Http404("No such course.")
    if role not in roles:
        raise PermissionDenied("Your role in this course does not allow this.")
    return role


def course_for(*, user, course_id: int, roles=tuple(Membership.Role.values)) -> Course:
    """The course if the user has one of `roles` in it (404 for strangers, 403 for other roles)."""
    course = Course.objects.filter(id=course_id).first()
    if course is None:
        raise Http404("No such course.")
    require_role(course=course, user=user, roles=roles)
    return course


def courses_of(*, user):
    """Every course the user has a role in, each annotated with `role`."""
    from django.db.models import F

    return (
        Course.objects.filter(memberships__user=user)
        .annotate(role=F("memberships__role"))
        .order_by("title", "id")
    )
