"""The API tests run the serializers strictly: a key a view sends that no serializer declares
(or a declared required key a view lacks) fails the test instead of being dropped and logged."""

import pytest

from quizsite.api import serializers


@pytest.fixture(autouse=True)
def strict_serializers(monkeypatch):
    monkeypatch.setattr(serializers, "STRICT", True)
