"""Engine tests are plain numeric tests: no database, no Django settings needed."""

import os

import pytest

# The engine's torch route must give the same keys on any device; tests pin the CPU so that a
# developer's GPU does not change what is being tested.
os.environ.setdefault("ATTN_DEVICE", "cpu")


@pytest.fixture(scope="module")
def sandboxed():
    """The code sandbox can run here (``bwrap``; a failure, not a skip, with REQUIRE_SERVICES=1);
    the warm sandboxes a module started are closed after it."""
    from attention_engine.code import sandbox
    from tests.conftest import service_missing

    reason = sandbox.available()
    if reason:
        service_missing(f"the sandbox cannot run here: {reason}")
    yield
    sandbox.POOL.close()
