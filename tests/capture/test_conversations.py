"""Conversation and event tables: grouping, the initiator rule, and associative merging."""

from __future__ import annotations

from ipaddress import IPv4Address
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from netseg.capture import tabulate
from netseg.capture.conversations import ConversationTable, EventTable, _slot_table
from netseg.capture.decode import decode_batch
from tests.capture.frames import A4, A_MAC, B4, B_MAC, SAMPLES, reply_tcp, tcp
from tests.capture.helpers import pcap_bytes, write
from tests.capture.test_decode import batch_of

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")


def table(frames: list[bytes], file_index: int = 0, first_frame: int = 1) -> ConversationTable:
    b = batch_of(frames)
    b.frame_no += first_frame - 1
    b.ts_ns += first_frame - 1
    t = ConversationTable()
    t.add_batch(decode_batch(b), file_index)
    return t


def snapshot(t: ConversationTable) -> list[object]:
    return sorted(map(repr, t.conversations()))


def udp(src: str, dst: str, sport: int, dport: int, vlan: int = 10) -> bytes:
    macs = {A4: A_MAC, B4: B_MAC}
    l2 = Ether(src=macs[src], dst=macs[dst]) / Dot1Q(vlan=vlan)
    return bytes(l2 / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport))


def test_a_tcp_handshake_is_one_answered_conversation_from_the_syn_sender() -> None:
    frames = [reply_tcp("SA"), tcp("S"), tcp("A"), reply_tcp("A")]
    (conv,) = table(frames).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 443
    assert (conv.frames_sent, conv.frames_returned, conv.answered) == (2, 2, True)
    assert conv.syn_from_initiator and conv.vlan == 10
    assert [r.frame for r in conv.sample_frames] == [1, 2, 3, 4]


def test_unanswered_syns_from_several_client_ports_are_one_conversation() -> None:
    (conv,) = table([tcp("S", sport=p) for p in (40000, 40001, 40002)]).conversations()
    assert (conv.frames_sent, conv.answered) == (3, False)


def test_first_frame_from_a_low_port_to_a_high_port_is_the_responder() -> None:
    (conv,) = table([udp(B4, A4, 53, 5353), udp(A4, B4, 5353, 53)]).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 53


def test_otherwise_the_first_sender_initiates_and_the_service_is_the_responders_port() -> None:
    (conv,) = table([udp(B4, A4, 40000, 50000), udp(A4, B4, 50000, 40000)]).conversations()
    assert conv.initiator.ip == IPv4Address(B4) and conv.service_port == 50000
    assert conv.initiator_by == "first-frame"


def test_a_capture_starting_mid_session_is_judged_in_the_direction_it_was_opened() -> None:
    # the first frame is the server's reply (5432 -> the client's Linux ephemeral port)
    frames = [
        reply_tcp("PA", sport=5432, dport=40001),
        tcp("A", sport=40001, dport=5432),
        tcp("PA", sport=40001, dport=5432),
    ]
    (conv,) = table(frames).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 5432
    assert conv.initiator_by == "port" and (conv.frames_sent, conv.frames_returned) == (2, 1)


def test_a_syn_ack_names_its_receiver_the_initiator() -> None:
    # both ports registered, neither dynamic: only the SYN-ACK tells
    frames = [tcp("A", sport=3000, dport=4000), reply_tcp("SA", sport=4000, dport=3000)]
    (conv,) = table(frames).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 4000
    assert conv.initiator_by == "syn"


def test_one_dynamic_port_names_the_other_the_service() -> None:
    (conv,) = table([udp(B4, A4, 8500, 50000), udp(A4, B4, 50000, 8500)]).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 8500
    assert conv.initiator_by == "port"


def test_a_port_the_topology_names_as_a_service_is_the_servers() -> None:
    frames = [udp(B4, A4, 7000, 20000), udp(A4, B4, 20000, 7000)]
    (plain,) = table(frames).conversations()
    assert plain.initiator.ip == IPv4Address(B4) and plain.initiator_by == "first-frame"
    (conv,) = table(frames).conversations(named=lambda proto, port: (proto, port) == (17, 7000))
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 7000
    assert conv.initiator_by == "port" and (conv.frames_sent, conv.frames_returned) == (1, 1)
    (other,) = table(frames).conversations(named=lambda proto, port: port == 20000)
    assert other.initiator.ip == IPv4Address(B4) and other.service_port == 20000


def test_vlans_and_services_separate_conversations_and_non_ip_groups_by_ethertype() -> None:
    t = table(
        [
            udp(A4, B4, 5000, 53, vlan=10),
            udp(A4, B4, 5000, 53, vlan=20),
            udp(A4, B4, 5000, 123),
            SAMPLES["arp"],
            SAMPLES["lldp"],
        ]
    )
    convs = list(t.conversations())
    assert len(convs) == 5
    assert {c.ethertype for c in convs if c.proto is None} == {0x0806, 0x88CC}


