"""Deterministic synthetic captures for the replay benchmark, and a quick replay measurement.

``generate_capture(path, frames, conversations, seed)`` writes a little-endian microsecond pcap of
802.1Q-tagged Ethernet frames: TCP conversations with handshakes (several connections from
ephemeral ports to one service), UDP request/response, ICMP echo, some IPv6, ARP, and a few
malformed frames (cut inside the IP header, zero length). The same arguments always give the same
bytes. Endpoints use 10.x addresses because 1,000 endpoints do not fit documentation ranges.

Run ``python bench/capture_gen.py [FRAMES]`` to generate (cached under ~/.cache/netseg-bench)
and time read+decode+aggregate, and a scapy ``PcapReader`` loop on a subset for comparison.
"""

from __future__ import annotations

import bisect
import os
import random
import resource
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("NETSEG_BENCH_CACHE", Path.home() / ".cache" / "netseg-bench"))


def _mac(i: int) -> bytes:
    return bytes([0x02, 0x00]) + i.to_bytes(4, "big")


def _ip4(i: int) -> bytes:
    return bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])


def _ip6(i: int) -> bytes:
    return bytes.fromhex("20010db8000000000000000000000000")[:12] + i.to_bytes(4, "big")


def _frame(vlan: int | None, smac: bytes, dmac: bytes, l3: bytes, etype: int) -> bytes:
    if vlan is None:
        return dmac + smac + struct.pack("!H", etype) + l3
    return dmac + smac + struct.pack("!HHH", 0x8100, vlan, etype) + l3


def _ipv4(src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
    return (
        struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
        + payload
    )


def _ipv6(src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64, src, dst) + payload


def _tcp(sport: int, dport: int, flags: int, data: int) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 0x50, flags, 8192, 0, 0) + bytes(data)


def _udp(sport: int, dport: int, data: int) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + data, 0) + bytes(data)


#: An endpoint of a generated topology: MAC, IPv4 address, IPv6 address and VLAN (None: untagged).
Endpoint = tuple[bytes, bytes, bytes, int | None]


