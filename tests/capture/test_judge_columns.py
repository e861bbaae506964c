"""The columnar judge (``Judge.judge_columns``) against the per-conversation one (``Judge.judge``).

Random frames between the attachments of the ESXi example topology (guests, management
interfaces, an endpoint, router interfaces with addresses behind them), unknown MACs and
addresses, broadcasts, on random VLANs, protocols and ports (the policy's named ones among
them): every conversation's verdict, rules, parties, service and VLAN from the columns must be
what a fresh per-conversation judge, sharing nothing, says of that conversation object, and the
conversation findings must be the same.
"""

from __future__ import annotations

from ipaddress import ip_address

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from netseg.capture import columns, native
from netseg.capture.accounting import CaptureTables
from netseg.capture.columns import columns_of
from netseg.capture.decode import decode_batch, format_mac
from netseg.capture.judge import (
    _IP_PROTOCOLS,
    Directory,
    Judge,
    _ServiceTable,
    judge_tables,
    named_ports,
    named_services,
    resolve_capture_point,
)
from netseg.graph import analyse_reachability
from netseg.model.services import ServiceSet
from netseg.topology import load
from tests.capture.test_decode import batch_of

TOPOLOGY = load("topologies/esxi-cluster.yaml")
REACH = analyse_reachability(TOPOLOGY)
_DIRECTORY = Directory.of(TOPOLOGY)
# (MAC, address) of every attachment with an address, routers' own included
KNOWN = [
    (format_mac(mac), str(a.ip))
    for mac, k in sorted(_DIRECTORY.by_mac.items())
    for a in k.addresses
]
ROUTER_MACS = [format_mac(m) for m, k in sorted(_DIRECTORY.by_mac.items()) if k.kind == "router"]
UNKNOWN = [("02:00:00:00:99:01", "192.0.2.250"), ("02:00:00:00:99:02", "198.51.100.250")]
PORTS = [22, 53, 80, 123, 443, 445, 3306, 5432, 8080, 8443, 9000, 40000, 50000, 60001]

endpoint = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(UNKNOWN),
    # a routed frame: a router's MAC with an address behind it (known or not)
    st.tuples(st.sampled_from(ROUTER_MACS), st.sampled_from([ip for _, ip in KNOWN + UNKNOWN])),
    # a known MAC sending from another attachment's address (spoofing)
    st.tuples(st.sampled_from([m for m, _ in KNOWN]), st.sampled_from([ip for _, ip in KNOWN])),
)


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    (smac, sip), (dmac, dip) = draw(endpoint), draw(endpoint)
    if draw(st.booleans()) and draw(st.booleans()):
        dmac = "ff:ff:ff:ff:ff:ff"
    if ip_address(sip).version != ip_address(dip).version:
        dip = sip if draw(st.booleans()) else dip
        sip = dip
    l2 = Ether(src=smac, dst=dmac)
    vlan = draw(st.sampled_from([None, 0, 50, 100, 101, 102, 103, 104, 999]))
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    l3 = IP(src=sip, dst=dip) if ip_address(sip).version == 4 else IPv6(src=sip, dst=dip)
    kind = draw(st.sampled_from(["tcp", "tcp", "udp", "icmp", "other"]))
    sport, dport = draw(st.sampled_from(PORTS)), draw(st.sampled_from(PORTS))
    if kind == "tcp":
        flags = draw(st.sampled_from(["S", "SA", "A", "PA", "R"]))
        return bytes(l2 / l3 / TCP(sport=sport, dport=dport, flags=flags))
    if kind == "udp":
        return bytes(l2 / l3 / UDP(sport=sport, dport=dport) / b"x")
    if kind == "icmp" and isinstance(l3, IP):
        return bytes(l2 / l3 / ICMP(type=draw(st.sampled_from([0, 8]))))
    if isinstance(l3, IP):
        l3.proto = 47
    else:
        l3.nh = 47
    return bytes(l2 / l3 / Raw(b"gre!"))


def _tables(frames: list[bytes]) -> CaptureTables:
    d = decode_batch(batch_of(frames))
    t = CaptureTables()
    t.conversations.add_batch(d, 0)
    t.events.add_batch(d, 0)
    return t


def _is_named(proto: int, port: int) -> bool:
    named = named_services(TOPOLOGY)
    name = _IP_PROTOCOLS.get(proto)
    return name in ("tcp", "udp") and ServiceSet.single(name, port) <= named


@settings(max_examples=80, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=40), st.sampled_from([None, "tor1:Eth1/11"]))
def test_columnar_verdicts_equal_each_conversations_own(
    frames: list[bytes], at: str | None
) -> None:
    tables = _tables(frames)
    point = resolve_capture_point(TOPOLOGY, at)
    judge = Judge(TOPOLOGY, REACH, point)
    cols = columns_of(tables.conversations, named_ports(TOPOLOGY))
    judged = judge.judge_columns(cols)
    objects = list(tables.conversations.conversations(_is_named))
    assert len(judged) == len(objects) == len(cols)
    reference = Judge(TOPOLOGY, REACH, point)
    for got, c in zip(judged, objects, strict=True):
        own = Judge(TOPOLOGY, REACH, point).judge(c)
        reference.judge(c)  # the conversation findings, in order
        assert got.conversation == c
        assert (got.source, got.destination, got.verdict, got.rules) == (
            own.source,
            own.destination,
            own.verdict,
            own.rules,
        )
        assert (got.service, got.vlan, got.stopped_by) == (own.service, own.vlan, own.stopped_by)
    assert judge.findings == reference.findings
    # the JSON written straight from the columns is the objects' own
    files = ["a.pcap"]
    assert list(judged.to_json(None, files)) == [j.to_json(files) for j in judged]