def test_events_are_counted_per_distinct_key_with_first_frames() -> None:
    frames = [SAMPLES["arp"]] * 7 + [SAMPLES["dhcp-offer"], SAMPLES["triple-tag"], SAMPLES["stp"]]
    events = EventTable()
    events.add_batch(decode_batch(batch_of(frames)), 0)
    got = {
        (e.kind, e.detail if e.kind != "arp-claim" else None): (n, [r.frame for r in refs])
        for e, n, refs in events.events()
    }
    assert got[("arp-claim", None)] == (7, [1, 2, 3, 4, 5])
    assert got[("dhcp-server", "offer")] == (1, [8])
    assert got[("multi-tag", ((0x8100, 1), (0x8100, 2), (0x8100, 3)))] == (1, [9])
    assert got[("bridge-protocol", "stp")] == (1, [10])


_frame_pool = [
    *SAMPLES.values(),
    tcp("S"),
    reply_tcp("SA"),
    tcp("A"),
    reply_tcp("R"),
    udp(B4, A4, 53, 999),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_frame_pool), min_size=1, max_size=30), st.data())
def test_merging_chunks_in_any_grouping_and_order_equals_one_pass(
    frames: list[bytes], data: st.DataObject
) -> None:
    whole = table(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(frames)), max_size=4)))
    bounds = [0, *cuts, len(frames)]
    parts = [table(frames[a:b], 0, a + 1) for a, b in pairwise(bounds) if b > a]
    left = ConversationTable()
    for p in parts:
        left = left.merge(p)
    right = ConversationTable()
    for p in data.draw(st.permutations(parts)):
        right = p.merge(right)
    assert snapshot(left) == snapshot(right) == snapshot(whole)
    # Every decoded frame lands in exactly one conversation.
    d = decode_batch(batch_of(frames))
    assert (
        sum(c.frames for c in whole.conversations())
        == int((d.status == 0).sum())
        == whole.total_frames()
    )
    refs = [r for c in whole.conversations() for r in c.sample_frames]
    assert len(refs) == len(set(refs))


def test_tables_from_two_files_merge_like_one_run(tmp_path: Path) -> None:
    a = write(tmp_path / "a.pcap", pcap_bytes([(1, tcp("S")), (2, SAMPLES["arp"])]))
    b = write(tmp_path / "b.pcap", pcap_bytes([(3, reply_tcp("SA")), (4, b"")]))
    result = tabulate([a, b])
    assert [(f.frames, f.decoded, f.undecodable) for f in result.files] == [
        (2, 2, {}),
        (2, 1, {"zero-length": 1}),
    ]
    conv = next(c for c in result.conversations.conversations() if c.proto == 6)
    assert conv.answered and [(r.file_index, r.frame) for r in conv.sample_frames] == [
        (0, 1),
        (1, 1),
    ]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(_frame_pool), min_size=1, max_size=30), st.data())
