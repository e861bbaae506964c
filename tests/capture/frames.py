"""Handcrafted frames (built with scapy) used across the capture tests."""

from __future__ import annotations

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6ND_NA,
    ICMPv6ND_RA,
    ICMPv6NDOptDstLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import ARP, LLC, SNAP, STP, Dot1AD, Dot1Q, Dot3, Ether
from scapy.packet import Raw

A_MAC, B_MAC = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
A4, B4 = "192.0.2.10", "192.0.2.20"
A6, B6 = "2001:db8::a", "2001:db8::b"


def tcp(flags: str = "S", sport: int = 40000, dport: int = 443, vlan: int | None = 10) -> bytes:
    l2 = Ether(src=A_MAC, dst=B_MAC)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return bytes(l2 / IP(src=A4, dst=B4) / TCP(sport=sport, dport=dport, flags=flags))


def reply_tcp(
    flags: str = "SA", sport: int = 443, dport: int = 40000, vlan: int | None = 10
) -> bytes:
    l2 = Ether(src=B_MAC, dst=A_MAC)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return bytes(l2 / IP(src=B4, dst=A4) / TCP(sport=sport, dport=dport, flags=flags))


SAMPLES: dict[str, bytes] = {
    "tcp-tagged": tcp(),
    "tcp-untagged": tcp(vlan=None),
    "udp": bytes(
        Ether(src=A_MAC, dst=B_MAC) / IP(src=A4, dst=B4) / UDP(sport=5353, dport=53) / b"q"
    ),
    "ip-options": bytes(Ether() / IP(src=A4, dst=B4, options=b"\x01\x01\x01\x00") / TCP(dport=22)),
    "icmp": bytes(Ether() / Dot1Q(vlan=5) / IP(src=A4, dst=B4) / ICMP(type=8)),
    "fragment-first": bytes(
        Ether(src=A_MAC, dst=B_MAC)
        / IP(src=A4, dst=B4, flags="MF")
        / UDP(sport=1, dport=2)
        / (b"x" * 20)
    ),
    "fragment-later": bytes(Ether() / IP(src=A4, dst=B4, frag=3) / Raw(b"y" * 20)),
    "qinq": bytes(
        Ether(src=A_MAC) / Dot1AD(vlan=100) / Dot1Q(vlan=20) / IP(src=A4, dst=B4) / UDP()
    ),
    "triple-tag": bytes(
        Ether() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(src=A4, dst=B4) / UDP()
    ),
    "arp": bytes(
        Ether(src=A_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=A_MAC, psrc=A4, pdst=B4)
    ),
    "arp-tagged": bytes(
        Ether(src=A_MAC) / Dot1Q(vlan=7) / ARP(op=1, hwsrc=A_MAC, psrc=A4, pdst=B4)
    ),
    "ipv6-tcp": bytes(Ether() / IPv6(src=A6, dst=B6) / TCP(sport=50000, dport=22, flags="SA")),
    "ipv6-ext": bytes(
        Ether()
        / IPv6(src=A6, dst=B6)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting()
        / IPv6ExtHdrDestOpt()
        / UDP(sport=9, dport=7)
    ),
    "ipv6-fragment-first": bytes(
        Ether() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(m=1) / TCP(dport=80)
    ),
    "ipv6-fragment-later": bytes(
        Ether() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=10) / Raw(b"z" * 16)
    ),
    "dhcp-offer": bytes(
        Ether(src=A_MAC)
        / IP(src=A4, dst="255.255.255.255")
        / UDP(sport=67, dport=68)
        / BOOTP(op=2)
        / DHCP(options=[("message-type", "offer"), "end"])
    ),
    "router-advertisement": bytes(
        Ether(src=A_MAC) / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA()
    ),
    "neighbour-advertisement": bytes(
        Ether(src=A_MAC)
        / IPv6(src=A6, dst="ff02::1")
        / ICMPv6ND_NA(tgt=B6)
        / ICMPv6NDOptDstLLAddr(lladdr=A_MAC)
    ),
    "stp": bytes(
        Dot3(src=A_MAC, dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP()
    ),
    "lldp": bytes(
        Ether(src=A_MAC, dst="01:80:c2:00:00:0e", type=0x88CC) / (b"\x02\x07" + b"\x00" * 30)
    ),
    "cdp": bytes(
        Dot3(src=A_MAC, dst="01:00:0c:cc:cc:cc")
        / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
        / SNAP(OUI=0x0C, code=0x2000)
        / (b"\x02\xb4" + b"\x00" * 20)
    ),
    "dtp": bytes(
        Dot3(src=A_MAC, dst="01:00:0c:cc:cc:cc")
        / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
        / SNAP(OUI=0x0C, code=0x2004)
        / (b"\x01" + b"\x00" * 20)
    ),
    "priority-tagged": bytes(
        Ether(src=A_MAC, dst=B_MAC) / Dot1Q(vlan=0, prio=5) / IP(src=A4, dst=B4) / TCP(dport=22)
    ),
    "ipv4-first-fragment": bytes(
        Ether(src=A_MAC, dst=B_MAC)
        / IP(src=A4, dst=B4, id=4242, flags="MF", proto=17)
        / UDP(sport=40000, dport=53, len=1008)
        / (b"f" * 24)
    ),
    "ipv4-later-fragment": bytes(
        Ether(src=A_MAC, dst=B_MAC) / IP(src=A4, dst=B4, id=4242, frag=4, proto=17) / (b"g" * 40)
    ),
    "ipv6-first-fragment": bytes(
        Ether(src=A_MAC, dst=B_MAC)
        / IPv6(src=A6, dst=B6)
        / IPv6ExtHdrFragment(id=0x01020304, m=1, offset=0)
        / UDP(sport=40000, dport=53)
        / (b"h" * 24)
    ),
    "icmp-port-unreachable": bytes(
        Ether(src=B_MAC, dst=A_MAC)
        / IP(src=B4, dst=A4)
        / ICMP(type=3, code=3)
        / IP(src=A4, dst=B4)
        / UDP(sport=40000, dport=161)
    ),
    "icmp-time-exceeded-short-quote": bytes(
        Ether(src=B_MAC, dst=A_MAC)
        / IP(src="198.51.100.1", dst=A4)
        / ICMP(type=11)
        / (b"E" + b"\x00" * 10)
    ),
    "icmp6-unreachable": bytes(
        Ether(src=B_MAC, dst=A_MAC)
        / IPv6(src=B6, dst=A6)
        / ICMPv6DestUnreach(code=4)
        / IPv6(src=A6, dst=B6)
        / TCP(sport=40000, dport=22)
    ),
}
