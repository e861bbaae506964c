"""Writing evidence: the original frames of chosen conversations, to a pcapng Wireshark reads.

Each frame keeps its bytes, original length and timestamp (nanosecond resolution) and carries a
comment (``opt_comment``) naming why it is there. One interface is written per link type. The file
is written like every output (:mod:`netseg.output`): it appears only when complete, with the
permissions of other outputs.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from typing import NamedTuple

from netseg.output import open_output

__all__ = ["EvidenceFrame", "write_evidence"]


class EvidenceFrame(NamedTuple):
    linktype: int
    ts_ns: int
    orig_len: int
    data: bytes
    comment: str


def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _block(kind: int, body: bytes) -> bytes:
    size = 12 + len(body)
    return struct.pack("<II", kind, size) + body + struct.pack("<I", size)


def write_evidence(
    path: str | os.PathLike[str], frames: Iterable[tuple[int, int, int, bytes, str]]
) -> int:
    """Write ``(linktype, ts_ns, orig_len, bytes, comment)`` frames to a pcapng; returns the count."""
    interfaces: dict[int, int] = {}
    count = 0
    with open_output(path) as out:
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _option(4, b"netseg") + _option(0, b"")
        out.write(_block(0x0A0D0D0A, shb))
        pending: list[bytes] = []
        size = 0
        for linktype, ts_ns, orig_len, data, comment in frames:
            if linktype not in interfaces:
                interfaces[linktype] = len(interfaces)
                idb = struct.pack("<HHI", linktype, 0, 0) + _option(9, b"\x09") + _option(0, b"")
                pending.append(_block(1, idb))
            opts = (_option(1, comment.encode()) if comment else b"") + _option(0, b"")
            epb = struct.pack(
                "<IIIII", interfaces[linktype], (ts_ns >> 32) & 0xFFFFFFFF, ts_ns & 0xFFFFFFFF,
                len(data), max(orig_len, len(data)),
            )  # fmt: skip
            block = _block(6, epb + _pad(data) + opts)
            pending.append(block)
            size += len(block)
            count += 1
            if size >= 1 << 20:
                out.write(b"".join(pending))
                pending, size = [], 0
        out.write(b"".join(pending))
    return count
