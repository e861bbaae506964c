"""Each decoded field on handcrafted frames, and the two decoders agreeing on every frame."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netseg.capture.decode import FrameFacts, Undecodable, VlanTag, decode_batch, decode_frame
from netseg.capture.reader import PAD, RecordBatch
from tests.capture.frames import A4, A6, A_MAC, B4, B6, B_MAC, SAMPLES

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")


def mac(s: str) -> int:
    return int(s.replace(":", ""), 16)


def batch_of(frames: list[bytes], linktype: int = 1) -> RecordBatch:
    blob = b"".join(frames)
    buf = np.frombuffer(blob + bytes(PAD), dtype=np.uint8).copy()
    lens = np.asarray([len(f) for f in frames], dtype=np.int64)
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    n = len(frames)
    return RecordBatch(
        buf, offs, lens, lens, np.arange(n, dtype=np.int64), np.full(n, linktype, np.int32),
        np.arange(1, n + 1, dtype=np.int64),
    )  # fmt: skip


def decode(name: str) -> FrameFacts:
    f = decode_frame(1, SAMPLES[name])
    assert isinstance(f, FrameFacts)
    return f


def test_every_sample_decodes_the_same_in_bulk_and_one_by_one() -> None:
    frames = list(SAMPLES.values())
    d = decode_batch(batch_of(frames))
    assert [d.facts(i) for i in range(len(frames))] == [decode_frame(1, f) for f in frames]


def test_fields_past_the_first_64_bytes_of_a_record_decode_in_bulk() -> None:
    # decode_batch reads the first 64 bytes of each record as one row; the ports behind 40
    # bytes of IPv4 options and the TCP flags behind a tagged IPv6 header lie past that row
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Dot1Q, Ether

    eth = Ether(src=A_MAC, dst=B_MAC) / Dot1Q(vlan=10)
    frames = [
        bytes(eth / IP(src=A4, dst=B4, options=b"\x01" * 39 + b"\x00") / TCP(dport=22)),
        bytes(eth / IPv6(src=A6, dst=B6) / TCP(sport=40000, dport=443, flags="SA")),
    ]
    d = decode_batch(batch_of(frames))
    assert [d.facts(i) for i in range(2)] == [decode_frame(1, f) for f in frames]
    assert [d.dport[0], d.tcp_flags[1]] == [22, 0x12]


def test_tagged_tcp_syn() -> None:
    f = decode("tcp-tagged")
    assert (f.src_mac, f.dst_mac) == (mac(A_MAC), mac(B_MAC))
    assert f.tags == (VlanTag(0x8100, 10),) and f.outer_vlan == 10
    assert f.ethertype == 0x0800
    assert (f.src_ip, f.dst_ip, f.proto) == (IPv4Address(A4), IPv4Address(B4), 6)
    assert (f.sport, f.dport, f.tcp_flags) == (40000, 443, 0x02)


def test_ipv4_options_move_the_ports() -> None:
    assert decode("ip-options").dport == 22


def test_only_first_fragments_carry_ports() -> None:
    first, later = decode("fragment-first"), decode("fragment-later")
    assert (first.later_fragment, first.sport, first.dport) == (False, 1, 2)
    assert (later.later_fragment, later.sport, later.proto) == (True, None, 0)


def test_stacked_tags_outer_first_with_their_tpids() -> None:
    assert decode("qinq").tags == (VlanTag(0x88A8, 100), VlanTag(0x8100, 20))
    assert [t.vid for t in decode("triple-tag").tags] == [1, 2, 3]
    assert decode("triple-tag").sport == 53


def test_icmp_and_arp() -> None:
    assert decode("icmp").icmp_type == 8
    arp = decode("arp").arp
    assert arp is not None and (arp.op, arp.sender_mac, arp.sender_ip) == (
        2,
        mac(A_MAC),
        IPv4Address(A4),
    )
    assert decode("arp-tagged").arp is not None and decode("arp-tagged").outer_vlan == 7


def test_ipv6_extension_headers_are_walked() -> None:
    f = decode("ipv6-ext")
    assert (f.src_ip, f.proto, f.sport, f.dport) == (IPv6Address(A6), 17, 9, 7)
    assert decode("ipv6-fragment-first").dport == 80
    later = decode("ipv6-fragment-later")
    assert later.later_fragment and later.sport is None
    assert decode("ipv6-tcp").tcp_flags == 0x12


def test_dhcp_ra_and_neighbour_advertisement() -> None:
    assert decode("dhcp-offer").dhcp_type == 2
    assert decode("router-advertisement").icmp_type == 134
    na = decode("neighbour-advertisement")
    assert (na.nd_target, na.nd_lladdr) == (IPv6Address(B6), mac(A_MAC))


@pytest.mark.parametrize("name", ["stp", "lldp", "cdp", "dtp"])
def test_bridge_protocols(name: str) -> None:
    assert decode(name).bridge == name


def test_a_normal_frame_is_no_bridge_protocol() -> None:
    assert decode("udp").bridge is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "zero-length"),
        (SAMPLES["tcp-untagged"][:10], "truncated-ethernet"),
        (SAMPLES["tcp-tagged"][:16], "truncated-vlan"),
        (SAMPLES["tcp-untagged"][:30], "truncated-ip"),
        (SAMPLES["tcp-untagged"][:14] + b"\x42" + SAMPLES["tcp-untagged"][15:], "bad-ip-header"),
        (SAMPLES["tcp-untagged"][:40], "truncated-tcp"),
        (SAMPLES["udp"][:38], "truncated-udp"),
        (SAMPLES["arp"][:30], "truncated-arp"),
        (SAMPLES["ipv6-ext"][:60], "truncated-ipv6-extension"),
    ],
)
def test_undecodable_reasons(data: bytes, reason: str) -> None:
    assert decode_frame(1, data) == Undecodable(reason)
    assert decode_batch(batch_of([data])).facts(0) == Undecodable(reason)


def test_payload_cut_by_snaplen_is_still_decoded() -> None:
    f = decode_frame(1, SAMPLES["udp"][:42])
    assert isinstance(f, FrameFacts) and f.dport == 53


def test_raw_ip_and_linux_cooked_are_decoded_from_the_ip_header() -> None:
    ip = SAMPLES["tcp-untagged"][14:]
    for linktype in (101, 228):
        f = decode_frame(linktype, ip)
        assert isinstance(f, FrameFacts) and f.src_mac is None and f.dport == 443
    assert decode_frame(229, ip) == Undecodable("bad-ip-header")
    sll = b"\x00\x00\x00\x01\x00\x06" + bytes(8) + b"\x08\x00" + ip
    sll2 = b"\x08\x00\x00\x00" + bytes(4) + b"\x00\x01\x00\x06" + bytes(8) + ip
    assert decode_frame(113, sll) == decode_frame(276, sll2) == decode_frame(101, ip)


def test_other_link_types_are_unsupported() -> None:
    assert decode_frame(105, b"\x00" * 40) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=120), min_size=1, max_size=20),
    st.sampled_from([1, 101, 113, 276, 229]),
)
def test_random_bytes_never_raise_and_both_decoders_agree(
    frames: list[bytes], linktype: int
) -> None:
    d = decode_batch(batch_of(frames, linktype))
    assert [d.facts(i) for i in range(len(frames))] == [decode_frame(linktype, f) for f in frames]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_truncated_valid_frames_never_raise_and_both_decoders_agree(
    name: str, data: st.DataObject
) -> None:
    frame = SAMPLES[name]
    cut = data.draw(st.integers(0, len(frame)))
    flip = data.draw(st.integers(0, len(frame) - 1))
    mangled = frame[:flip] + bytes([frame[flip] ^ 0xFF]) + frame[flip + 1 :]
    frames = [frame[:cut], mangled[:cut], mangled]
    d = decode_batch(batch_of(frames))
    assert [d.facts(i) for i in range(3)] == [decode_frame(1, f) for f in frames]
