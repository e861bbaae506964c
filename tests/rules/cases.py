"""Which tests show a rule firing and which show it staying quiet on a near miss.

Rule tests that are not rows of a case table (hardening's ``CASES``, segmentation's
``SEGMENTATION_CASES``) say what they cover with :func:`covers`; the meta-test in
tests/rules/test_catalogue.py requires both kinds for every rule of the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Literal, TypeVar

F = TypeVar("F", bound=Callable[..., object])
Kind = Literal["fires", "quiet"]

COVERED: defaultdict[str, set[Kind]] = defaultdict(set)


def covers(rules: str | tuple[str, ...], *kinds: Kind) -> Callable[[F], F]:
    """Record that the decorated test shows ``rules`` firing and/or staying quiet."""
    names = (rules,) if isinstance(rules, str) else rules

    def mark(test: F) -> F:
        for rule in names:
            COVERED[rule].update(kinds)
        return test

    return mark
