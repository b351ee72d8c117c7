"""Practice: the stock of verified numeric variants, practice items, submissions and their grading.

* `models`: Variant (a verified engine problem; holds its key), Purpose, PracticeItem (what
  a learner was given, for practice, a review, a mock interview or a quiz), Submission.
* `rules`: pure checks (known kinds, readable answers) that cost no attempt.
* `selectors`: reads (a learner's own items and submissions, the stock level).
* `services`: the web's writes (give an item, accept a submission); they enqueue through
  `tasks` after commit.
* `jobs`: the worker's writes (make variants, grade a submission exactly once, find stale
  submissions); `tasks`: the Celery tasks that call them.
* `dispatch`: after a grade, the handlers other features registered for the item's purpose.

Imports the catalogue; never learning or courses (they plug in through `dispatch`).
"""