def test_random_conversations_reach_every_verdict() -> None:
    """The strategy above is not vacuous: on a fixed draw of frames it meets allowed,
    violating (policy and drift) and unattributed conversations."""
    rng = np.random.default_rng(7)
    built: list[bytes] = []
    for _ in range(400):
        (smac, sip), (dmac, dip) = KNOWN[rng.integers(len(KNOWN))], KNOWN[rng.integers(len(KNOWN))]
        if ip_address(sip).version != ip_address(dip).version:
            continue
        l3 = IP(src=sip, dst=dip) if ip_address(sip).version == 4 else IPv6(src=sip, dst=dip)
        port = int(PORTS[rng.integers(len(PORTS))])
        built.append(bytes(Ether(src=smac, dst=dmac) / l3 / TCP(sport=50001, dport=port)))
        built.append(
            bytes(
                Ether(src=dmac, dst=smac)
                / l3.__class__(src=dip, dst=sip)
                / TCP(sport=port, dport=50001, flags="SA")
            )
        )
    built.append(
        bytes(
            Ether(src=UNKNOWN[0][0], dst=KNOWN[0][0])
            / IP(src=UNKNOWN[0][1], dst=KNOWN[0][1])
            / UDP()
        )
    )
    result = judge_tables(TOPOLOGY, REACH, _tables(built))
    verdicts = {c.verdict for c in result.conversations}
    rules = {r for c in result.conversations for r in c.rules}
    assert verdicts == {"allowed", "violation", "unattributed"}
    assert {"observed-zone-violation", "observed-guest-to-management"} <= rules


@pytest.mark.parametrize(
    "services",
    ["tcp/22", "tcp/1-1023, udp/53", "tcp, icmp", "udp/0-65535, other", "icmp6", "any", []],
)
def test_service_lookups_equal_set_inclusion(services: str | list[str]) -> None:
    sets = [
        ServiceSet.none()
        if not services
        else ServiceSet.parse(services.split(", ") if isinstance(services, str) else services)
    ]
    sets.append(ServiceSet.parse(["tcp/80", "tcp/443", "udp/53-54"]))
    table = _ServiceTable()
    ids = [table.id(s) for s in sets]
    protos = [6, 17, 1, 58, 47, -1]
    rows = [
        (i, p, port)
        for i in ids
        for p in protos
        for port in (-1, 0, 22, 53, 54, 80, 443, 1023, 65535)
    ]
    set_ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    proto = np.asarray([r[1] for r in rows], dtype=np.int64)
    port = np.asarray([r[2] for r in rows], dtype=np.int64)
    kinds = _ServiceTable.kinds(proto, port)
    got = table.within(set_ids, kinds, np.maximum(port, 0)).tolist()
    for (i, p, q), inside in zip(rows, got, strict=True):
        name = _IP_PROTOCOLS.get(p) if p >= 0 else None
        if name in ("tcp", "udp"):
            service = ServiceSet.single(name, q if q >= 0 else None)
        elif name in ("icmp", "icmp6"):
            service = ServiceSet.single(name)
        else:
            service = ServiceSet.single("other")
        assert inside == (service <= table.sets[i]), (p, q, table.sets[i])


def test_sides_sharing_a_hash_are_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct sides are numbered by a 64-bit hash of their words; should two ever share one,
    the numbering falls back to the words themselves and gives the same conversations."""

    tables = _tables(
        [
            bytes(Ether(src=m, dst=KNOWN[0][0]) / IP(src=ip, dst=KNOWN[0][1]) / UDP())
            for m, ip in KNOWN
            if ":" not in ip
        ]
    )
    expected = list(tables.conversations.conversations())
    monkeypatch.setattr(columns, "_hash", lambda cols: np.zeros(cols.shape[1], dtype=np.uint64))
    cols = columns_of(tables.conversations)
    assert len(cols.sides) == len({s for c in expected for s in (c.initiator, c.responder)})
    assert list(cols.conversations()) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=30))
def test_key_columns_from_the_packed_index_equal_the_key_tuples(frames: list[bytes]) -> None:
    """The columns unpack the hash index's packed words when they cover every row: the same
    numbers as the key tuples themselves (the path a table merged from parts takes)."""
    from netseg.capture.columns import _key_columns

    # the packed index is the numpy path's (the compiled kernel keeps its own)
    with native.forced(False):
        table = _tables(frames).conversations
    assert table._indexed == len(table.keys)  # the packed path is the one taken here
    expected = np.array(table.keys, dtype=np.uint64).reshape(-1, 11)
    assert (_key_columns(table) == expected).all()
    assert (_key_columns(table.copy()) == expected).all()
