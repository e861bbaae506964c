"""What scapy's own dissection says about a frame, in the shape of netseg's FrameFacts.

Only the fields of layers scapy actually dissected are returned, so a comparison covers exactly
the frames where scapy decodes the layer. Deliberate differences, where these helpers step aside:

* scapy does not bind TPID 0x9100 to a VLAN layer; netseg reads it as a tag (spec: capture-replay).
  Frames with a 0x9100 tag are compared only up to the Ethernet addresses.
* scapy dissects a layer whose header is cut short as far as the bytes go (or turns it into Raw);
  netseg calls such a frame undecodable. Undecodable frames are compared only for the layers
  before the cut.
* Provider backbone bridging (802.1ah, 0x88e7) carries a whole customer frame; scapy opens it,
  netseg reports the backbone frame only (its addresses and tags).
* A TCP/UDP header inside an IPv4 packet whose total length is shorter than the header (while the
  bytes are there) is padding to scapy and an undecodable cut to netseg: same treatment.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import scapy.contrib.cdp
import scapy.contrib.dtp
from scapy.config import conf
from scapy.contrib.lldp import LLDPDU
from scapy.layers.dhcp import DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror
from scapy.layers.inet6 import ICMPv6ND_NA, IPerror6, IPv6, IPv6ExtHdrFragment, _ICMPv6, _IPv6ExtHdr
from scapy.layers.l2 import ARP, STP, Dot1AD, Dot1AH, Dot1Q, Ether
from scapy.packet import NoPayload, Packet

from netseg.capture.decode import FrameFacts

conf.contribs["LLDP"].strict_mode_disable()  # judge the frame, not the LLDP content
CDP = scapy.contrib.cdp.CDPv2_HDR
DTP = scapy.contrib.dtp.DTP


def _mac(s: str) -> int:
    return int(s.replace(":", ""), 16)


def _complete(layer: Packet) -> bool:
    """scapy built the layer from real bytes (not a Raw fallback with missing fields)."""
    return all(
        layer.getfieldval(f.name) is not None for f in layer.fields_desc if f.name in layer.fields
    )


def scapy_view(data: bytes) -> dict[str, Any]:
    conf.debug_dissector = False
    pkt = Ether(data)
    out: dict[str, Any] = {}
    if len(data) < 14:
        return out
    out["dst_mac"] = _mac(pkt.dst)
    out["src_mac"] = _mac(pkt.src)
    if b"\x91\x00" in data[12:22:2] or data[12:14] == b"\x91\x00":
        return out
    tags = []
    layer = pkt.payload
    while isinstance(layer, Dot1Q | Dot1AD):
        tags.append((0x88A8 if isinstance(layer, Dot1AD) else 0x8100, layer.vlan))
        layer = layer.payload
    out["tags"] = tuple(tags)
    if Dot1AH in pkt:
        return out  # provider backbone bridging: scapy opens the customer frame, netseg does not
    # Only the frame's own headers: layers inside a tunnel (GRE, VXLAN, IP-in-IP) are not
    # netseg's business, while scapy's "X in pkt" would find them.
    outer: list[Packet] = []
    while layer and not isinstance(layer, IP | IPv6 | NoPayload):
        outer.append(layer)
        layer = layer.payload
    arp = next((x for x in outer if isinstance(x, ARP)), None)
    if arp is not None and (arp.hwtype, arp.ptype, arp.hwlen, arp.plen) == (1, 0x0800, 6, 4):
        out["arp"] = (
            arp.op,
            _mac(arp.hwsrc),
            ip_address(arp.psrc),
            _mac(arp.hwdst),
            ip_address(arp.pdst),
        )
    for x in outer:
        for cls, name in ((STP, "stp"), (LLDPDU, "lldp"), (CDP, "cdp"), (DTP, "dtp")):
            if isinstance(x, cls):
                out.setdefault("bridge", name)
    l4: Packet = layer
    if isinstance(layer, IP):
        out["src_ip"], out["dst_ip"], out["proto"] = (
            ip_address(layer.src),
            ip_address(layer.dst),
            layer.proto,
        )
        out["later_fragment"] = layer.frag != 0
        out["fragment_id"] = layer.id if (layer.flags.MF or layer.frag) else None
        l4 = layer.payload
    elif isinstance(layer, IPv6):
        out["src_ip"], out["dst_ip"] = ip_address(layer.src), ip_address(layer.dst)
        l4 = layer.payload
        while isinstance(l4, _IPv6ExtHdr):
            if isinstance(l4, IPv6ExtHdrFragment):
                out["later_fragment"] = l4.offset != 0
                out["fragment_id"] = l4.id
            l4 = l4.payload
    else:
        return out
    if isinstance(l4, TCP) and _complete(l4):
        out["sport"], out["dport"], out["tcp_flags"] = l4.sport, l4.dport, int(l4.flags)
    elif isinstance(l4, UDP) and _complete(l4):
        out["sport"], out["dport"] = l4.sport, l4.dport
        if DHCP in l4:
            for opt in l4[DHCP].options:
                if isinstance(opt, tuple) and opt[0] == "message-type":
                    out["dhcp_type"] = opt[1] if isinstance(opt[1], int) else None
                    break
    elif isinstance(l4, ICMP) and isinstance(layer, IP):
        out["icmp_type"] = l4.type
        if l4.type in (3, 11, 12):
            out["quoted"] = _quoted(l4.payload, IPerror)
    elif isinstance(l4, _ICMPv6) and isinstance(layer, IPv6):
        out["icmp_type"] = l4.type
        if isinstance(l4, ICMPv6ND_NA):
            out["nd_target"] = ip_address(l4.tgt)
        if l4.type in (1, 2, 3, 4):
            out["quoted"] = _quoted(l4.payload, IPerror6)
    return out


def _quoted(inner: Packet, cls: type[Packet]) -> tuple[Any, ...] | None:
    """The packet an ICMP error quotes, as scapy dissects it: (src, dst, proto, sport, dport);
    None unless its whole IP header is there."""
    if not isinstance(inner, cls) or not _complete(inner):
        return None
    needed = ("src", "dst", "proto" if cls is IPerror else "nh")
    if any(f not in inner.fields for f in needed):
        return None
    proto = inner.proto if cls is IPerror else inner.nh
    l4 = inner.payload
    sport = dport = None
    later = cls is IPerror and inner.frag != 0
    if not later and isinstance(l4, TCPerror | UDPerror) and "dport" in l4.fields:
        sport, dport = l4.sport, l4.dport
    return (ip_address(inner.src), ip_address(inner.dst), proto, sport, dport)


def ours_view(f: FrameFacts, keys: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in keys:
        if k == "tags":
            out[k] = tuple((t.tpid if t.tpid != 0x9100 else 0x8100, t.vid) for t in f.tags)
        elif k == "quoted":
            q = f.quoted
            out[k] = None if q is None else (q.src_ip, q.dst_ip, q.proto, q.sport, q.dport)
        elif k == "arp":
            a = f.arp
            out[k] = (
                None if a is None else (a.op, a.sender_mac, a.sender_ip, a.target_mac, a.target_ip)
            )
        else:
            out[k] = getattr(f, k)
    return out
