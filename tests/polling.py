"""Wait for a condition in tests, with a generous cap instead of a timed assertion."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT = 60.0  # seconds: far above what any step needs, even on a loaded 2-core machine


def wait_until(condition: Callable[[], object], timeout: float = WAIT) -> bool:
    """Poll condition until it holds (True) or timeout seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
