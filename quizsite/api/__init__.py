"""The JSON API (v1): `practice` (learners practising), `courses` (courses, quizzes and attempts,
for staff and learners), `serializers` (what every response and request is), `base` (shared
behaviour and the one error handler), `urls`."""
