"""Pausing Python's cyclic garbage collector around bulk work.

Loading a topology, analysing it and judging a capture each allocate millions of long-lived
objects and free few: every full collection would rescan all of them for nothing (a quarter of
loading 50,000 guests, about 1.5 s of their analysis). Reference counting still frees everything
acyclic while the collector is paused, and these steps leave little cyclic garbage (a few
thousand objects per topology), so nothing accumulates.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk computation; nested pauses are free, and
    the collector runs again when the outermost one ends (if it was running before)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
