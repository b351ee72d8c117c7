"""Engine tests are plain numeric tests: no database, no Django settings needed."""

import os

# The engine's torch route must give the same keys on any device; tests pin the CPU so that a
# developer's GPU does not change what is being tested.
os.environ.setdefault("ATTN_DEVICE", "cpu")
