"""Immutable sets of integers stored as sorted, disjoint, non-adjacent closed ranges.

VLAN sets (4094 members) and port sets (65536 members) are almost always a few ranges, so
ranges keep them small, hashable and fast to combine. The interface follows Python's ``set``
(``|``, ``&``, ``-``, ``^``, ``<=``, ``in``, ``isdisjoint``), as netaddr's ``IPSet`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Self

Range = tuple[int, int]


def normalise(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sort and merge overlapping or adjacent ranges."""
    out: list[list[int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def intersect(a: tuple[Range, ...], b: tuple[Range, ...]) -> tuple[Range, ...]:
    out: list[Range] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: tuple[Range, ...], b: tuple[Range, ...]) -> tuple[Range, ...]:
    out: list[Range] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


class IntRangeSet:
    """A frozen set of integers within ``[LOW, HIGH]``; subclasses fix the bounds."""

    __slots__ = ("_hash", "ranges")
    _hash: int | None
    LOW = 0
    HIGH = 2**63

    ranges: tuple[Range, ...]

    def __init__(self, members: Iterable[int | Range] = ()) -> None:
        items: list[Range] = []
        for m in members:
            if isinstance(m, tuple):
                lo, hi = m
            else:
                lo = hi = int(m)
            if lo < self.LOW or hi > self.HIGH:
                raise ValueError(f"{lo}-{hi} is outside {self.LOW}-{self.HIGH}")
            items.append((lo, hi))
        object.__setattr__(self, "ranges", normalise(items))
        object.__setattr__(self, "_hash", None)

    @classmethod
    def from_ranges(cls, ranges: Iterable[Range]) -> Self:
        return cls(ranges)

    @classmethod
    def _raw(cls, ranges: tuple[Range, ...]) -> Self:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "ranges", ranges)
        object.__setattr__(obj, "_hash", None)
        return obj

    @classmethod
    def full(cls) -> Self:
        return cls._raw(((cls.LOW, cls.HIGH),))

    @classmethod
    def empty(cls) -> Self:
        return cls._raw(())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # --- the set interface -------------------------------------------------------------
    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        lo_i, hi_i = 0, len(self.ranges)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            lo, hi = self.ranges[mid]
            if item < lo:
                hi_i = mid
            elif item > hi:
                lo_i = mid + 1
            else:
                return True
        return False

    def __iter__(self) -> Iterator[int]:
        for lo, hi in self.ranges:
            yield from range(lo, hi + 1)

    def __len__(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.ranges == other.ranges

    def __hash__(self) -> int:
        h: int | None = getattr(self, "_hash", None)
        if h is None:
            h = hash((type(self).__name__, self.ranges))
            object.__setattr__(self, "_hash", h)
        return h

    def __or__(self, other: Self) -> Self:
        return self._raw(normalise(self.ranges + other.ranges))

    def __and__(self, other: Self) -> Self:
        return self._raw(intersect(self.ranges, other.ranges))

    def __sub__(self, other: Self) -> Self:
        return self._raw(subtract(self.ranges, other.ranges))

    def __xor__(self, other: Self) -> Self:
        return (self - other) | (other - self)

    def __le__(self, other: Self) -> bool:
        return not subtract(self.ranges, other.ranges)

    def __ge__(self, other: Self) -> bool:
        return other <= self

    def __lt__(self, other: Self) -> bool:
        return self <= other and self != other

    def __gt__(self, other: Self) -> bool:
        return other < self

    union = __or__
    intersection = __and__
    difference = __sub__
    symmetric_difference = __xor__
    issubset = __le__
    issuperset = __ge__

    def isdisjoint(self, other: Self) -> bool:
        return not intersect(self.ranges, other.ranges)

    def is_full(self) -> bool:
        return self.ranges == ((self.LOW, self.HIGH),)

    def min(self) -> int:
        return self.ranges[0][0]

    def format_ranges(self, sep: str = ",") -> str:
        return sep.join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.format_ranges()!r})"
