"""The catalogue: topics, theory questions and their versions, the YAML bank, authoring, and GIFT /
Moodle XML interchange.

* `models`: Topic, Question (a stable slug), QuestionVersion (immutable once published).
* `schema`: the bank format's rules (questions/bank/FORMAT.md), used by the loader, authoring
  and import alike; `theory`: grading a theory answer and deriving its key (pure).
* `interchange`: GIFT and Moodle XML parse and dump (pure Python).
* `selectors`: reads (topics with counts, current versions); `services`: writes (bank load,
  authoring, import), each in a transaction and safe to repeat.

Imports nothing of the other features.
"""
