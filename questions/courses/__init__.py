"""Courses, roles, quizzes, attempts, marks, the gradebook, item statistics and regrades.

* `models`: Course, Membership, Quiz, QuizSection, QuizAttempt, AttemptSlot, QuizAnswer, RegradeRun.
* `rules`: the marking policies (CBM, retry penalties, grading methods, feedback timing), quiz
  limits, deadlines, the gradebook CSV (pure).
* `statistics`: Moodle's item statistics (pure).
* `selectors`: reads with permissions (courses, quizzes, attempts as of now, gradebook,
  statistics, regrade previews); they never write.
* `services`: writes (courses, members, quizzes, attempts, answers, regrade start).
* `jobs`: the writes the worker and beat run (deadlines, marks, regrade batches); `tasks`.

Imports practice and the catalogue; never learning.

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

Quizzes:

How a quiz runs:

* A quiz has sections. A section is a pool: draw `draw_count` of its bank questions, or
  `draw_count` fresh variants of a problem kind at a difficulty. Every drawn question is one
  *slot* of the attempt (numbered in section order, then draw order: the statistics column),
  worth the section's `points`. `shuffle` shows the slots in a per-attempt order.
* A slot is a `PracticeItem` with purpose QUIZ, so answers reuse `Submission`,
  `practice.services.submission_create` and the exactly-once grading task; `QuizAnswer` ties each try
  to its slot and keeps the certainty.
* Draws are deterministic: the stable hash `stable_int(quiz, section or slot, learner,
  attempt number)` (an HMAC under SECRET_KEY, never Python's `hash()`) orders a pool and picks a
  numeric seed.
  The same attempt reads back the same; other learners and other attempts hash differently;
  a theory pool prefers questions the learner has not drawn in earlier attempts. A seed whose
  variant is already some other item's (Variant is one-to-one with its item) is skipped for
  the next one, `seed + 1`, deterministically.
* Time: `deadline = min(started_at + time_limit, closes_at)` (None when neither is set).
  Answers at or after it are refused and not stored. An attempt found past its deadline is
  submitted *at the deadline* (`submitted_at = deadline`, `submitted_by = "deadline"`). Reads
  show it so at once (`selectors.attempt_as_of`, computed, never stored); the next write on the
  attempt or the beat task `close_overdue_attempts` (idempotent) stores it
  (`jobs.attempt_expire_if_overdue`, the one place a deadline is applied).

Regrades:

What a regrade grades against:

* a theory slot: the question's *current published version* (publishing a new version with
  another correct answer is how a key is fixed); the learner's stored response is graded by
  `catalogue.theory.grade_theory` against it;
* a numeric slot: the current engine's key and grader. A variant made by an older engine
  version is made again from its seed by the current engine (`current_variants_data`), and
  its key, tolerances and misconceptions are used when the problem the learner saw (params
  and parts) is the same; when the new engine would pose another problem for that seed, the
  stored key stays (the learner's answer belongs to the problem they saw). Making a variant
  imports torch: in the full stack the regrade runs in the worker; a preview of a quiz whose
  variants are of an older engine version makes them in the process that asks.

Both marks are kept: each try's new fraction goes to `QuizAnswer.regraded_score` (the
submission keeps its own score and result); a slot whose mark changes keeps the first mark in
`original_mark` and the version in `regraded_against`; an attempt whose score changes keeps
the first score in `original_score`. Regrading again against the same keys changes nothing.

`regrade_preview` computes the changes without writing; `regrade_start` records a
`RegradeRun` and has the `regrade_quiz` task apply it in batches of slots, each batch in one
transaction that also advances the run's cursor, so a task killed mid-way resumes where the
last committed batch ended, and a duplicate message finds the work done.
"""