def test_hash_collisions_fall_back_to_exact_grouping(
    frames: list[bytes], data: st.DataObject
) -> None:
    """Batches are grouped by a 64-bit hash of the key, checked exactly: with a hash that
    collides constantly (two values), every table, in one batch or merged from several, is
    the one the real hash gives."""
    import numpy as np

    import netseg.capture.conversations as conversations

    whole = table(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(frames)), max_size=3)))
    bounds = [0, *cuts, len(frames)]
    real = conversations._hash

    def bad_hash(cols: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        return real(cols) & np.uint64(1)

    conversations._hash = bad_hash  # type: ignore[assignment]
    try:
        one = table(frames)
        chunked = ConversationTable()
        for a, b in pairwise(bounds):
            if b > a:
                b_ = batch_of(frames[a:b])
                b_.frame_no += a
                b_.ts_ns += a
                chunked.add_batch(decode_batch(b_), 0)
    finally:
        conversations._hash = real  # type: ignore[assignment]
    assert snapshot(one) == snapshot(chunked) == snapshot(whole)


def test_the_slot_table_finds_exactly_the_row_hashes() -> None:
    # hashes sharing their top bits (one slot) are searched; others are looked up directly
    rng = np.random.default_rng(5)
    spread = rng.integers(0, 2**63, 3000, dtype=np.uint64) * np.uint64(2)
    crowded = np.uint64(0xABCD) << np.uint64(48) | np.arange(1, 40, dtype=np.uint64)
    table = ConversationTable()
    table._hashes = np.unique(np.concatenate([spread, crowded]))
    table._slots = _slot_table(table._hashes)
    assert (table._slots == -2).any() and (table._slots >= 0).any()
    absent = np.setdiff1d(rng.integers(0, 2**63, 3000, dtype=np.uint64), table._hashes)
    asked = np.concatenate([table._hashes[::-1], absent, crowded + np.uint64(100)])
    pos, hit = table._find(asked)
    expected = np.isin(asked, table._hashes)
    assert (hit == expected).all()
    assert (table._hashes[pos[hit]] == asked[hit]).all()


def _frag(first: bool, ident: int = 4242, src: str = A4, dst: str = B4) -> bytes:
    macs = {A4: A_MAC, B4: B_MAC}
    l2 = Ether(src=macs[src], dst=macs[dst]) / Dot1Q(vlan=10)
    if first:
        ip = IP(src=src, dst=dst, id=ident, flags="MF", proto=17)
        return bytes(l2 / ip / UDP(sport=40000, dport=53, len=1008) / (b"f" * 24))
    return bytes(l2 / IP(src=src, dst=dst, id=ident, frag=4, proto=17) / (b"g" * 40))


def test_later_fragments_join_their_first_fragments_conversation() -> None:
    frames = [_frag(True), _frag(False), _frag(False), udp(B4, A4, 53, 40000)]
    t = table(frames)
    (conv,) = t.conversations()
    assert conv.service_port == 53 and conv.initiator.ip == IPv4Address(A4)
    assert (conv.frames_sent, conv.frames_returned) == (3, 1) and not conv.fragments_only
    assert [r.frame for r in conv.sample_frames] == [1, 2, 3, 4]
    assert t.total_frames() == 4 and t.fragments_without_first() == {}


def test_a_later_fragment_split_from_its_first_by_a_merge_still_joins_it() -> None:
    left, right = table([_frag(False)], first_frame=2), table([_frag(True)])
    for merged in (left.merge(right), right.merge(left)):
        (conv,) = merged.conversations()
        assert conv.service_port == 53 and conv.frames_sent == 2


def test_fragments_without_their_first_are_counted_and_marked() -> None:
    t = table([_frag(False, ident=7), _frag(False, ident=7), _frag(False, ident=8)])
    (conv,) = t.conversations()
    assert conv.fragments_only and conv.service_port is None and conv.frames == 3
    (count, refs) = t.fragments_without_first()[0]
    assert count == 3 and [r.frame for r in refs] == [1, 2, 3]


def _icmp_error(frm: str, mac: str, quoted: bytes, v6: bool = False) -> bytes:
    l2 = Ether(src=mac, dst=A_MAC) / Dot1Q(vlan=10)
    return bytes(l2 / IP(src=frm, dst=A4) / ICMP(type=3, code=3) / quoted)


def test_an_icmp_error_from_the_responder_answers_its_probe_as_refused() -> None:
    probe = udp(A4, B4, 40000, 161)
    error = _icmp_error(B4, B_MAC, bytes(IP(src=A4, dst=B4) / UDP(sport=40000, dport=161)))
    (conv,) = table([probe, error]).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.service_port == 161
    assert conv.answered and conv.refused and conv.stopped_by is None
    assert (conv.frames_sent, conv.frames_returned) == (1, 1)


def test_an_icmp_error_from_a_router_records_who_stopped_the_probe() -> None:
    router_mac = "02:00:00:00:00:99"
    probe = bytes(
        Ether(src=A_MAC, dst=router_mac)
        / Dot1Q(vlan=10)
        / IP(src=A4, dst="203.0.113.5")
        / TCP(sport=40000, dport=22, flags="S")
    )
    quoted = bytes(IP(src=A4, dst="203.0.113.5") / TCP(sport=40000, dport=22, flags="S"))[:28]
    error = _icmp_error("198.51.100.1", router_mac, quoted)
    t = table([probe, error])
    (conv,) = t.conversations()
    assert not conv.answered and not conv.refused and conv.service_port == 22
    assert conv.stopped_by is not None and conv.stopped_by.ip == IPv4Address("198.51.100.1")
    assert (conv.frames_sent, conv.frames_returned, conv.frames_stopped) == (1, 0, 1)
    assert t.total_frames() == sum(c.frames for c in t.conversations()) == 2


def test_an_icmp_error_whose_probe_is_not_captured_stands_for_it() -> None:
    error = _icmp_error(B4, B_MAC, bytes(IP(src=A4, dst=B4) / UDP(sport=40000, dport=161)))
    (conv,) = table([error]).conversations()
    assert conv.initiator.ip == IPv4Address(A4) and conv.responder.ip == IPv4Address(B4)
    assert conv.service_port == 161 and conv.refused and conv.frames_returned == 1


def test_a_priority_tag_is_no_vlan() -> None:
    tagged = bytes(
        Ether(src=A_MAC, dst=B_MAC)
        / Dot1Q(vlan=0, prio=5)
        / IP(src=A4, dst=B4)
        / UDP(sport=40000, dport=53)
    )
    plain = bytes(Ether(src=A_MAC, dst=B_MAC) / IP(src=A4, dst=B4) / UDP(sport=40001, dport=53))
    (conv,) = table([tagged, plain]).conversations()
    assert conv.vlan is None and conv.frames_sent == 2
