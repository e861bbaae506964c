"""Capture replay, second half: attribute conversations to the topology and judge them.

The tables of :mod:`netseg.capture.accounting` know nothing of the design. Here every side of
every conversation becomes an entity reference (by MAC; by IP behind a router's MAC or when
the MAC is unknown), each distinct conversation is judged once against the policy and against
the model's own reachability, and the frame-level rules (spoofing, rogue DHCP and router
advertisements, double tags, wrong VLANs, bridge protocols, unknown MACs) run over the
conversation and event tables. Work grows with distinct conversations, never with frames.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from netseg.capture.accounting import CaptureTables
from netseg.capture.columns import ConversationColumns, NamedPorts, columns_of
from netseg.capture.conversations import (
    _INITIATOR_BY,
    _NO_ORDER,
    Conversation,
    Event,
    FrameRef,
    Side,
)
from netseg.capture.decode import format_mac
from netseg.errors import SelectorError
from netseg.graph import PolicySide, PrefixIndex, Reachability, policy_allows
from netseg.model.services import ServiceSet
from netseg.model.topology import (
    NOWHERE,
    Address,
    IPAddress,
    Location,
    Severity,
    Topology,
    VlanMode,
)
from netseg.rules import catalogue
from netseg.rules.engine import apply_policy
from netseg.rules.finding import Finding

Verdict = Literal["allowed", "violation", "unattributed"]
BROADCAST = "broadcast"
_IP_PROTOCOLS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}

# --- capture points -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapturePoint:
    """Where a capture was taken: what an untagged frame means there.

    ``untagged_vlan`` is the VLAN untagged frames belong to (None: unknown, or the untagged
    domain of what is cabled there); ``qinq`` marks a provider port where stacked tags are
    expected.
    """

    name: str
    untagged_vlan: int | None = None
    qinq: bool = False

    def vlan_of(self, tag: int | None) -> int | None:
        return tag if tag is not None else self.untagged_vlan


NO_POINT = CapturePoint("")


def capture_points(topology: Topology) -> list[str]:
    """Every valid ``--at`` value, for the error message of an unknown one."""
    out = [f"{s.name}:{p.name}" for s in topology.switches for p in s.ports]
    for h in topology.hosts:
        out += [f"{h.name}/{n.name}" for n in h.nics]
        for v in h.vswitches:
            out.append(f"{h.name}/{v.name}")
            out += [f"{h.name}/{v.name}/{pg.name}" for pg in v.portgroups]
    return out


def resolve_capture_point(
    topology: Topology, at: str | None, vlan: int | None = None
) -> CapturePoint:
    """The capture point ``--at`` names (docs/replay.md's table); SelectorError if unknown."""
    if not at:
        if vlan is not None:
            raise SelectorError(
                "--vlan needs --at HOST/VSWITCH (a mirror of a whole virtual switch)"
            )
        return NO_POINT
    if ":" in at and "/" not in at.split(":", 1)[0]:
        sw, _, port = at.partition(":")
        for s in topology.switches:
            if s.name == sw and s.has_port(port):
                p = s.port(port)
                return CapturePoint(at, p.untagged_vlan, p.qinq)
    hosts = {h.name: h for h in topology.hosts}
    host_name, _, rest = at.partition("/")
    host = hosts.get(host_name)
    if host is not None and rest:
        if host.nic(rest) is not None and vlan is None:
            # an uplink: untagged frames are the vswitch's untagged domain (no VLAN number)
            return CapturePoint(at, _uplink_untagged(topology, host_name, rest))
        vs = host.vswitch(rest)
        if vs is not None:
            return CapturePoint(at, vlan)
        vs_name, _, pg_name = rest.partition("/")
        vs = host.vswitch(vs_name)
        pg = vs.portgroup(pg_name) if vs is not None else None
        if pg is not None and vlan is None:
            untagged = pg.vlan.vlan if pg.vlan.kind == "access" and pg.vlan.vlan else None
            return CapturePoint(at, untagged)
    import difflib

    valid = capture_points(topology)
    close = difflib.get_close_matches(at, valid, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    if vlan is not None:
        hint += "; --vlan applies to HOST/VSWITCH points only"
    listing = ", ".join(valid[:40]) + (" …" if len(valid) > 40 else "")
    raise SelectorError(f"unknown capture point {at!r}{hint}. Valid points: {listing}")


def _uplink_untagged(topology: Topology, host: str, nic: str) -> int | None:
    h = topology.host(host)
    n = h.nic(nic)
    if n is None or n.switch is None or n.port is None:
        return None
    # the physical port's native VLAN is what untagged frames on this wire are in
    return topology.switch(n.switch).port(n.port).untagged_vlan


# --- attribution ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Known:
    """An attachment as the judge sees it."""

    ref: str
    kind: str  # guest | management | endpoint | router
    zone: str | None
    addresses: tuple[Address, ...]
    mac: str | None
    vlan: VlanMode | None
    roles: frozenset[str]
    location: Location


@dataclass
class Directory:
    """MAC and IP look-ups over every attachment of a topology."""

    by_mac: dict[int, Known] = field(default_factory=dict)
    by_ip: dict[IPAddress, Known] = field(default_factory=dict)
    management_ips: set[IPAddress] = field(default_factory=set)
    #: The attachments with a MAC address by reference (the first with that reference).
    by_ref: dict[str, Known] = field(default_factory=dict)

    @classmethod
    def of(cls, topology: Topology) -> Directory:
        d = cls()
        entries: list[Known] = []
        for g in topology.guests:
            for n in g.nics:
                entries.append(
                    Known(n.ref, "guest", g.zone, n.addresses, n.mac, n.vlan, g.roles, n.location)
                )
        for m in topology.management_interfaces():
            entries.append(
                Known(
                    m.ref, "management", m.zone, m.addresses, m.mac, m.vlan, frozenset(), m.location
                )
            )
        for e in topology.endpoints:
            mode = VlanMode("access", vlan=e.vlan or _endpoint_vlan(topology, e.switch, e.port))
            entries.append(
                Known(e.ref, "endpoint", e.zone, e.addresses, e.mac, mode, e.roles, e.location)
            )
        for r in topology.routers:
            for i in r.interfaces:
                addrs = (i.address,) if i.address is not None else ()
                mode = VlanMode("access", vlan=i.vlan) if i.vlan else i.vlan_mode
                entries.append(
                    Known(
                        i.ref, "router", None, addrs, i.mac, mode, frozenset({"router"}), i.location
                    )
                )
        for k in entries:
            if k.mac is not None:
                d.by_mac[int(k.mac.replace(":", ""), 16)] = k
            for a in k.addresses:
                d.by_ip.setdefault(a.ip, k)
                if k.kind == "management":
                    d.management_ips.add(a.ip)
        for k in d.by_mac.values():
            d.by_ref.setdefault(k.ref, k)
        return d


def _endpoint_vlan(topology: Topology, switch: str, port: str | None) -> int:
    if port is None:
        return 0
    p = topology.switch(switch).port(port)
    return p.untagged_vlan or 0


def _is_group(mac: int | None) -> bool:
    return mac is not None and bool((mac >> 40) & 1)


def _eui64(mac: int) -> ipaddress.IPv6Address:
    b = bytearray(mac.to_bytes(6, "big"))
    b[0] ^= 0x02
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return ipaddress.IPv6Address(b"\xfe\x80" + b"\x00" * 6 + iid)


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a conversation after attribution."""

    ref: str  # entity reference, "broadcast", "mac:…" or an address
    known: Known | None
    by_ip: bool = False  # attributed by IP (routed, or the MAC is unknown)
    mac_unknown: bool = False

    @property
    def attributed(self) -> bool:
        return self.known is not None or self.ref == BROADCAST


def attribute(side: Side, directory: Directory) -> Party:
    mac, ip = side.mac, side.ip
    if _is_group(mac):
        return Party(BROADCAST, None)
    known = directory.by_mac.get(mac) if mac is not None else None
    if known is not None and known.kind == "router":
        # a router forwards others' packets: the IP says who is behind it
        if ip is None or any(a.ip == ip for a in known.addresses):
            return Party(known.ref, known)
        behind = directory.by_ip.get(ip)
        return Party(behind.ref, behind, by_ip=True) if behind else Party(str(ip), None, by_ip=True)
    if known is not None:
        return Party(known.ref, known)
    if ip is not None and ip in directory.by_ip:
        k = directory.by_ip[ip]
        return Party(k.ref, k, by_ip=True, mac_unknown=mac is not None)
    if mac is not None:
        return Party(f"mac:{format_mac(mac)}", None, mac_unknown=True)
    return Party(str(ip) if ip is not None else "unknown", None)


# --- judged conversations -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JudgedConversation:
    conversation: Conversation
    vlan: int | None
    source: Party
    destination: Party
    service: ServiceSet
    verdict: Verdict
    rules: tuple[str, ...]
    stopped_by: Party | None = None  # who sent an ICMP error about it (not the responder)

    def to_json(self, files: Sequence[str]) -> dict[str, Any]:
        c = self.conversation
        extra: dict[str, Any] = {}
        if c.refused:
            extra["refused"] = True
        if c.stopped_by is not None:
            extra["stopped_by"] = {
                "by": self.stopped_by.ref if self.stopped_by is not None else _addr(c.stopped_by),
                "addr": _addr(c.stopped_by),
                "frames": c.frames_stopped,
            }
        if c.fragments_only:
            extra["fragment_without_first"] = True
        return {
            "vlan": self.vlan,
            "src": self.source.ref,
            "dst": self.destination.ref,
            "src_addr": _addr(c.initiator),
            "dst_addr": _addr(c.responder),
            "service": service_text(c),
            "frames": [c.frames_sent, c.frames_returned],
            "bytes": [c.bytes_sent, c.bytes_returned],
            "first": c.first_ts_ns / 1e9,
            "last": c.last_ts_ns / 1e9,
            "sample_frames": [frame_json(f, files) for f in c.sample_frames],
            "answered": c.answered,
            "initiator_by": c.initiator_by,
            **extra,
            "verdict": self.verdict,
            "rules": list(self.rules),
        }


def _addr(side: Side) -> str | None:
    if side.ip is not None:
        return str(side.ip)
    return format_mac(side.mac) if side.mac is not None else None


def frame_json(ref: FrameRef, files: Sequence[str]) -> dict[str, Any]:
    return {
        "file": files[ref.file_index] if ref.file_index < len(files) else "?",
        "frame": ref.frame,
    }


def service_of(c: Conversation) -> ServiceSet:
    name = _IP_PROTOCOLS.get(c.proto) if c.proto is not None else None
    if name in ("tcp", "udp"):
        return ServiceSet.single(name, c.service_port)
    if name in ("icmp", "icmp6"):
        return ServiceSet.single(name)
    return ServiceSet.single("other")


def service_text(c: Conversation) -> str:
    return _service_text(
        -1 if c.proto is None else c.proto,
        -1 if c.service_port is None else c.service_port,
        -1 if c.ethertype is None else c.ethertype,
    )


def _service_text(proto: int, port: int, ethertype: int) -> str:
    """:func:`service_text` of the columns' numbers (-1: absent)."""
    name = _IP_PROTOCOLS.get(proto) if proto >= 0 else None
    if name in ("tcp", "udp") and port >= 0:
        return f"{name}/{port}"
    if name is not None:
        return name
    if proto >= 0:
        return f"ip-proto-{proto}"
    if ethertype >= 0:
        return f"ethertype-0x{ethertype:04x}"
    return "llc"


# --- judged columns -------------------------------------------------------------------------

#: Verdict codes of :class:`JudgedConversations` (``VERDICTS[code]``).
VERDICTS: tuple[Verdict, ...] = ("allowed", "violation", "unattributed")
ALLOWED, VIOLATION, UNATTRIBUTED = 0, 1, 2
GUEST_TO_MANAGEMENT = "observed-guest-to-management"
ZONE_VIOLATION = "observed-zone-violation"
MODEL_DRIFT = "observed-model-drift"
#: Rule codes: the policy's rule (none, guest to management, zone) plus 3 with drift.
RULES: tuple[tuple[str, ...], ...] = (
    (),
    (GUEST_TO_MANAGEMENT,),
    (ZONE_VIOLATION,),
    (MODEL_DRIFT,),
    (GUEST_TO_MANAGEMENT, MODEL_DRIFT),
    (ZONE_VIOLATION, MODEL_DRIFT),
)
_CHUNK = 4096
I64 = npt.NDArray[np.int64]


class JudgedConversations(Sequence[JudgedConversation]):
    """Every judged conversation of a replay as columns, in order of first frame.

    A verdict and a rule code per conversation (``verdict``, ``rules``: indices into
    :data:`VERDICTS` and :data:`RULES`) beside the conversation columns; each side's
    attribution once per distinct side (``parties``). Indexing or iterating makes
    :class:`JudgedConversation` objects, a chunk at a time, so 200,000 conversations can be
    written out without ever all being objects.
    """

    def __init__(
        self,
        columns: ConversationColumns,
        verdict: npt.NDArray[np.int8],
        rules: npt.NDArray[np.int8],
        parties: Sequence[Party],
        directory: Directory,
        point: CapturePoint,
    ) -> None:
        self.columns = columns
        self.verdict = verdict
        self.rules = rules
        self.parties = parties
        self._directory = directory
        self._point = point
        self._services: dict[tuple[int | None, int | None], ServiceSet] = {}

    def __len__(self) -> int:
        return len(self.verdict)

    @overload
    def __getitem__(self, index: int) -> JudgedConversation: ...
    @overload
    def __getitem__(self, index: slice) -> list[JudgedConversation]: ...
    def __getitem__(self, index: int | slice) -> JudgedConversation | list[JudgedConversation]:
        if isinstance(index, slice):
            return list(self.at(range(len(self))[index]))
        n = len(self)
        if not -n <= index < n:
            raise IndexError("judged conversation index out of range")
        (found,) = self.at([index % n])
        return found

    def __iter__(self) -> Iterator[JudgedConversation]:
        return self.at(None)

    def where(self, mask: npt.NDArray[np.bool_]) -> Iterator[JudgedConversation]:
        """The conversations where ``mask`` is true, in order."""
        return self.at(np.flatnonzero(mask))

    def at(self, positions: Iterable[int] | I64 | None) -> Iterator[JudgedConversation]:
        """The judged conversations at ``positions`` (every one by default), in that order."""
        chosen = self._positions(positions)
        cols = self.columns
        parties = self.parties
        untagged = self._point.untagged_vlan
        for s in range(0, len(chosen), _CHUNK):
            chunk = chosen[s : s + _CHUNK]
            verdicts = self.verdict[chunk].tolist()
            rules = self.rules[chunk].tolist()
            init = cols.initiator[chunk].tolist()
            resp = cols.responder[chunk].tolist()
            for i, c in enumerate(cols.conversations(chunk)):
                service = self._services.get((c.proto, c.service_port))
                if service is None:
                    service = self._services[(c.proto, c.service_port)] = service_of(c)
                stopped = (
                    attribute(c.stopped_by, self._directory) if c.stopped_by is not None else None
                )
                yield JudgedConversation(
                    c,
                    c.vlan if c.vlan is not None else untagged,
                    parties[init[i]],
                    parties[resp[i]],
                    service,
                    VERDICTS[verdicts[i]],
                    RULES[rules[i]],
                    stopped,
                )

    def to_json(
        self, positions: Iterable[int] | I64 | None, files: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """``JudgedConversation.to_json`` of the conversations at ``positions`` (every one by
        default), made from the columns without the objects: the same dicts, at a fraction of
        the cost (a side's address is written once, not once per conversation)."""
        chosen = self._positions(positions)
        cols = self.columns
        parties = self.parties
        untagged = self._point.untagged_vlan
        addr: dict[int, str | None] = {}
        services: dict[tuple[int, int, int], str] = {}
        refs = [p.ref for p in parties]
        frame_no = (1 << 40) - 1
        names = [{"file": f} for f in files]
        by = _INITIATOR_BY
        for s in range(0, len(chosen), _CHUNK):
            chunk = chosen[s : s + _CHUNK]
            vlan = cols.vlan[chunk].tolist()
            proto = cols.proto[chunk].tolist()
            service = cols.service[chunk].tolist()
            etype = cols.ethertype[chunk].tolist()
            init = cols.initiator[chunk].tolist()
            resp = cols.responder[chunk].tolist()
            sent, returned = cols.frames_sent[chunk].tolist(), cols.frames_returned[chunk].tolist()
            bsent, breturned = cols.bytes_sent[chunk].tolist(), cols.bytes_returned[chunk].tolist()
            first, last = cols.first_ts_ns[chunk].tolist(), cols.last_ts_ns[chunk].tolist()
            how = cols.initiator_by[chunk].tolist()
            samples = cols.samples[chunk].tolist()
            verdicts = self.verdict[chunk].tolist()
            rules = self.rules[chunk].tolist()
            for i, j in enumerate(chunk.tolist()):
                if j in cols.joined:
                    # joined by fragments or ICMP errors (rare): through the objects
                    (one,) = self.at([j])
                    yield one.to_json(files)
                    continue
                a, b = init[i], resp[i]
                if a not in addr:
                    addr[a] = _addr(cols.sides[a])
                if b not in addr:
                    addr[b] = _addr(cols.sides[b])
                skey = (proto[i], service[i], etype[i])
                text = services.get(skey)
                if text is None:
                    text = services[skey] = _service_text(*skey)
                frames = []
                for o in samples[i]:
                    if o == _NO_ORDER:
                        continue
                    fi = o >> 40
                    frames.append(
                        {**names[fi], "frame": o & frame_no}
                        if fi < len(names)
                        else {"file": "?", "frame": o & frame_no}
                    )
                yield {
                    "vlan": vlan[i] if vlan[i] >= 0 else untagged,
                    "src": refs[a],
                    "dst": refs[b],
                    "src_addr": addr[a],
                    "dst_addr": addr[b],
                    "service": text,
                    "frames": [sent[i], returned[i]],
                    "bytes": [bsent[i], breturned[i]],
                    "first": first[i] / 1e9,
                    "last": last[i] / 1e9,
                    "sample_frames": frames,
                    "answered": returned[i] > 0,
                    "initiator_by": by[how[i]],
                    "verdict": VERDICTS[verdicts[i]],
                    "rules": list(RULES[rules[i]]),
                }

    def _positions(self, positions: Iterable[int] | I64 | None) -> I64:
        if positions is None:
            return np.arange(len(self), dtype=np.int64)
        if isinstance(positions, np.ndarray):
            return positions.astype(np.int64, copy=False)
        return np.fromiter(positions, dtype=np.int64)


class _ServiceTable:
    """Interned service sets, and "is this (protocol, port) within that set" for arrays.

    A conversation's service is a kind (TCP or UDP port, a whole protocol without a port,
    ICMP, ICMPv6, other) and a port. Ports are looked up in every set's TCP and UDP ranges at
    once: each range becomes a start and an end on one line, ``(set * 2 + protocol) << 16 |
    port``, so one binary search per conversation finds its range (or none).
    """

    TCP, UDP, TCP_ALL, UDP_ALL, ICMP, ICMP6, OTHER = range(7)

    def __init__(self) -> None:
        self.ids: dict[ServiceSet, int] = {}
        self.sets: list[ServiceSet] = []
        self._compiled = 0
        self._starts = np.zeros(0, np.int64)
        self._ends = np.zeros(0, np.int64)
        self._flags = np.zeros((0, 5), np.bool_)

    def id(self, services: ServiceSet) -> int:
        found = self.ids.get(services)
        if found is None:
            found = self.ids[services] = len(self.sets)
            self.sets.append(services)
        return found

    def _compile(self) -> None:
        if self._compiled == len(self.sets):
            return
        starts: list[int] = []
        ends: list[int] = []
        for n, s in enumerate(self.sets):
            for proto, ports in ((0, s.tcp), (1, s.udp)):
                base = (n * 2 + proto) << 16
                for lo, hi in ports.ranges:
                    starts.append(base | lo)
                    ends.append(base | hi)
        self._starts = np.asarray(starts, dtype=np.int64)
        self._ends = np.asarray(ends, dtype=np.int64)
        self._flags = np.asarray(
            [(s.tcp.is_full(), s.udp.is_full(), s.icmp, s.icmp6, s.other) for s in self.sets],
            dtype=np.bool_,
        ).reshape(-1, 5)
        self._compiled = len(self.sets)

    @classmethod
    def kinds(cls, proto: I64, service: I64) -> npt.NDArray[np.int8]:
        """Each conversation's kind of service (:func:`service_of`, as numbers)."""
        kind = np.full(len(proto), cls.OTHER, dtype=np.int8)
        kind[proto == 1] = cls.ICMP
        kind[proto == 58] = cls.ICMP6
        has_port = service >= 0
        kind[(proto == 6) & has_port] = cls.TCP
        kind[(proto == 6) & ~has_port] = cls.TCP_ALL
        kind[(proto == 17) & has_port] = cls.UDP
        kind[(proto == 17) & ~has_port] = cls.UDP_ALL
        return kind

    def within(self, set_ids: I64, kind: npt.NDArray[np.int8], port: I64) -> npt.NDArray[np.bool_]:
        """Whether each service (``kind``, ``port``) is within set ``set_ids`` (``<=``)."""
        self._compile()
        out = np.zeros(len(set_ids), dtype=np.bool_)
        ported = kind <= self.UDP
        at = np.flatnonzero(ported)
        if len(at) and len(self._starts):
            q = ((set_ids[at] * 2 + kind[at]) << 16) | port[at]
            i = np.searchsorted(self._starts, q, side="right") - 1
            out[at] = (i >= 0) & (self._ends[np.maximum(i, 0)] >= q)
        rest = np.flatnonzero(~ported)
        if len(rest):
            out[rest] = self._flags[set_ids[rest], kind[rest].astype(np.int64) - self.TCP_ALL]
        return out


# --- the result -----------------------------------------------------------------------------


@dataclass
class ReplayResult:
    """Everything a replay found: per-file accounting, judged conversations, findings."""

    topology: Topology
    point: CapturePoint
    tables: CaptureTables
    #: every judged conversation, in order of first frame (objects made as they are read)
    conversations: Sequence[JudgedConversation]
    findings: list[Finding]

    @property
    def files(self) -> list[str]:
        return [f.file for f in self.tables.files]

    def violating(self) -> list[JudgedConversation]:
        return list(self.shown(verdicts=("violation",)))

    def shown(
        self,
        all_conversations: bool = False,
        verdicts: Sequence[Verdict] = ("violation", "unattributed"),
    ) -> Iterator[JudgedConversation]:
        """The conversations a report lists: those with one of ``verdicts`` (violating and
        unattributed ones by default), or every one; made one chunk at a time."""
        got = self.conversations
        if isinstance(got, JudgedConversations):
            if all_conversations:
                return iter(got)
            codes = [VERDICTS.index(v) for v in verdicts]
            return got.where(np.isin(got.verdict, codes))
        return (c for c in got if all_conversations or c.verdict in verdicts)

    def shown_json(self, all_conversations: bool = False) -> Iterator[dict[str, Any]]:
        """The JSON of :meth:`shown`'s conversations (``JudgedConversation.to_json``)."""
        got = self.conversations
        if isinstance(got, JudgedConversations):
            chosen = None if all_conversations else np.flatnonzero(got.verdict != ALLOWED)
            return got.to_json(chosen, self.files)
        return (c.to_json(self.files) for c in self.shown(all_conversations))

    def failing(self, threshold: Severity | str) -> list[Finding]:
        level = Severity(threshold).rank
        return [f for f in self.findings if not f.waived and f.severity.rank >= level]

    def nothing_judged(self) -> str | None:
        """Why no frame at all was judged (None when some were): such a run never passes."""
        files = self.tables.files
        if any(f.decoded for f in files):
            return None
        if not files:
            return "no capture file was found in what was given (an empty folder, or a folder without captures)"
        if all(f.error for f in files):
            return "no capture could be read"
        frames = sum(f.frames for f in files)
        if frames == 0:
            return "the captures hold no frames (a file header and nothing else)"
        if sum(f.unsupported_total for f in files) == frames:
            types = sorted({lt for f in files for lt in f.unsupported})
            return (
                "every frame is of a link type netseg does not read ("
                + ", ".join(f"link type {lt}" for lt in types)
                + ")"
            )
        return "no frame could be decoded"

    def incomplete(self) -> bool:
        """Some capture could not be read to its end (an error, a corrupt record or corrupt
        compressed data): what was read is judged, and the run is an input error."""
        return any(f.error or f.damage for f in self.tables.files)

    def totals(self) -> dict[str, int]:
        files = self.tables.files
        return {
            "frames": sum(f.frames for f in files),
            "decoded": sum(f.decoded for f in files),
            "undecodable": sum(f.undecodable_total for f in files),
            "unsupported": sum(f.unsupported_total for f in files),
            "conversations": len(self.conversations),
        }


# --- judging --------------------------------------------------------------------------------


class Judge:
    def __init__(self, topology: Topology, reachability: Reachability, point: CapturePoint) -> None:
        self.topology = topology
        self.reach = reachability
        self.point = point
        self.directory = Directory.of(topology)
        self.prefixes = PrefixIndex.of_topology(topology)
        self.findings: list[Finding] = []
        self.files: list[str] = []
        # Conversations repeat the same sides, services and pairs: each is worked out once.
        # Sides, policy sides and service sets are keyed by identity (hashing addresses and
        # port sets cost more than the work saved); every memo holds its key objects, so an
        # identity is never reused while the judge lives.
        self._side_shapes: dict[int, tuple[Side, Party, PolicySide | None, int]] = {}
        self._shapes: dict[tuple[object, ...], int] = {}
        self._sides: dict[tuple[str | None, IPAddress], PolicySide] = {}
        self._policy_sides: dict[PolicySide, PolicySide] = {}
        self._verdicts: dict[tuple[int, int, bool, int, bool], tuple[Verdict, tuple[str, ...]]] = {}
        self._allowed: dict[tuple[int, int], tuple[PolicySide, PolicySide, ServiceSet]] = {}
        self._services: dict[tuple[int | None, int | None], ServiceSet] = {}
        # Per pair of side shapes: the policy's and the model's services, interned by value,
        # and whether a service is within an interned set, so that a conversation on a port
        # not seen before between two shapes costs lookups, not interval arithmetic (a
        # capture on many ports misses the verdict memo for most of its conversations).
        self._pair_sets: dict[tuple[int, int, bool], ServiceSet] = {}
        self._interned: dict[ServiceSet, ServiceSet] = {}
        self._within: dict[tuple[int, int], bool] = {}
        self._service_table = _ServiceTable()
        self._class_numbers: dict[tuple[object, ...], int] = {}
        self._class_by_ref: dict[str, int | None] = {}
        self._off_vlan: dict[tuple[int, int | None], tuple[Side, str | None]] = {}
        self._spoofs: dict[
            int, tuple[Side, tuple[tuple[str, IPAddress], tuple[Known, int]] | None]
        ] = {}

    # findings -------------------------------------------------------------------------------
    def finding(
        self,
        rule: str,
        message: str,
        subject: str,
        obj: str | None,
        location: Location,
        evidence: dict[str, Any],
        severity: Severity | None = None,
    ) -> None:
        self.findings.append(
            catalogue.finding(rule, message, subject, location, obj, evidence, severity)
        )

    # policy ---------------------------------------------------------------------------------
    def _policy_side(self, party: Party, ip: IPAddress | None) -> PolicySide:
        k = party.known
        zone = k.zone if k is not None else None
        if ip is None:
            return PolicySide(zone, frozenset(), known=False)
        found = self._sides.get((zone, ip))
        if found is None:
            # the host route of the address (an integer is parsed three times faster than text)
            cls = ipaddress.IPv4Interface if ip.version == 4 else ipaddress.IPv6Interface
            iface = cls(int(ip))
            found = self._sides[(zone, ip)] = PolicySide(zone, self.prefixes.match(iface))
        return found

    def _side_shape(self, side: Side) -> tuple[Party, PolicySide | None, int]:
        """The party of a side, its policy side and the number of its shape, memoised per
        side.

        The shape is all that a conversation's verdict needs of one side apart from which
        attachment it is (:meth:`judge` adds whether both sides are the same one): whether it
        is attributed, broadcast or a router's own address, its kind and zone, its policy side
        and the model's class of its attachment. Many sides share a shape (the guests of one
        zone, prefix and class), so verdicts are worked out once per pair of shapes, service
        and answered, rather than once per conversation (about 13,900 of them in the
        reference capture against a few hundred shapes).
        """
        found = self._side_shapes.get(id(side))
        if found is None:
            found = self._side_entry(side)
        return found[1], found[2], found[3]

    def _side_entry(self, side: Side) -> tuple[Side, Party, PolicySide | None, int]:
        """Work out and memoise :meth:`_side_shape`'s answer (the memo entry holds the side)."""
        found = self._side_shapes.get(id(side))
        if found is None:
            party = attribute(side, self.directory)
            k = party.known
            router_own = k is not None and k.kind == "router" and not party.by_ip
            policy: PolicySide | None = None
            model_class: int | None = None
            if k is not None and not router_own:
                # interned by value, so the allowance is memoised per distinct policy side
                ps = self._policy_side(party, side.ip)
                policy = self._policy_sides.setdefault(ps, ps)
                model_class = self._class_of(k)
            shape = (
                party.attributed,
                party.ref == BROADCAST,
                router_own,
                k.kind if k is not None else None,
                k.zone if k is not None else None,
                policy,
                model_class,
            )
            number = self._shapes.setdefault(shape, len(self._shapes))
            found = self._side_shapes[id(side)] = (side, party, policy, number)
        return found

    def _service(self, c: Conversation) -> ServiceSet:
        key = (c.proto, c.service_port)
        found = self._services.get(key)
        if found is None:
            found = self._services[key] = service_of(c)
        return found

    def _policy(self, src: PolicySide, dst: PolicySide) -> ServiceSet:
        found = self._allowed.get((id(src), id(dst)))
        if found is None:
            allowed = policy_allows(self.topology, src, dst, self.prefixes)
            found = self._allowed[(id(src), id(dst))] = (src, dst, allowed)
        return found[2]

    def _class_of(self, k: Known) -> int | None:
        """The number of an attachment's reachability class (``Reachability.class_key``;
        the model's services between two attachments depend only on their classes), or None
        for an attachment the model does not know (asking it then raises, as it always did)."""
        if k.ref in self._class_by_ref:
            return self._class_by_ref[k.ref]
        try:
            key = self.reach.class_key(k.ref)
        except SelectorError:
            number = None
        else:
            number = self._class_numbers.setdefault(key, len(self._class_numbers))
        self._class_by_ref[k.ref] = number
        return number

    def _pair_set(
        self, shapes: tuple[int, int, bool], compute: Callable[[], ServiceSet]
    ) -> ServiceSet:
        """A service set that depends on nothing but a pair of side shapes (``shapes`` ends
        with True for the model's, False for the policy's), interned by value."""
        found = self._pair_sets.get(shapes)
        if found is None:
            value = compute()
            found = self._pair_sets[shapes] = self._interned.setdefault(value, value)
        return found

    def _is_within(self, service: ServiceSet, allowed: ServiceSet) -> bool:
        """``service <= allowed`` for a memoised service and an interned set."""
        key = (id(service), id(allowed))
        found = self._within.get(key)
        if found is None:
            found = self._within[key] = service <= allowed
        return found

    def _shape_verdict(
        self,
        src: Party,
        src_policy: PolicySide | None,
        dst: Party,
        dst_policy: PolicySide | None,
        same: bool,
        service: ServiceSet,
        answered: bool,
        shapes: tuple[int, int],
    ) -> tuple[Verdict, tuple[str, ...]]:
        """The verdict and rules of a conversation, from nothing but its sides' shapes (see
        :meth:`_side_shape`; ``shapes`` are their numbers), whether both sides are one
        attachment, its service and whether it was answered, so that it holds for every
        conversation with the same."""
        rules: list[str] = []
        if not src.attributed or not dst.attributed:
            verdict: Verdict = "unattributed"
        elif dst.ref == BROADCAST or src.ref == BROADCAST:
            verdict = "allowed"  # no single destination to judge against the zone policy
        elif (src.known and src.known.kind == "router" and not src.by_ip) or (
            dst.known and dst.known.kind == "router" and not dst.by_ip
        ):
            verdict = "allowed"  # traffic with a router's own address is infrastructure
        else:
            assert src.known is not None and dst.known is not None
            assert src_policy is not None and dst_policy is not None
            policy_pair = (src_policy, dst_policy)
            allowed = self._pair_set(
                (*shapes, False), lambda: self._policy(policy_pair[0], policy_pair[1])
            )
            verdict = "allowed"
            if not same and not self._is_within(service, allowed):
                verdict = "violation"
                if src.known.kind == "guest" and dst.known.kind == "management":
                    rules.append("observed-guest-to-management")
                elif src.known.zone != dst.known.zone or self.topology.policy.intra_zone == "deny":
                    rules.append("observed-zone-violation")
                else:
                    verdict = "allowed"
            if answered and not same:
                # the same for every pair of the two sides' classes, which are in the shapes
                refs = (src.known.ref, dst.known.ref)
                model = self._pair_set((*shapes, True), lambda: self.reach.services(*refs))
                if not self._is_within(service, model):
                    rules.append("observed-model-drift")
                    verdict = "violation"
        return verdict, tuple(rules)

    def judge(self, c: Conversation) -> JudgedConversation:
        memo = self._side_shapes  # looked up here first: nearly every side is known already
        a = memo.get(id(c.initiator))
        _, src, src_policy, src_shape = a if a is not None else self._side_entry(c.initiator)
        b = memo.get(id(c.responder))
        _, dst, dst_policy, dst_shape = b if b is not None else self._side_entry(c.responder)
        service = self._services.get((c.proto, c.service_port))
        if service is None:
            service = self._service(c)  # one object per distinct service, held by its memo
        answered = c.frames_returned > 0
        same = src.ref == dst.ref
        key = (src_shape, dst_shape, same, id(service), answered)
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = self._shape_verdict(
                src, src_policy, dst, dst_policy, same, service, answered, (src_shape, dst_shape)
            )
        verdict, rules = found
        if c.fragments_only:
            # later fragments alone (their first is not in the capture): no zone verdict
            verdict, rules = "unattributed", ()
        stopped = attribute(c.stopped_by, self.directory) if c.stopped_by is not None else None
        vlan = c.vlan if c.vlan is not None else self.point.untagged_vlan  # point.vlan_of
        judged = JudgedConversation(c, vlan, src, dst, service, verdict, rules, stopped)
        for rule in rules:
            self._conversation_finding(rule, judged)
        return judged

    def judge_columns(self, cols: ConversationColumns) -> JudgedConversations:
        """Judge every conversation of ``cols`` at once, with the same verdicts and rules as
        :meth:`judge` gives each, and add their findings.

        Python works once per distinct side (its attribution and shape, as :meth:`judge`) and
        once per pair of side shapes (the policy's and the model's services, interned); the
        verdicts themselves are numpy over the columns: each conversation's (protocol, port)
        looked up in its pair's sets (:class:`_ServiceTable`). Objects are made only for the
        conversations with a finding.
        """
        n = len(cols)
        entries = [self._side_entry(side) for side in cols.sides]
        parties = [e[1] for e in entries]
        refs: dict[str, int] = {}
        shape = np.asarray([e[3] for e in entries], dtype=np.int64)
        ref = np.asarray([refs.setdefault(e[1].ref, len(refs)) for e in entries], dtype=np.int64)
        init, resp = cols.initiator, cols.responder
        verdict = np.full(n, ALLOWED, dtype=np.int8)
        rules = np.zeros(n, dtype=np.int8)
        if n:
            same = ref[init] == ref[resp]
            answered = cols.answered
            width = max(len(self._shapes), 1)
            pairs, first, pair_of = np.unique(
                shape[init] * width + shape[resp], return_index=True, return_inverse=True
            )
            pair_of = pair_of.reshape(-1)
            # per pair of shapes: what is judged, and against which sets
            kind = np.zeros(len(pairs), dtype=np.int8)  # 0 allowed, 1 judged, 2 unattributed
            policy_rule = np.zeros(len(pairs), dtype=np.int8)
            policy_set = np.zeros(len(pairs), dtype=np.int64)
            for p, j in enumerate(first.tolist()):
                kind[p], policy_rule[p], policy_set[p] = self._pair_plan(
                    entries[int(init[j])], entries[int(resp[j])]
                )
            judged = kind[pair_of] == 1
            service_kind = _ServiceTable.kinds(cols.proto, cols.service)
            port = np.maximum(cols.service, 0)
            at = np.flatnonzero(judged & ~same & (policy_rule[pair_of] != 0))
            against = self._service_table
            broken = at[~against.within(policy_set[pair_of[at]], service_kind[at], port[at])]
            code = np.zeros(n, dtype=np.int8)
            code[broken] = policy_rule[pair_of[broken]]
            ask = judged & answered & ~same
            if ask.any():
                model_set = np.full(len(pairs), -1, dtype=np.int64)
                asked = np.flatnonzero(ask)
                needed, where = np.unique(pair_of[asked], return_index=True)
                for p, j in zip(needed.tolist(), asked[where].tolist(), strict=True):
                    model_set[p] = self._model_set(entries[int(init[j])], entries[int(resp[j])])
                drift = asked[
                    ~against.within(model_set[pair_of[asked]], service_kind[asked], port[asked])
                ]
                code[drift] += 3
            rules = code
            verdict[code != 0] = VIOLATION
            verdict[kind[pair_of] == 2] = UNATTRIBUTED
            # later fragments alone (their first is not in the capture): no zone verdict
            verdict[cols.fragments_only] = UNATTRIBUTED
            rules[cols.fragments_only] = 0
        out = JudgedConversations(cols, verdict, rules, parties, self.directory, self.point)
        for j in out.where(rules != 0):
            for rule in j.rules:
                self._conversation_finding(rule, j)
        return out

    def _pair_plan(
        self,
        src: tuple[Side, Party, PolicySide | None, int],
        dst: tuple[Side, Party, PolicySide | None, int],
    ) -> tuple[int, int, int]:
        """For a pair of side shapes (a side of each, as :meth:`_side_entry` gives them): 0
        (allowed whatever the service), 1 (judged) or 2 (unattributed); the policy's rule code
        for a service it does not allow (0: none, it is allowed); the policy's set, interned
        (:meth:`_shape_verdict` on the same shapes)."""
        _, s, s_policy, s_shape = src
        _, d, d_policy, d_shape = dst
        if not s.attributed or not d.attributed:
            return 2, 0, 0
        if d.ref == BROADCAST or s.ref == BROADCAST:
            return 0, 0, 0
        if (s.known and s.known.kind == "router" and not s.by_ip) or (
            d.known and d.known.kind == "router" and not d.by_ip
        ):
            return 0, 0, 0
        assert s.known is not None and d.known is not None
        assert s_policy is not None and d_policy is not None
        allowed = self._pair_set(
            (s_shape, d_shape, False), lambda: self._policy(s_policy, d_policy)
        )
        if s.known.kind == "guest" and d.known.kind == "management":
            rule = 1
        elif s.known.zone != d.known.zone or self.topology.policy.intra_zone == "deny":
            rule = 2
        else:
            rule = 0
        return 1, rule, self._service_table.id(allowed)

    def _model_set(
        self,
        src: tuple[Side, Party, PolicySide | None, int],
        dst: tuple[Side, Party, PolicySide | None, int],
    ) -> int:
        """The model's services between two judged sides of different attachments (the same
        for every pair of their shapes), interned."""
        s, d = src[1].known, dst[1].known
        assert s is not None and d is not None
        refs = (s.ref, d.ref)
        model = self._pair_set((src[3], dst[3], True), lambda: self.reach.services(*refs))
        return self._service_table.id(model)

    def _conversation_finding(self, rule: str, j: JudgedConversation) -> None:
        c = j.conversation
        src, dst = j.source, j.destination
        svc = service_text(c)
        frames = ", ".join(str(f.frame) for f in c.sample_frames)
        where = src.known.location if src.known else NOWHERE
        answered = "answered" if c.answered else "unanswered"
        if rule == "observed-guest-to-management":
            msg = f"{src.ref} sent to management interface {dst.ref} on {svc} ({answered}), which the policy does not allow; frames {frames}"
        elif rule == "observed-zone-violation":
            msg = (
                f"{src.ref} (zone {src.known.zone if src.known else '?'}) sent to {dst.ref} "
                f"(zone {dst.known.zone if dst.known else '?'}) on {svc} ({answered}), which the policy does not allow; frames {frames}"
            )
        else:
            msg = f"{src.ref} -> {dst.ref} on {svc} was answered, but the model says it cannot get through: the design and the network disagree; frames {frames}"
        self.finding(rule, msg, src.ref, dst.ref, where, {"conversation": j.to_json(self.files)})

    # frame-level rules ----------------------------------------------------------------------
    def frame_rules(self, judged: JudgedConversations, tables: CaptureTables) -> None:
        self._unknown_sources(judged)
        self._spoofed_sources(judged)
        self._wrong_vlans(judged)
        for event, count, refs in tables.events.events():
            self._event(event, count, refs)

    @staticmethod
    def _senders(judged: JudgedConversations, group_of_side: I64) -> tuple[I64, I64]:
        """Every (conversation, side) where that side sent something (the initiator always,
        the responder when it answered) and its side's group (``group_of_side``; -1: none),
        ordered by conversation then initiator first, as one walk over the conversations
        meets them: positions and groups."""
        cols = judged.columns
        gi = group_of_side[cols.initiator]
        gr = np.where(cols.answered, group_of_side[cols.responder], -1)
        pos_i, pos_r = np.flatnonzero(gi >= 0), np.flatnonzero(gr >= 0)
        pos = np.concatenate([pos_i, pos_r])
        group = np.concatenate([gi[pos_i], gr[pos_r]])
        order = np.lexsort((np.r_[np.zeros(len(pos_i)), np.ones(len(pos_r))], pos))
        return pos[order], group[order]

    @staticmethod
    def _by_group(pos: I64, group: I64) -> dict[int, I64]:
        """The positions of each group, in their order."""
        if not len(group):
            return {}
        order = np.argsort(group, kind="stable")
        g, p = group[order], pos[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        ends = np.r_[starts[1:], len(g)]
        return {int(g[a]): p[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}

    @staticmethod
    def _first_refs(judged: JudgedConversations, positions: I64) -> list[FrameRef]:
        """The first five sample frames of these conversations, in their order."""
        refs: list[FrameRef] = []
        for j in positions.tolist():
            refs += judged.columns.sample_refs(j)
            if len(refs) >= 5:
                break
        return refs[:5]

    def _unknown_sources(self, judged: JudgedConversations) -> None:
        cols = judged.columns
        macs: dict[int, int] = {}
        group = np.full(len(cols.sides), -1, dtype=np.int64)
        for n, (side, party) in enumerate(zip(cols.sides, judged.parties, strict=True)):
            if party.mac_unknown and side.mac is not None and not _is_group(side.mac):
                group[n] = macs.setdefault(side.mac, len(macs))
        if not macs:
            return
        found = self._by_group(*self._senders(judged, group))
        frames = cols.frames
        named = {format_mac(mac): g for mac, g in macs.items() if g in found}
        for mac, g in sorted(named.items()):
            convs = found[g]
            refs = self._first_refs(judged, convs)
            ends = np.unique(np.concatenate([cols.initiator[convs], cols.responder[convs]]))
            ips = sorted(
                {
                    str(side.ip)
                    for side in (cols.sides[e] for e in ends.tolist())
                    if side.mac is not None and format_mac(side.mac) == mac and side.ip is not None
                }
            )
            known_ip = [ip for ip in ips if ipaddress.ip_address(ip) in self.directory.by_ip]
            note = (
                f" using the address of {self.directory.by_ip[ipaddress.ip_address(known_ip[0])].ref}"
                if known_ip
                else ""
            )
            total = int(frames[convs].sum())
            self.finding(
                "observed-unknown-source",
                f"frames from MAC {mac}, which is in no attachment of the topology{note} "
                f"({total} frames in {len(convs)} conversation{'s' if len(convs) != 1 else ''}); frames {', '.join(str(r.frame) for r in refs)}",
                f"mac:{mac}",
                None,
                NOWHERE,
                {
                    "mac": mac,
                    "addresses": ips,
                    "conversations": [j.to_json(self.files) for j in judged.at(convs[:5])],
                    "frames": [frame_json(r, self.files) for r in refs],
                },
            )

    def _is_own(self, k: Known, mac: int, ip: IPAddress) -> bool:
        if ip.is_unspecified:
            return True
        if any(a.ip == ip for a in k.addresses):
            return True
        return ip.version == 6 and ip.is_link_local and ip == _eui64(mac)

    def _spoof_of(self, side: Side) -> tuple[tuple[str, IPAddress], tuple[Known, int]] | None:
        """For a side that sends from an address its MAC's attachment does not own (routers
        forward others' packets and are left out): the finding's key (attachment, address)
        and its sender. Memoised per side: conversations share their sides."""
        found = self._spoofs.get(id(side))
        if found is None:
            mac, ip = side.mac, side.ip
            k = self.directory.by_mac.get(mac) if mac is not None else None
            spoof = None
            if (
                k is not None
                and ip is not None
                and mac is not None
                and k.kind != "router"
                and not self._is_own(k, mac, ip)
            ):
                spoof = ((k.ref, ip), (k, mac))
            found = self._spoofs[id(side)] = (side, spoof)
        return found[1]

    def _spoof(
        self,
        k: Known,
        mac: int,
        ip: IPAddress,
        refs: Sequence[FrameRef],
        how: str,
        evidence: dict[str, Any],
    ) -> None:
        owner = self.directory.by_ip.get(ip)
        critical = ip in self.directory.management_ips
        whose = f" ({owner.ref}'s address)" if owner else ""
        frames = ", ".join(str(r.frame) for r in refs)
        self.finding(
            "observed-address-spoofing",
            f"{k.ref} (MAC {format_mac(mac)}) {how} {ip}{whose}, which is not its own; frames {frames}",
            k.ref,
            owner.ref if owner else str(ip),
            k.location,
            {
                "claimed_address": str(ip),
                "frames": [frame_json(r, self.files) for r in refs],
                **evidence,
            },
            Severity.CRITICAL if critical else None,
        )

    def _spoofed_sources(self, judged: JudgedConversations) -> None:
        cols = judged.columns
        keys: dict[tuple[str, IPAddress], int] = {}
        senders: list[tuple[Known, int]] = []
        group = np.full(len(cols.sides), -1, dtype=np.int64)
        for n, side in enumerate(cols.sides):
            spoof = self._spoof_of(side)
            if spoof is not None:
                g = keys.setdefault(spoof[0], len(keys))
                if g == len(senders):
                    senders.append(spoof[1])
                group[n] = g
        if not keys:
            return
        found = self._by_group(*self._senders(judged, group))
        present = [(key, g) for key, g in keys.items() if g in found]
        for key, g in sorted(present, key=lambda t: (t[0][0], str(t[0][1]))):
            k, mac = senders[g]
            convs = found[g]
            refs = self._first_refs(judged, convs)
            (first,) = judged.at(convs[:1])
            evidence = {"conversation": first.to_json(self.files)}
            self._spoof(k, mac, key[1], refs, "sends from", evidence)

    def _wrong_vlans(self, judged: JudgedConversations) -> None:
        cols = judged.columns
        if not len(cols):
            return
        # every (side, outer tag) that sent: is that tag wrong for the side's attachment?
        tags = cols.vlan + 1  # 0: untagged
        width = 4097
        pos, side = self._senders(judged, np.arange(len(cols.sides), dtype=np.int64))
        pair = side * width + tags[pos]
        distinct, pair_of = np.unique(pair, return_inverse=True)
        keys: dict[tuple[str, int | None], int] = {}
        group_of_pair = np.full(len(distinct), -1, dtype=np.int64)
        for n, value in enumerate(distinct.tolist()):
            s, tag = cols.sides[value // width], value % width - 1
            vlan = None if tag < 0 else tag
            k = self.directory.by_mac.get(s.mac) if s.mac is not None else None
            if k is not None and k.vlan is not None and self._vlan_problem(k.vlan, vlan):
                group_of_pair[n] = keys.setdefault((k.ref, vlan), len(keys))
        if not keys:
            return
        group = group_of_pair[pair_of.reshape(-1)]
        chosen = group >= 0
        found = self._by_group(pos[chosen], group[chosen])
        for (ref, tag), g in sorted(keys.items(), key=lambda t: (t[0][0], t[0][1] or 0)):
            k = self.directory.by_ref[ref]
            convs = found[g]
            refs = self._first_refs(judged, convs)
            assert k.vlan is not None
            seen = (
                f"tagged VLAN {tag}"
                if tag is not None
                else (
                    f"untagged (VLAN {self.point.untagged_vlan} at {self.point.name})"
                    if self.point.untagged_vlan is not None
                    else f"untagged at {self.point.name}, where it must be tagged"
                )
            )
            (first,) = judged.at(convs[:1])
            self.finding(
                "observed-wrong-vlan",
                f"{ref} sent frames {seen}, but its attachment carries {k.vlan}; frames {', '.join(str(r.frame) for r in refs)}",
                ref,
                None,
                k.location,
                {
                    "vlan": tag,
                    "expected": str(k.vlan),
                    "conversation": first.to_json(self.files),
                    "frames": [frame_json(r, self.files) for r in refs],
                },
            )

    def _vlan_problem(self, mode: VlanMode, tag: int | None) -> bool:
        """Whether a frame with outer tag ``tag`` (None: untagged) cannot come from an
        attachment in ``mode`` at this capture point."""
        if mode.kind == "transparent":
            return False
        vlan = self.point.vlan_of(tag)
        if mode.kind == "access":
            if mode.vlan == 0:
                return False  # untagged on its vswitch: the physical VLAN is the wire's
            if vlan is None:
                # untagged where the point gives no VLAN: it must have been tagged here
                return bool(self.point.name) and tag is None
            return vlan != mode.vlan
        if vlan is None:
            return False
        return vlan not in mode.trunk and vlan != mode.native

    def _event(self, event: Event, count: int, refs: tuple[FrameRef, ...]) -> None:
        mac = event.mac
        k = self.directory.by_mac.get(mac) if mac is not None else None
        who = (
            k.ref if k is not None else (f"mac:{format_mac(mac)}" if mac is not None else "unknown")
        )
        loc = k.location if k is not None else NOWHERE

        # made only for a finding: most events (a guest's ARP for its own address) make none
        def frames() -> str:
            return ", ".join(str(r.frame) for r in refs)

        def ev() -> dict[str, Any]:
            return {
                "frames": [frame_json(r, self.files) for r in refs],
                "count": count,
                "vlan": event.vlan,
            }

        if (
            event.kind in ("arp-claim", "nd-claim")
            and event.address is not None
            and mac is not None
        ):
            ip = event.address
            if ip.is_unspecified or (k is not None and k.kind == "router"):
                return
            owner = self.directory.by_ip.get(ip)
            claims_other = owner is not None and owner.ref != (k.ref if k else None)
            if k is not None and not self._is_own(k, mac, ip):
                self._spoof(
                    k,
                    mac,
                    ip,
                    refs,
                    f"claims in {'ARP' if event.kind == 'arp-claim' else 'neighbour discovery'}",
                    ev(),
                )
            elif k is None and claims_other:
                assert owner is not None
                self.finding(
                    "observed-address-spoofing",
                    f"unknown MAC {format_mac(mac)} claims {ip} ({owner.ref}'s address); frames {frames()}",
                    who,
                    owner.ref,
                    NOWHERE,
                    {"claimed_address": str(ip), **ev()},
                    Severity.CRITICAL if ip in self.directory.management_ips else None,
                )
        elif event.kind == "dhcp-server":
            if k is None or "dhcp-server" not in k.roles:
                self.finding(
                    "observed-rogue-dhcp",
                    f"DHCP {event.detail} from {who}, which has no role dhcp-server; frames {frames()}",
                    who,
                    None,
                    loc,
                    {"server_address": str(event.address) if event.address else None, **ev()},
                )
        elif event.kind == "router-advertisement":
            if k is None or "router" not in k.roles:
                self.finding(
                    "observed-rogue-router-advertisement",
                    f"IPv6 router advertisement from {who}, which has no role router; frames {frames()}",
                    who,
                    None,
                    loc,
                    {"source_address": str(event.address) if event.address else None, **ev()},
                )
        elif event.kind == "bridge-protocol":
            if k is not None and k.kind == "guest":
                self.finding(
                    "observed-bridge-protocol",
                    f"{str(event.detail).upper()} frames from {who}: guests should never speak switch protocols; frames {frames()}",
                    who,
                    None,
                    loc,
                    {"protocol": event.detail, **ev()},
                )
        elif event.kind == "multi-tag" and not self.point.qinq:
            tags = "/".join(str(vid) for _, vid in (event.detail or ()))  # type: ignore[attr-defined]
            self.finding(
                "observed-double-tag",
                f"{who} sent frames with stacked VLAN tags {tags} (double tagging hops VLANs); frames {frames()}",
                who,
                None,
                loc,
                {"tags": [list(t) for t in (event.detail or ())], **ev()},  # type: ignore[attr-defined]
            )


def named_services(topology: Topology) -> ServiceSet:
    """The TCP and UDP ports the policy, the routers' ACLs and the hosts' firewalls name as
    services (a whole protocol names none): the initiator rule's last port evidence."""
    sets = [r.services for r in topology.policy.allow]
    sets += [line.services for r in topology.routers for line in r.acl]
    sets += [r.services for h in topology.hosts if h.firewall is not None for r in h.firewall.allow]
    full = ServiceSet.parse("any")
    named = ServiceSet.union_all(sets)
    return ServiceSet(
        tcp=named.tcp if named.tcp != full.tcp else ServiceSet.none().tcp,
        udp=named.udp if named.udp != full.udp else ServiceSet.none().udp,
    )


def named_ports(topology: Topology) -> NamedPorts:
    """Whether the topology names each (protocol, port) as a service (:func:`named_services`),
    for arrays of them."""
    named = named_services(topology)
    tcp = np.zeros(65536, dtype=np.bool_)
    udp = np.zeros(65536, dtype=np.bool_)
    for table, ports in ((tcp, named.tcp), (udp, named.udp)):
        for lo, hi in ports.ranges:
            table[lo : hi + 1] = True

    def is_named(proto: I64, port: I64) -> npt.NDArray[np.bool_]:
        p = port & 0xFFFF
        return np.where(proto == 6, tcp[p], np.where(proto == 17, udp[p], False)) & (port >= 0)

    return is_named


def judge_tables(
    topology: Topology,
    reachability: Reachability,
    tables: CaptureTables,
    point: CapturePoint = NO_POINT,
) -> ReplayResult:
    """Attribute and judge every conversation of ``tables`` (as columns, :meth:`Judge.
    judge_columns`), then run the frame rules."""
    judge = Judge(topology, reachability, point)
    judge.files = [f.file for f in tables.files]
    cols = columns_of(tables.conversations, named_ports(topology))
    judged = judge.judge_columns(cols)
    judge.frame_rules(judged, tables)
    findings = apply_policy(topology, judge.findings)
    return ReplayResult(topology, point, tables, judged, findings)
