"""The learner's side of practice: spaced repetition, the hint ladder, mastery, streaks, runs.

* `models`: ReviewCard, ReviewLog, LearnerProfile, MockInterview, MockInterviewItem.
* `rules`: FSRS ratings, expected times, hint rungs and masking, mastery, mock presets (pure).
* `selectors`: reads (reviews due, mastery, streaks, practice topics, mock summaries).
* `services`: writes (rate a card, open a hint, start and finish a mock interview).

Imports practice and the catalogue; never courses.

How reviews work (the same rules are shown to learners on the home page):

* A card is kept per (learner, theory question) and per (learner, numeric problem kind). It is
  created the first time such an item is graded, and rated by every graded answer to an item
  whose purpose is practice or review. A mock interview rates once it is over, by the answer
  that counted for each question (the last one). Quiz items, answers that could not be read and
  essays (no automatic score) never rate a card.
* The grade sets the FSRS rating (`rating_for`):

  - score < 0.5 -> Again (wrong);
  - 0.5 <= score < 1 -> Hard (partly right);
  - score 1 (right) with a hint opened, or after an earlier graded answer to the same item
    that was not right (a retry) -> Hard;
  - right at the first answer, no hint, within the item's expected time -> Easy;
  - any other right answer -> Good.

  Once an item has been answered right, later answers to the same item rate nothing: the
  learner has seen the solution, so repeating it would only measure memory of this item.
* "Fast" means within `expected_seconds(item)`: for theory questions a time per question type
  (20 s for true/false up to 60 s for matching, ordering and typed answers); for numeric
  problems 30 s to read, 45 s per part and 15 s per number to type (a 2x2 matrix is 4
  numbers). The time taken is from the moment the item was given to the moment the answer was
  submitted.
* Reviews due are the cards whose FSRS due time has passed. A question's review shows its
  current published version; a kind's review draws a fresh variant at the card's difficulty
  (the one last practised), so its answers cannot be memorised.

Mock interviews:

The rules, enforced here and nowhere else:
- Every question is made when the interview starts, mixing theory and fresh numeric variants
  (about a third numeric where the chosen topics have problem kinds). The clock starts once
  they all exist, so a slow worker never eats the learner's time.
- One interview at a time: starting again while one is running returns the running one.
- An answer is accepted only before the deadline, under a lock on the interview row, so it
  cannot slip in after "Finish now" either. Refused answers are never stored.
- A question may be answered again until the end; the last answer before the deadline counts.
- An interview whose deadline has passed reads as over (`rules.is_time_up`); the next write on it, or
  the beat task `close_overdue_mocks`, stores it finished at its deadline.
- Learners reach only their own interviews: a stranger's id reads as missing (404).
"""
