"""Writes the example captures of ``captures/`` from the worked topology ``esxi-cluster.yaml``.

Run ``python captures/generate.py`` (or ``make captures``); the output is deterministic (fixed
timestamps, no randomness), so the committed files only change when this script does.

- ``esxi-incident.pcap``: classic pcap taken on tor1:Eth1/11, the trunk facing esx01's
  distributed switch uplink (every frame tagged). Replay it with
  ``netseg replay topologies/esxi-cluster.yaml captures/esxi-incident.pcap --at tor1:Eth1/11``.
  It holds ordinary, allowed traffic and one example of every capture rule: a guest reaching a
  management interface through the core firewall (answered: the model says the ACL stops it),
  a zone violation, a frame in the wrong VLAN, a double-tagged frame, an ARP reply claiming a
  vmkernel address, an IP spoofed from another guest, a rogue DHCP offer, a rogue router
  advertisement, an unknown MAC, LLDP and STP from guests, and one frame cut short by the
  snap length inside its IP header.
- ``esxi-management.pcapng``: pcapng taken on esx01's Management Network port group (frames
  untagged there). Replay with ``--at "esx01/vSwitch0/Management Network"``: the backup proxy
  on the management port group talks to vmk0 on SSH and HTTPS; the jump host's routed HTTPS
  is allowed.
- ``esxi-mid-session.pcap`` (tor1:Eth1/11): a capture started in the middle of web01's
  allowed PostgreSQL session with db01 (routed by core-fw); its first frame is db01's reply.
  Judged in the direction the session was opened: allowed, no finding.
- ``esxi-fragments.pcap`` (tor1:Eth1/11): web01's allowed PostgreSQL traffic to db01 in IPv4
  fragments (the later ones carry no ports), an IPv6 UDP datagram in fragments between web01
  and web02, and two later fragments whose first fragment was not captured (counted as
  ``fragment-without-first``, no verdict).
- ``esxi-priority-tags.pcapng`` (``esx01/vSwitch0/Management Network``): the management
  capture's traffic with 802.1p priority tags (VLAN id 0), as many NICs send voice or storage
  traffic: VLAN 0 is no VLAN, so the findings are those of the untagged capture.
- ``esxi-icmp-errors.pcap`` (tor1:Eth1/11): web01 probes vmk0 on SNMP (udp/161) through
  core-fw and vmk0 answers with a port unreachable: the probe got through (``refused``), a
  critical guest-to-management and model drift; web01's MySQL probe of db01 is stopped by
  core-fw's administratively-prohibited error (``stopped_by``), unanswered.
- ``esxi-live.pcapng.gz``: the incident capture as gzip-compressed pcapng, the form
  ``tcpdump -w - | gzip`` gives; the tests stream it through a pipe
  (``netseg replay T - --at tor1:Eth1/11``) and expect the file's verdicts.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import ARP, LLC, STP, Dot1Q, Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

HERE = Path(__file__).resolve().parent
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

# esxi-cluster.yaml
ROUTER = {
    50: "00:00:5e:00:01:32",
    100: "00:00:5e:00:01:64",
    101: "00:00:5e:00:01:65",
    102: "00:00:5e:00:01:66",
    103: "00:00:5e:00:01:67",
}
VMK0_ESX01 = ("00:50:56:60:00:01", "192.0.2.11")
BACKUP01 = ("00:50:56:00:01:20", "192.0.2.20")
WEB01 = ("00:50:56:00:01:01", "198.51.100.11")
WEB02 = ("00:50:56:00:02:01", "198.51.100.12")
APP01 = ("00:50:56:00:01:02", "198.51.100.71")
DB01 = ("00:50:56:00:02:03", "198.51.100.131")
PROXY01 = ("00:50:56:00:02:04", "203.0.113.11")
JUMP01_IP = "192.0.2.100"
UNKNOWN = ("00:50:56:00:0b:ad", "198.51.100.50")
BROADCAST = "ff:ff:ff:ff:ff:ff"


class Timeline:
    """Frames with strictly increasing timestamps, 10 ms apart."""

    def __init__(self) -> None:
        self.frames: list[Packet] = []

    def add(self, frame: Packet) -> None:
        frame.time = T0 + len(self.frames) * 0.01
        self.frames.append(frame)

    def tcp_exchange(
        self,
        client: tuple[str, str],
        server: tuple[str, str],
        port: int,
        *,
        vlan: int | None,
        client_l2: str | None = None,
        server_l2: str | None = None,
        answered: bool = True,
        sport: int = 49152,
    ) -> None:
        """SYN, SYN-ACK, ACK and one request/response. ``client_l2`` is the MAC the client
        sends to and ``server_l2`` the MAC the answers come from (a gateway's when routed)."""
        c_mac, c_ip = client
        s_mac, s_ip = server
        to_server = client_l2 or s_mac
        from_server = server_l2 or s_mac

        def eth(src: str, dst: str) -> Packet:
            base = Ether(src=src, dst=dst)
            return base / Dot1Q(vlan=vlan) if vlan is not None else base

        syn = (
            eth(c_mac, to_server)
            / IP(src=c_ip, dst=s_ip)
            / TCP(sport=sport, dport=port, flags="S", seq=1000)
        )
        self.add(syn)
        if not answered:
            self.add(syn.copy())  # the client retries: still unanswered
            return
        self.add(
            eth(from_server, c_mac)
            / IP(src=s_ip, dst=c_ip)
            / TCP(sport=port, dport=sport, flags="SA", seq=5000, ack=1001)
        )
        self.add(
            eth(c_mac, to_server)
            / IP(src=c_ip, dst=s_ip)
            / TCP(sport=sport, dport=port, flags="A", seq=1001, ack=5001)
        )
        self.add(
            eth(c_mac, to_server)
            / IP(src=c_ip, dst=s_ip)
            / TCP(sport=sport, dport=port, flags="PA", seq=1001, ack=5001)
            / Raw(b"request")
        )
        self.add(
            eth(from_server, c_mac)
            / IP(src=s_ip, dst=c_ip)
            / TCP(sport=port, dport=sport, flags="PA", seq=5001, ack=1008)
            / Raw(b"response")
        )


def esxi_incident() -> list[Packet]:
    t = Timeline()
    # allowed: web02 -> web01 https inside zone web (L2, VLAN 101)
    t.tcp_exchange(WEB02, WEB01, 443, vlan=101, sport=50001)
    # allowed: app01 -> db01 postgres, routed by core-fw (VLAN 102 side of the firewall)
    t.tcp_exchange(
        APP01, DB01, 5432, vlan=102, client_l2=ROUTER[102], server_l2=ROUTER[102], sport=50002
    )
    # violation + drift: web01 -> vmk0 on esx01 over SSH through core-fw, and it was answered
    t.tcp_exchange(
        WEB01, VMK0_ESX01, 22, vlan=101, client_l2=ROUTER[101], server_l2=ROUTER[101], sport=50003
    )
    # zone violation: web01 -> db01 on MySQL (policy allows web -> db on tcp/5432 only), unanswered
    t.tcp_exchange(WEB01, DB01, 3306, vlan=101, client_l2=ROUTER[101], answered=False, sport=50004)
    # wrong VLAN: web01's frame tagged 103 (its port group is VLAN 101)
    t.add(
        Ether(src=WEB01[0], dst=ROUTER[103])
        / Dot1Q(vlan=103)
        / IP(src=WEB01[1], dst=DB01[1])
        / ICMP(type=8)
    )
    # double tag: outer 101 (web01's), inner 100 (management), aimed at vmk0
    t.add(
        Ether(src=WEB01[0], dst=BROADCAST)
        / Dot1Q(vlan=101)
        / Dot1Q(vlan=100)
        / ARP(op=1, hwsrc=WEB01[0], psrc=WEB01[1], pdst=VMK0_ESX01[1])
    )
    # address spoofing (critical): web02 answers ARP for vmk0's address
    t.add(
        Ether(src=WEB02[0], dst=BROADCAST)
        / Dot1Q(vlan=101)
        / ARP(op=2, hwsrc=WEB02[0], psrc=VMK0_ESX01[1], hwdst=BROADCAST, pdst=VMK0_ESX01[1])
    )
    # address spoofing: web02 sends from web01's address
    t.add(
        Ether(src=WEB02[0], dst=WEB01[0])
        / Dot1Q(vlan=101)
        / IP(src=WEB01[1], dst="198.51.100.13")
        / UDP(sport=40000, dport=53)
        / Raw(b"\x00" * 12)
    )
    # rogue DHCP: app01 offers an address
    offer = (
        Ether(src=APP01[0], dst=BROADCAST)
        / Dot1Q(vlan=102)
        / IP(src=APP01[1], dst="255.255.255.255")
        / UDP(sport=67, dport=68)
        / BOOTP(
            op=2,
            yiaddr="198.51.100.90",
            siaddr=APP01[1],
            chaddr=bytes.fromhex("005056000202") + b"\x00" * 10,
        )
        / DHCP(options=[("message-type", "offer"), ("server_id", APP01[1]), "end"])
    )
    t.add(offer)
    # rogue router advertisement: web01 advertises itself as an IPv6 router
    t.add(
        Ether(src=WEB01[0], dst="33:33:00:00:00:01")
        / Dot1Q(vlan=101)
        / IPv6(src="fe80::250:56ff:fe00:101", dst="ff02::1")
        / ICMPv6ND_RA()
        / ICMPv6NDOptSrcLLAddr(lladdr=WEB01[0])
    )
    # unknown MAC: a machine nobody declared browses web01
    t.tcp_exchange(UNKNOWN, WEB01, 80, vlan=101, sport=50005)
    # bridge protocols from guests: LLDP from app01, STP BPDU from proxy01
    lldp = bytes.fromhex("020704005056000102040703005056000102060200780000")
    t.add(Ether(src=APP01[0], dst="01:80:c2:00:00:0e") / Dot1Q(vlan=102, type=0x88CC) / Raw(lldp))
    t.add(
        Ether(src=PROXY01[0], dst="01:80:c2:00:00:00")
        / Dot1Q(vlan=104)
        / LLC(dsap=0x42, ssap=0x42, ctrl=3)
        / STP()
    )
    # one frame cut short inside its IPv4 header by the capture's snap length
    cut = (
        Ether(src=WEB02[0], dst=WEB01[0])
        / Dot1Q(vlan=101)
        / IP(src=WEB02[1], dst=WEB01[1])
        / TCP(sport=50006, dport=443, flags="S")
    )
    t.add(cut)
    return t.frames


def esxi_management() -> list[Packet]:
    t = Timeline()
    mgmt_router = ROUTER[100]
    # the backup proxy on the management port group reaches vmk0 over SSH (answered)
    t.tcp_exchange(BACKUP01, VMK0_ESX01, 22, vlan=None, sport=51001)
    # ... and over HTTPS, which the host firewall admits for its zone
    t.tcp_exchange(BACKUP01, VMK0_ESX01, 443, vlan=None, sport=51002)
    # the jump host's HTTPS, routed by core-fw: allowed
    t.tcp_exchange((mgmt_router, JUMP01_IP), VMK0_ESX01, 443, vlan=None, sport=51003)
    return t.frames


def esxi_mid_session() -> list[Packet]:
    t = Timeline()
    to_db, from_db = ROUTER[101], ROUTER[101]

    def frame(
        src: tuple[str, str], dst: tuple[str, str], sport: int, dport: int, flags: str, data: bytes
    ) -> Packet:
        mac_src = src[0] if src is WEB01 else from_db
        mac_dst = to_db if src is WEB01 else WEB01[0]
        return (
            Ether(src=mac_src, dst=mac_dst)
            / Dot1Q(vlan=101)
            / IP(src=src[1], dst=dst[1])
            / TCP(sport=sport, dport=dport, flags=flags, seq=9000, ack=7000)
            / Raw(data)
        )

    # the capture starts with db01's answer to a query web01 sent before it began
    t.add(frame(DB01, WEB01, 5432, 40312, "PA", b"row data"))
    t.add(frame(WEB01, DB01, 40312, 5432, "A", b""))
    t.add(frame(WEB01, DB01, 40312, 5432, "PA", b"next query"))
    t.add(frame(DB01, WEB01, 5432, 40312, "PA", b"more rows"))
    return t.frames


def esxi_fragments() -> list[Packet]:
    t = Timeline()
    # web01 -> db01 on PostgreSQL (allowed), a 2,400-byte segment in three IPv4 fragments
    segment = (
        IP(src=WEB01[1], dst=DB01[1], id=0x4D2)
        / TCP(sport=40400, dport=5432, flags="PA", seq=1, ack=1)
        / Raw(bytes(2400))
    )
    for piece in fragment(segment, fragsize=1000):
        t.add(Ether(src=WEB01[0], dst=ROUTER[101]) / Dot1Q(vlan=101) / piece)
    t.add(
        Ether(src=ROUTER[101], dst=WEB01[0])
        / Dot1Q(vlan=101)
        / IP(src=DB01[1], dst=WEB01[1])
        / TCP(sport=5432, dport=40400, flags="A", seq=1, ack=2401)
    )
    # web02 -> web01: one IPv6 UDP datagram (DNS over a large EDNS answer) in two fragments
    src6, dst6 = "2001:db8:101::12", "2001:db8:101::11"
    payload = bytes(UDP(sport=40053, dport=53) / Raw(bytes(1600)))
    head = IPv6(src=src6, dst=dst6, nh=44) / IPv6ExtHdrFragment(nh=17, id=0xBEEF, m=1, offset=0)
    tail = IPv6(src=src6, dst=dst6, nh=44) / IPv6ExtHdrFragment(nh=17, id=0xBEEF, m=0, offset=150)
    t.add(Ether(src=WEB02[0], dst=WEB01[0]) / Dot1Q(vlan=101) / head / Raw(payload[:1200]))
    t.add(Ether(src=WEB02[0], dst=WEB01[0]) / Dot1Q(vlan=101) / tail / Raw(payload[1200:]))
    # two later fragments of a datagram whose first fragment the capture missed
    for offset in (125, 250):
        t.add(
            Ether(src=WEB01[0], dst=ROUTER[101])
            / Dot1Q(vlan=101)
            / IP(
                src=WEB01[1],
                dst=DB01[1],
                id=0x4D3,
                proto=6,
                frag=offset,
                flags="MF" if offset == 125 else 0,
            )
            / Raw(bytes(1000))
        )
    return t.frames


def esxi_priority_tags() -> list[Packet]:
    """The management capture with an 802.1p priority tag (VLAN 0, priority 5) on every frame."""
    out = []
    for frame in esxi_management():
        tagged = Ether(src=frame.src, dst=frame.dst) / Dot1Q(vlan=0, prio=5) / frame.payload
        tagged.time = frame.time
        out.append(tagged)
    return out


def esxi_icmp_errors() -> list[Packet]:
    t = Timeline()
    probe = IP(src=WEB01[1], dst=VMK0_ESX01[1]) / UDP(sport=40161, dport=161) / Raw(b"\x30\x26")
    t.add(Ether(src=WEB01[0], dst=ROUTER[101]) / Dot1Q(vlan=101) / probe)
    # vmk0 refuses it: the probe reached the host through core-fw
    t.add(
        Ether(src=ROUTER[101], dst=WEB01[0])
        / Dot1Q(vlan=101)
        / IP(src=VMK0_ESX01[1], dst=WEB01[1])
        / ICMP(type=3, code=3)
        / bytes(probe)[:28]
    )
    mysql = IP(src=WEB01[1], dst=DB01[1]) / TCP(sport=40306, dport=3306, flags="S", seq=77)
    t.add(Ether(src=WEB01[0], dst=ROUTER[101]) / Dot1Q(vlan=101) / mysql)
    # core-fw stops it: communication administratively prohibited, from the firewall itself
    t.add(
        Ether(src=ROUTER[101], dst=WEB01[0])
        / Dot1Q(vlan=101)
        / IP(src="198.51.100.1", dst=WEB01[1])
        / ICMP(type=3, code=13)
        / bytes(mysql)[:28]
    )
    return t.frames


def write_pcap(path: Path, frames: list[Packet], cut_last_at: int | None = None) -> None:
    with PcapWriter(str(path), linktype=1, sync=True) as out:
        out.write_header(frames[0])
        for i, frame in enumerate(frames):
            data = bytes(frame)
            if cut_last_at is not None and i == len(frames) - 1:
                # snap length: keep the header, announce the original length
                out.write_packet(
                    data[:cut_last_at],
                    sec=int(frame.time),
                    usec=round((frame.time % 1) * 1e6),
                    wirelen=len(data),
                )
            else:
                out.write_packet(
                    data,
                    sec=int(frame.time),
                    usec=round((frame.time % 1) * 1e6),
                    wirelen=len(data),
                )


def write_pcapng(path: Path, frames: list[Packet]) -> None:
    with PcapNgWriter(str(path)) as out:
        for frame in frames:
            out.write(frame)


def main(out_dir: Path = HERE) -> int:
    write_pcap(out_dir / "esxi-incident.pcap", esxi_incident(), cut_last_at=14 + 4 + 10)
    write_pcapng(out_dir / "esxi-management.pcapng", esxi_management())
    write_pcap(out_dir / "esxi-mid-session.pcap", esxi_mid_session())
    write_pcap(out_dir / "esxi-fragments.pcap", esxi_fragments())
    write_pcapng(out_dir / "esxi-priority-tags.pcapng", esxi_priority_tags())
    write_pcap(out_dir / "esxi-icmp-errors.pcap", esxi_icmp_errors())
    live = out_dir / "esxi-live.pcapng"
    write_pcapng(live, esxi_incident())
    # mtime 0: the same bytes on every run
    with (
        open(live, "rb") as raw,
        gzip.GzipFile(live.with_name(live.name + ".gz"), "wb", mtime=0) as gz,
    ):
        gz.write(raw.read())
    live.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
