"""VLAN identifiers and VLAN sets (802.1Q VIDs 1-4094)."""

from __future__ import annotations

from collections.abc import Iterable

from netseg.model.ranges import IntRangeSet

VLAN_MIN = 1
VLAN_MAX = 4094
VGT_ALL = 4095  # ESXi port-group VLAN meaning "guest tags every VLAN"


class VlanSet(IntRangeSet):
    """A frozen set of VLAN ids 1-4094 with set algebra; prints as ``10-20,99`` or ``all``."""

    __slots__ = ()
    LOW = VLAN_MIN
    HIGH = VLAN_MAX

    @classmethod
    def parse(cls, value: object) -> VlanSet:
        """Parse the topology syntax: ``10``, ``"10-20"``, ``"10,99"``, a list of these, ``all``.

        Raises ``ValueError`` naming the offending part.
        """
        if isinstance(value, bool):
            raise ValueError(f"expected a VLAN set, got {value!r}")
        if isinstance(value, int):
            return cls([_vid(value)])
        if isinstance(value, str):
            text = value.strip()
            if text == "all":
                return cls.full()
            if not text:
                raise ValueError("empty VLAN set")
            parts: list[tuple[int, int]] = []
            for part in text.split(","):
                parts.append(_parse_range(part.strip()))
            return cls(parts)
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("empty VLAN set")
            result = cls.empty()
            for item in value:
                if isinstance(item, list | tuple):
                    raise ValueError(f"nested list {item!r} in a VLAN set")
                result = result | cls.parse(item)
            return result
        raise ValueError(f"expected a VLAN set, got {value!r}")

    @classmethod
    def of(cls, vids: Iterable[int]) -> VlanSet:
        return cls(vids)

    def __str__(self) -> str:
        if self.is_full():
            return "all"
        return self.format_ranges()


def _vid(value: int) -> int:
    if not VLAN_MIN <= value <= VLAN_MAX:
        raise ValueError(f"VLAN {value} is outside 1-4094")
    return value


def _parse_range(text: str) -> tuple[int, int]:
    lo_s, sep, hi_s = text.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if sep else lo
    except ValueError:
        raise ValueError(f"{text!r} is not a VLAN id or range") from None
    if lo > hi:
        raise ValueError(f"range {text!r} runs backwards")
    _vid(lo)
    _vid(hi)
    return (lo, hi)