def topology_endpoints(
    doc: dict[str, Any], count: int = 1000, seed: int = 1, *, every: bool = False
) -> list[Endpoint]:
    """About ``count`` guests of a :func:`gen_topology.generate_topology` document, ten per VLAN;
    with ``every``, all guests of every VLAN that has at least two (``count`` is then ignored).

    Guests are taken in groups sharing a VLAN so that most generated conversations stay inside
    one VLAN, as real east-west traffic mostly does. The VLAN is the NIC's own, else the one its
    address belongs to (the generator gives every VLAN its own /20).
    """
    rng = random.Random(seed)
    by_vlan: dict[int, list[Endpoint]] = {}
    for guest in doc["guests"]:
        nic = guest["nics"][0]
        addr = nic["address"].split("/")[0]
        o = [int(x) for x in addr.split(".")]
        vlan = nic.get("vlan", (o[1] - 16) * 16 + o[2] // 16)
        # The generated guests have no IPv6 addresses: their IPv6 traffic is link-local (EUI-64).
        mac = bytes.fromhex(nic["mac"].replace(":", ""))
        eui = bytes([mac[0] ^ 2]) + mac[1:3] + b"\xff\xfe" + mac[3:]
        ip6 = bytes.fromhex("fe80000000000000") + eui
        ep = (mac, bytes(o), ip6, vlan)
        by_vlan.setdefault(vlan, []).append(ep)
    vlans = sorted(v for v, members in by_vlan.items() if len(members) >= 2)
    if every:
        return [ep for v in vlans for ep in by_vlan[v]]
    chosen = rng.sample(vlans, k=min(len(vlans), max(1, count // 10)))
    out: list[Endpoint] = []
    for v in sorted(chosen):
        out.extend(rng.sample(by_vlan[v], k=min(10, len(by_vlan[v]))))
    return out


def generate_capture(
    path: str | os.PathLike[str],
    frames: int,
    conversations: int,
    seed: int,
    endpoints: Sequence[Endpoint] | None = None,
    *,
    weights: str = "uniform",
    service_ports: Sequence[int] = (22, 53, 80, 443, 3306, 5432, 8080, 123, 389, 445),
) -> Path:
    """Write the capture and return its path; the same arguments always give the same bytes.

    ``weights``: ``"uniform"`` picks a random conversation for every exchange; ``"zipf"`` gives
    conversation ``k`` (in generation order) a share proportional to ``1 / (k + 1)`` (a few
    heavy talkers, a long tail of one or two exchanges); ``"each"`` takes the conversations in
    turn, so that every one of them occurs (short conversations: frames / conversations each).
    ``service_ports``: the ports conversations are drawn to (well-known ones by default; more
    of them give more distinct conversations between the same endpoints).

    Without ``endpoints`` the endpoints are synthetic (10.x addresses); with them (see
    :func:`topology_endpoints`), every conversation is between two of them, tagged with the
    initiator's VLAN, and nearly always within one VLAN. Twice the ``frames`` with the same other
    arguments gives the same conversations, each with about twice the frames.
    """
    path = Path(path)
    rng = random.Random(seed)
    if endpoints is None:
        count = max(2, min(1000, conversations // 10 + 2))
        eps: list[Endpoint] = [(_mac(i), _ip4(i), _ip6(i), 100 + i % 40) for i in range(count)]
    else:
        eps = list(endpoints)
        count = len(eps)
    peers: dict[int | None, list[int]] = {}
    for i, ep in enumerate(eps):
        peers.setdefault(ep[3], []).append(i)
    convs = []
    for _ in range(conversations):
        if endpoints is None:
            a, b = rng.sample(range(count), 2)
        else:
            a = rng.randrange(count)
            same = peers[eps[a][3]]
            b = rng.choice([i for i in same if i != a]) if len(same) > 1 else (a + 1) % count
        kind = rng.choices(["tcp", "udp", "icmp", "tcp6"], [60, 25, 5, 10])[0]
        port = rng.choice(service_ports)
        convs.append((kind, eps[a][3], a, b, port))
    cum: list[float] = []
    if weights == "zipf":
        total = 0.0
        for k in range(len(convs)):
            total += 1.0 / (k + 1)
            cum.append(total)
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1_700_000_000_000_000
        written = exchanges = 0
        rec = struct.Struct("<IIII")
        while written < frames:
            r = rng.random()
            if r < 0.03:  # ARP request and reply
                a, b = rng.sample(range(count), 2)
                if endpoints is not None:  # ARP stays inside a VLAN
                    same = peers[eps[a][3]]
                    b = rng.choice([i for i in same if i != a]) if len(same) > 1 else b
                arp_vlan = 100 if endpoints is None else eps[a][3]
                batch = []
                for op, s, d in ((1, a, b), (2, b, a)):
                    ms, md = eps[s][0], eps[d][0]
                    arp = struct.pack(
                        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, ms, eps[s][1], md, eps[d][1]
                    )
                    batch.append(_frame(arp_vlan, ms, b"\xff" * 6 if op == 1 else md, arp, 0x0806))
            elif r < 0.032:  # malformed: zero length, IP header cut short
                batch = [b"", _frame(100, _mac(1), _mac(2), b"\x45\x00\x00", 0x0800)]
            else:
                if weights == "zipf":
                    pick = min(bisect.bisect(cum, rng.random() * cum[-1]), len(convs) - 1)
                elif weights == "each":
                    pick = exchanges % len(convs)
                    exchanges += 1
                else:
                    pick = rng.randrange(len(convs))
                kind, vlan, a, b, port = convs[pick]
                sp = rng.randrange(32768, 61000)
                ma, mb = eps[a][0], eps[b][0]
                if kind == "udp":
                    q = _ipv4(eps[a][1], eps[b][1], 17, _udp(sp, port, 40))
                    p = _ipv4(eps[b][1], eps[a][1], 17, _udp(port, sp, 120))
                    batch = [_frame(vlan, ma, mb, q, 0x0800), _frame(vlan, mb, ma, p, 0x0800)]
                elif kind == "icmp":
                    q = _ipv4(eps[a][1], eps[b][1], 1, b"\x08\x00\x00\x00" + bytes(60))
                    p = _ipv4(eps[b][1], eps[a][1], 1, b"\x00\x00\x00\x00" + bytes(60))
                    batch = [_frame(vlan, ma, mb, q, 0x0800), _frame(vlan, mb, ma, p, 0x0800)]
                else:
                    v6 = kind == "tcp6"
                    ip, et, sa, sb = (
                        (_ipv6, 0x86DD, eps[a][2], eps[b][2])
                        if v6
                        else (_ipv4, 0x0800, eps[a][1], eps[b][1])
                    )
                    seq = [
                        (0, 0x02, 0),
                        (1, 0x12, 0),
                        (0, 0x10, 0),
                        (0, 0x18, 200),
                        (1, 0x18, 900),
                        (0, 0x11, 0),
                    ]
                    batch = []
                    for back, flags, size in seq:
                        if back:
                            batch.append(
                                _frame(vlan, mb, ma, ip(sb, sa, 6, _tcp(port, sp, flags, size)), et)
                            )
                        else:
                            batch.append(
                                _frame(vlan, ma, mb, ip(sa, sb, 6, _tcp(sp, port, flags, size)), et)
                            )
            for data in batch:
                if written >= frames:
                    break
                t += rng.randrange(1, 200)
                out.write(rec.pack(t // 1_000_000, t % 1_000_000, len(data), max(len(data), 1)))
                out.write(data)
                written += 1
    tmp.replace(path)
    return path


def cached_capture(frames: int, conversations: int = 10_000, seed: int = 1) -> Path:
    path = CACHE / f"replay-{frames}-{conversations}-{seed}.pcap"
    if not path.exists():
        generate_capture(path, frames, conversations, seed)
    return path


def _scapy_loop(path: Path, limit: int) -> float:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.utils import PcapReader

    table: dict[tuple[object, ...], int] = {}
    start = time.perf_counter()
    with PcapReader(str(path)) as reader:
        for n, pkt in enumerate(reader):
            if n >= limit:
                break
            vlan = pkt[Dot1Q].vlan if Dot1Q in pkt else None
            key: tuple[object, ...] = (
                (vlan, pkt[Ether].src, pkt[Ether].dst) if Ether in pkt else (vlan,)
            )
            if IP in pkt:
                key += (pkt[IP].src, pkt[IP].dst, pkt[IP].proto)
                if TCP in pkt or UDP in pkt:
                    l4 = pkt[TCP] if TCP in pkt else pkt[UDP]
                    key += (min(l4.sport, l4.dport),)
            table[key] = table.get(key, 0) + 1
    return limit / (time.perf_counter() - start)


def main() -> None:
    from netseg.capture import tabulate

    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    t0 = time.perf_counter()
    path = cached_capture(frames)
    print(
        f"capture: {path} ({path.stat().st_size / 1e6:.0f} MB, ready in {time.perf_counter() - t0:.1f} s)"
    )
    t0 = time.perf_counter()
    result = tabulate([path])
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    f = result.files[0]
    print(
        f"netseg: {f.frames} frames in {dt:.2f} s = {f.frames / dt:,.0f} frames/s; "
        f"{len(result.conversations)} conversations, {len(result.events)} events; peak RSS {rss:.0f} MB"
    )
    rate = _scapy_loop(path, 20_000)
    print(
        f"scapy PcapReader loop: {rate:,.0f} frames/s on 20,000 frames; ratio {f.frames / dt / rate:.0f}x"
    )


if __name__ == "__main__":
    main()
