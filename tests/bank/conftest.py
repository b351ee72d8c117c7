"""Fixtures for the question-bank tests: the real bank, loaded once."""

from pathlib import Path

import pytest

from questions.catalogue.schema import TopicDoc, load_bank_dir

BANK_DIR = Path(__file__).resolve().parents[2] / "questions" / "bank"


@pytest.fixture(scope="session")
def bank_docs() -> list[TopicDoc]:
    return load_bank_dir(BANK_DIR)


@pytest.fixture(scope="session")
def bank_questions(bank_docs) -> list[dict]:
    return [q for doc in bank_docs for q in doc.questions]
