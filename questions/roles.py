"""Who counts as an instructor: one rule, used by the authoring pages, course creation and the API.

Staff users and members of the "instructors" group may author questions and create courses.
Roles inside a course (instructor, TA, learner) are `questions.courses.models.Membership.Role`.
"""

from __future__ import annotations

INSTRUCTORS_GROUP = "instructors"


def is_instructor(user) -> bool:
    """Staff, or a member of the instructors group."""
    return bool(user.is_authenticated and (user.is_staff or user.groups.filter(name=INSTRUCTORS_GROUP).exists()))
