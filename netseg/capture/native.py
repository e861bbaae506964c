"""The optional compiled kernel of the capture hot path, and the switch to the numpy path.

``netseg.capture._fastwalk`` (``_fastwalk.c``, built by ``pip install`` when a C compiler is
there) walks pcap records, decodes the common headers and groups frames into conversation
rows in plain loops; the numpy code in ``reader``, ``decode`` and ``conversations`` does the
same work over whole arrays and stays the fallback. Both give the same columns, bit for bit
(the tests run the scapy differential and the walk's property test against both).

``NETSEG_CAPTURE_KERNEL=numpy`` in the environment forces the numpy path (read once, at
import); :func:`forced` switches in-process (tests, ``bench.capture_layer``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = ["ENV", "built", "forced", "kernel", "why_not"]

#: Set to ``numpy`` to use the numpy path even when the compiled kernel is built.
ENV = "NETSEG_CAPTURE_KERNEL"

_built: ModuleType | None = None
_missing = ""
try:
    _built = importlib.import_module("netseg.capture._fastwalk")
except ImportError as e:  # no compiler at install time, or a source checkout never built
    _missing = f"not built ({e})"

_active: ModuleType | None = None if os.environ.get(ENV, "").lower() == "numpy" else _built


def kernel() -> ModuleType | None:
    """The compiled kernel, or None when the numpy path is to be used."""
    return _active


def built() -> bool:
    """Whether the compiled kernel is there (whatever :data:`ENV` says)."""
    return _built is not None


def why_not() -> str:
    """Why :func:`kernel` is None (empty when it is not)."""
    if _active is not None:
        return ""
    return _missing or f"{ENV}=numpy, or forced in-process"


@contextmanager
def forced(native: bool) -> Iterator[None]:
    """Use the compiled kernel (``native``, when built) or the numpy path inside the block."""
    global _active
    before = _active
    _active = _built if native else None
    try:
        yield
    finally:
        _active = before
