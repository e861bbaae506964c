"""Service sets: which protocols and ports a flow may use.

A service set is a product of small range sets, one per protocol: TCP and UDP ports
(0-65535), ICMP and ICMPv6 (all or nothing) and ``other`` (every other IP protocol and
non-IP traffic such as ARP). Reachability is computed as such sets, never as booleans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netseg.model.ranges import IntRangeSet

PROTOCOLS = ("tcp", "udp")
FLAGS = ("icmp", "icmp6", "other")


class PortSet(IntRangeSet):
    __slots__ = ()
    LOW = 0
    HIGH = 65535


_EMPTY_PORTS = PortSet.empty()
_ALL_PORTS = PortSet.full()


@dataclass(frozen=True, slots=True)
class ServiceSet:
    """A frozen set of services with the ``set`` interface; prints canonically.

    ``str(ServiceSet.parse(["tcp/443", "tcp/444"]))`` is ``tcp/443-444``; the full set prints
    ``any``.
    """

    tcp: PortSet = _EMPTY_PORTS
    udp: PortSet = _EMPTY_PORTS
    icmp: bool = False
    icmp6: bool = False
    other: bool = False

    # --- construction ------------------------------------------------------------------
    @classmethod
    def any(cls) -> ServiceSet:
        return _ANY

    @classmethod
    def none(cls) -> ServiceSet:
        return _NONE

    @classmethod
    def parse(cls, value: object) -> ServiceSet:
        """Parse ``tcp/443``, ``tcp/8000-8100``, ``udp/53``, ``tcp``, ``icmp``, ``icmp6``,
        ``other``, ``any``, or a list of these. Raises ``ValueError``."""
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("empty service list")
            result = _NONE
            for item in value:
                result = result | cls.parse(item)
            return result
        if not isinstance(value, str):
            raise ValueError(f"expected a service such as 'tcp/443', got {value!r}")
        text = value.strip().lower()
        if text == "any":
            return _ANY
        if text in FLAGS:
            return cls(**{text: True})  # type: ignore[arg-type]
        proto, sep, ports = text.partition("/")
        if proto not in PROTOCOLS:
            raise ValueError(
                f"unknown service {value!r} (expected tcp/PORT, udp/PORT, icmp, icmp6 or any)"
            )
        if not sep:
            return cls(**{proto: _ALL_PORTS})  # type: ignore[arg-type]
        lo_s, dash, hi_s = ports.partition("-")
        try:
            lo = int(lo_s)
            hi = int(hi_s) if dash else lo
        except ValueError:
            raise ValueError(f"bad port in service {value!r}") from None
        if not (0 <= lo <= hi <= 65535):
            raise ValueError(f"port range in service {value!r} is outside 0-65535 or backwards")
        return cls(**{proto: PortSet([(lo, hi)])})  # type: ignore[arg-type]

    @classmethod
    def single(cls, protocol: str, port: int | None = None) -> ServiceSet:
        """The service of one observed packet: ``single('tcp', 22)``, ``single('icmp')``."""
        if protocol in PROTOCOLS:
            ports = _ALL_PORTS if port is None else PortSet([port])
            return cls(**{protocol: ports})  # type: ignore[arg-type]
        if protocol in FLAGS:
            return cls(**{protocol: True})  # type: ignore[arg-type]
        return cls(other=True)

    # --- set algebra -------------------------------------------------------------------
    def __or__(self, o: ServiceSet) -> ServiceSet:
        return ServiceSet(
            self.tcp | o.tcp,
            self.udp | o.udp,
            self.icmp or o.icmp,
            self.icmp6 or o.icmp6,
            self.other or o.other,
        )

    def __and__(self, o: ServiceSet) -> ServiceSet:
        return ServiceSet(
            self.tcp & o.tcp,
            self.udp & o.udp,
            self.icmp and o.icmp,
            self.icmp6 and o.icmp6,
            self.other and o.other,
        )

    def __sub__(self, o: ServiceSet) -> ServiceSet:
        return ServiceSet(
            self.tcp - o.tcp,
            self.udp - o.udp,
            self.icmp and not o.icmp,
            self.icmp6 and not o.icmp6,
            self.other and not o.other,
        )

    def __xor__(self, o: ServiceSet) -> ServiceSet:
        return (self - o) | (o - self)

    def __le__(self, o: ServiceSet) -> bool:
        # component by component, without building the difference (judging asks thousands)
        return (
            (o.icmp or not self.icmp)
            and (o.icmp6 or not self.icmp6)
            and (o.other or not self.other)
            and self.tcp <= o.tcp
            and self.udp <= o.udp
        )

    def __ge__(self, o: ServiceSet) -> bool:
        return o <= self

    def __lt__(self, o: ServiceSet) -> bool:
        return self <= o and self != o

    def __gt__(self, o: ServiceSet) -> bool:
        return o < self

    union = __or__
    intersection = __and__
    difference = __sub__
    issubset = __le__
    issuperset = __ge__

    def isdisjoint(self, o: ServiceSet) -> bool:
        return not (self & o)

    def __bool__(self) -> bool:
        return bool(self.tcp or self.udp or self.icmp or self.icmp6 or self.other)

    def __contains__(self, item: object) -> bool:
        """``"tcp/22" in services``: true when the whole of ``item`` is in the set."""
        if isinstance(item, str):
            return ServiceSet.parse(item) <= self
        if isinstance(item, ServiceSet):
            return item <= self
        return False

    def is_any(self) -> bool:
        return self == _ANY

    # --- canonical form ----------------------------------------------------------------
    def items(self) -> list[str]:
        """The canonical sorted list (``["any"]`` for everything)."""
        if self == _ANY:
            return ["any"]
        out: list[str] = []
        if self.icmp:
            out.append("icmp")
        if self.icmp6:
            out.append("icmp6")
        if self.other:
            out.append("other")
        for proto in PROTOCOLS:
            ports: PortSet = getattr(self, proto)
            if ports.is_full():
                out.append(proto)
                continue
            for lo, hi in ports.ranges:
                out.append(f"{proto}/{lo}" if lo == hi else f"{proto}/{lo}-{hi}")
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self.items())

    def __str__(self) -> str:
        items = self.items()
        return ", ".join(items) if items else "none"

    def __repr__(self) -> str:
        return f"ServiceSet({self.items()!r})"

    @classmethod
    def union_all(cls, sets: Iterable[ServiceSet]) -> ServiceSet:
        result = _NONE
        for s in sets:
            result = result | s
        return result


_ANY = ServiceSet(_ALL_PORTS, _ALL_PORTS, True, True, True)
_NONE = ServiceSet()
