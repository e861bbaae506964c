"""Writing small captures for tests: pcap in either byte order and resolution, pcapng, gzip."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from pathlib import Path

Record = tuple[int, bytes]  # (ts_ns, frame bytes)


def pcap_bytes(
    records: Sequence[Record],
    *,
    linktype: int = 1,
    big_endian: bool = False,
    nanoseconds: bool = False,
) -> bytes:
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for ts, data in records:
        frac = ts % 1_000_000_000 if nanoseconds else ts % 1_000_000_000 // 1000
        out.append(struct.pack(e + "IIII", ts // 1_000_000_000, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(e: str, kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(e + "II", kind, len(body) + 12) + body + struct.pack(e + "I", len(body) + 12)


def pcapng_section(
    interfaces: Sequence[tuple[int, int]],
    packets: Sequence[tuple[int, int, bytes]],
    *,
    big_endian: bool = False,
    simple: bytes | None = None,
) -> bytes:
    """One section; ``interfaces`` are (linktype, tsresol), ``packets`` (iface, ts_units, data)."""
    e = ">" if big_endian else "<"
    out = [_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for linktype, resol in interfaces:
        opts = struct.pack(e + "HHB3x", 9, 1, resol) + struct.pack(e + "HH", 0, 0)
        out.append(_block(e, 1, struct.pack(e + "HHI", linktype, 0, 0) + opts))
    for iface, ts, data in packets:
        epb = (
            struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data
        )
        out.append(_block(e, 6, epb))
    if simple is not None:
        out.append(_block(e, 3, struct.pack(e + "I", len(simple)) + simple))
    return b"".join(out)


def write(path: Path, data: bytes, *, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path
