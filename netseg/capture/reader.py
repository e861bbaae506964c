"""Reading pcap and pcapng files, plain or gzip-compressed, as batches of records.

A capture is read in chunks (4 MiB by default) so that memory stays bounded whatever the size of
the file. Each chunk yields one :class:`RecordBatch` per run of records: the chunk's bytes plus
numpy columns giving, per record, where its frame data starts, its captured and original length,
its timestamp in nanoseconds, its link type and its frame number (1-based, as Wireshark shows it).
The only per-record Python work is walking the record lengths, which is inherently sequential;
every other field is gathered with numpy over the record offsets.

Wireshark's accounting is followed exactly: a record cut short by the end of the file is not a
frame (``cut_short``), and a record header Wireshark rejects (an impossible length) ends the file
there, with the frames before it still counted (``damage``).
"""

from __future__ import annotations

import mmap
import os
import select
import stat
import struct
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
import numpy.typing as npt

from netseg.capture import native
from netseg.errors import CaptureError

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_RAW",
    "PAD",
    "CaptureReader",
    "RawFrame",
    "RecordBatch",
    "Span",
    "capture_files",
    "read_frames",
    "spans",
]

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

#: Zero bytes appended to every batch buffer so that fixed-width gathers near the end of the last
#: record never read past the array (the decoder masks them out by captured length).
PAD = 128

#: Bytes read at a time. Small enough that a chunk is still in the CPU's cache (32 MiB of L3
#: here) when the record walk, and then the decoder, read it right after it was copied in: on
#: the 2,000,000-frame reference capture, reading and decoding took 0.36 s of CPU with 64 MiB
#: chunks and 0.13 s with 4 MiB ones (compiled kernel; numpy 0.65 s and 0.45 s). Smaller still,
#: the per-batch costs of grouping and events grow faster than the cache saves.
CHUNK_SIZE = 4 * 1024 * 1024

# Wireshark refuses records larger than this for ordinary link types (wtap_max_snaplen_for_encap)
# and stops reading the file there; a few link types allow more.
_MAX_SNAPLEN = 262_144
_MAX_SNAPLEN_LARGE = 128 * 1024 * 1024
_LARGE_SNAPLEN_LINKTYPES = frozenset(
    {189, 220, 231, 249, 259}
)  # USB Linux/mmapped, DBUS, USBPcap, EBHSCR
_MAX_BLOCK = 128 * 1024 * 1024 + 131_072 + 32  # pcapng: Wireshark's limit on one block

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1, 16),
    # Alexey Kuznetzov's "modified" pcap: 8 more bytes per record header.
    b"\x34\xcd\xb2\xa1": ("<", 1_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000, 24),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_GZIP_MAGIC = b"\x1f\x8b"

_EPB, _SPB, _PB, _IDB, _SHB = 6, 3, 2, 1, 0x0A0D0D0A

I64 = npt.NDArray[np.int64]


@dataclass(slots=True)
class RecordBatch:
    """A run of records from one file, with the bytes they live in.

    ``buf`` holds the chunk (followed by :data:`PAD` zero bytes); ``data_off[i]`` is where record
    *i*'s frame bytes start in it and ``caplen[i]`` how many were captured.
    """

    buf: npt.NDArray[np.uint8]
    data_off: I64
    caplen: I64
    origlen: I64
    ts_ns: I64
    linktype: npt.NDArray[np.int32]
    frame_no: I64

    def __len__(self) -> int:
        return len(self.data_off)

    def split(self, size: int) -> Iterator[RecordBatch]:
        """Runs of at most ``size`` records sharing this buffer."""
        for a in range(0, len(self), size):
            b = a + size
            yield RecordBatch(
                self.buf,
                self.data_off[a:b],
                self.caplen[a:b],
                self.origlen[a:b],
                self.ts_ns[a:b],
                self.linktype[a:b],
                self.frame_no[a:b],
            )

    def frame_bytes(self, i: int) -> bytes:
        start = int(self.data_off[i])
        return self.buf[start : start + int(self.caplen[i])].tobytes()


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One record as it was captured: what the evidence writer copies unchanged."""

    frame_no: int
    linktype: int
    ts_ns: int
    orig_len: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Span:
    """A record-aligned part of an uncompressed capture, for reading one file on several workers.

    Reading starts at byte ``start`` (a record or block start) and stops before ``end`` (the next
    span's start; None: the end of the file); the first record there is frame ``first_frame``.
    For pcapng, ``endian`` is the section's byte order and ``interfaces`` the offsets of its
    interface description blocks before ``start``. Made by :func:`spans`.
    """

    start: int
    end: int | None
    first_frame: int
    endian: str = ""
    interfaces: tuple[int, ...] = ()


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    mult: int  # ts_ns = ts * mult // div + offset_ns
    div: int
    offset_ns: int


@dataclass
class CaptureReader:
    """Reads one capture file as record batches; afterwards ``format``, ``cut_short``, ``damage``.

    Raises :class:`~netseg.errors.CaptureError` when the file is not a capture or cannot be read.
    """

    path: Path
    chunk_size: int = CHUNK_SIZE
    #: Fill the same buffer for every chunk (a batch is then valid only until the next one is
    #: requested). Saves the page faults of a fresh 64 MiB buffer per chunk, about a fifth of
    #: the reading time; for callers that finish with each batch before asking for the next.
    reuse_buffer: bool = False
    #: Read only this part of the file (see :class:`Span`); None: all of it.
    span: Span | None = None
    format: str = ""
    compressed: bool = False
    cut_short: bool = False
    damage: str | None = None
    #: a problem that did not stop the reading of what was there (a compressed file cut short)
    warning: str | None = None
    #: the frame number of a record Wireshark calls corrupt (an impossible length); the file
    #: cannot be read past it
    corrupt_record: int | None = None
    #: read as a stream (standard input, a FIFO, a character device): never seeked, and
    #: batches are given as the data arrives
    stream: bool = False
    frames: int = 0
    _names: str = field(default="", repr=False)
    _fd: int = field(default=-1, repr=False)
    _stop_after: bool = field(default=False, repr=False)
    _raw: BinaryIO | None = field(default=None, repr=False)
    _buffer: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    _left: int | None = field(default=None, repr=False)  # bytes left to read in the span
    # the compiled pcapng walk's output: block offsets and types (allocated when used)
    _pcapng_out: tuple[I64, I64] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._names = str(self.path)

    def _fail(self, message: str) -> CaptureError:
        return CaptureError(self._names, message)

    def _open(self) -> BinaryIO:
        try:
            if str(self.path) == "-":
                self._names = "standard input"
                raw: BinaryIO = os.fdopen(os.dup(0), "rb", buffering=0)
            else:
                raw = open(self.path, "rb")  # noqa: SIM115 - closed by batches()
            self._fd = raw.fileno()
            self.stream = not stat.S_ISREG(os.fstat(self._fd).st_mode)
        except IsADirectoryError:
            raise self._fail("is a directory, not a capture file") from None
        except OSError as e:
            raise self._fail(f"cannot be read: {e.strerror or e}") from None
        if self.stream:
            if self.span is not None:
                raise self._fail("a stream cannot be read in parts")
            # never seeked: the first bytes read are given back in front of the rest
            head = _read_some(raw, 2, self._fail)
            opened: BinaryIO = cast(BinaryIO, _Prefixed(raw, head))
        else:
            head = raw.read(2)
            raw.seek(0)
            opened = raw
        if head == _GZIP_MAGIC:
            self.compressed = True
            self._raw = raw
            return cast(BinaryIO, _Gunzip(opened))
        return opened

    def _read(self, stream: BinaryIO, size: int) -> bytes:
        """The file's first bytes (magic and header); a gzip that cannot start is not a capture."""
        try:
            out = b""
            while len(out) < size:  # a pipe gives what it has: ask until there is enough
                got = stream.read(size - len(out))
                if not got:
                    break
                out += got
            return out
        except (EOFError, zlib.error) as e:
            raise self._fail(f"gzip data cannot be decompressed: {e}") from None
        except OSError as e:
            raise self._fail(f"cannot be read: {e.strerror or e}") from None

    def _fill(
        self, stream: BinaryIO, carry: bytes
    ) -> tuple[npt.NDArray[np.uint8], memoryview, int]:
        """One padded buffer holding ``carry`` then up to a chunk of new bytes, read in place.

        Returns the array, a view of its data, and how many new bytes were read (0 at the end).
        """
        size = len(carry) + self.chunk_size + PAD
        arr = self._buffer if self._buffer is not None and len(self._buffer) >= size else None
        if arr is None:
            arr = np.empty(size, dtype=np.uint8)
            if self.reuse_buffer:
                self._buffer = arr
        arr[: len(carry)] = np.frombuffer(carry, dtype=np.uint8)
        view = memoryview(arr)  # type: ignore[arg-type]
        got = 0
        want = self.chunk_size if self._left is None else min(self.chunk_size, self._left)
        while got < want:
            try:
                k = cast(Any, stream).readinto(view[len(carry) + got : len(carry) + want])
            except (EOFError, zlib.error) as e:
                if self.frames == 0 and not self.format:
                    raise self._fail(f"gzip data cannot be decompressed: {e}") from None
                self.damage = f"the compressed data is corrupt after this point ({e})"
                k = 0
            except OSError as e:
                raise self._fail(f"cannot be read: {e.strerror or e}") from None
            if not k:
                if isinstance(stream, _Gunzip) and stream.truncated:
                    self.warning = (
                        "the compressed data ends early (file cut short): read up to the break"
                    )
                break
            got += k
            if self.stream and not _more_now(stream, self._fd):
                break  # a live stream: judge what has come so far, then wait for more
        if self._left is not None:
            self._left -= got
        n = len(carry) + got
        arr[n : n + PAD] = 0
        return arr[: n + PAD], view[:n], got

    def batches(self) -> Generator[RecordBatch, None, None]:
        stream = self._open()
        try:
            head = self._read(stream, 4)
            if not head:
                raise self._fail("empty file, not a capture")
            if head in _PCAP_MAGICS:
                self.format = "pcap"
                yield from self._pcap(stream, head)
            elif head == _PCAPNG_SHB:
                self.format = "pcapng"
                yield from self._pcapng(stream, head)
            else:
                raise self._fail(
                    f"not a pcap or pcapng capture (starts with bytes {head.hex(' ')})"
                    + (" after gzip decompression" if self.compressed else "")
                )
        finally:
            stream.close()
            if self._raw is not None:
                self._raw.close()

    # -- pcap ---------------------------------------------------------------------------------

    def _pcap(self, stream: BinaryIO, magic: bytes) -> Iterator[RecordBatch]:
        endian, ts_mult, hdr_len = _PCAP_MAGICS[magic]
        rest = self._read(stream, 20)
        if len(rest) < 20:
            raise self._fail("pcap file header is cut short (the file has no frames)")
        network = struct.unpack(endian + "I", rest[16:20])[0]
        linktype = network & 0xFFFF
        max_caplen = _MAX_SNAPLEN_LARGE if linktype in _LARGE_SNAPLEN_LINKTYPES else _MAX_SNAPLEN
        dt = np.dtype(endian + "u4")
        carry = b""
        frac_limit = 1_000_000_000 // ts_mult
        self._enter_span(stream)
        while True:
            arr, buf, got = self._fill(stream, carry)
            if not got:
                break
            n = len(buf)
            headers: list[npt.NDArray[np.uint32]] = []
            kernel = native.kernel()
            if kernel is not None:
                offs, off, bad_caplen, cols = _walk_pcap_native(
                    kernel, arr, n, endian, hdr_len, max_caplen, ts_mult
                )
            else:
                offs, off, bad_caplen = _walk_pcap(
                    arr, n, endian, hdr_len, max_caplen, frac_limit, headers
                )
            if bad_caplen is not None:
                self.corrupt_record = self.frames + len(offs) + 1
                self.damage = (
                    f"frame {self.corrupt_record} is a corrupt record: it claims {bad_caplen} "
                    f"captured bytes, more than the maximum of {max_caplen}; the rest of the "
                    "file cannot be read"
                )
            if len(offs) and kernel is not None:
                caplen, origlen, ts = cols
                lt = np.full(len(offs), linktype, np.int32)
                yield self._batch(arr, offs + hdr_len, caplen, origlen, ts, lt)
            elif len(offs):
                hdrs = headers[0] if headers else None
                yield self._pcap_batch(arr, offs, dt, ts_mult, hdr_len, linktype, hdrs)
            if bad_caplen is not None:
                return
            carry = bytes(buf[off:])
        if carry:
            self.cut_short = True

    def _pcap_batch(
        self,
        arr: npt.NDArray[np.uint8],
        o: I64,
        dt: np.dtype[np.uint32],
        ts_mult: int,
        hdr_len: int,
        linktype: int,
        headers: npt.NDArray[np.uint32] | None = None,
    ) -> RecordBatch:
        """``headers``: the records' first 16 header bytes as uint32, when the walk has them."""
        if headers is None or len(headers) != len(o):
            hdr = np.lib.stride_tricks.sliding_window_view(arr, 16)[o]
            headers = np.ascontiguousarray(hdr).view(dt)
        fields = headers.astype(np.int64)
        ts = fields[:, 0] * 1_000_000_000 + fields[:, 1] * ts_mult
        return self._batch(
            arr, o + hdr_len, fields[:, 2], fields[:, 3], ts, np.full(len(o), linktype, np.int32)
        )

    def _batch(
        self,
        arr: npt.NDArray[np.uint8],
        data_off: I64,
        caplen: I64,
        origlen: I64,
        ts: I64,
        lt: npt.NDArray[np.int32],
    ) -> RecordBatch:
        first = self.frames + 1
        self.frames += len(data_off)
        return RecordBatch(
            arr,
            data_off,
            caplen,
            origlen,
            ts,
            lt,
            np.arange(first, first + len(data_off), dtype=np.int64),
        )

    def _enter_span(self, stream: BinaryIO) -> None:
        if self.span is not None:
            stream.seek(self.span.start)
            self.frames = self.span.first_frame - 1
            if self.span.end is not None:
                self._left = self.span.end - self.span.start

    # -- pcapng -------------------------------------------------------------------------------

    def _pcapng(self, stream: BinaryIO, magic: bytes) -> Iterator[RecordBatch]:
        carry = magic
        endian = ""
        interfaces: list[_Interface] = []
        if self.span is not None:
            carry, endian = b"", self.span.endian
            for at in self.span.interfaces:
                stream.seek(at)
                head = stream.read(8)
                block = head + stream.read(struct.unpack(endian + "I", head[4:8])[0] - 8)
                interfaces.append(_parse_idb(memoryview(block), 0, len(block), endian))
            self._enter_span(stream)
        while True:
            arr, buf, got = self._fill(stream, carry)
            if not len(buf):
                break
            at_eof = not got
            n = len(buf)
            off = 0
            blocks = _Blocks()
            stop = False
            pair = struct.Struct(endian + "II").unpack_from if endian else None
            kernel = native.kernel()
            if kernel is not None and self._pcapng_out is None:
                self._pcapng_out = (
                    np.empty(_NATIVE_PIECE, np.int64),
                    np.empty(_NATIVE_PIECE, np.int64),
                )
            while off + 12 <= n:
                if kernel is not None and endian and self._pcapng_out is not None:
                    # the compiled walk steps over the packet blocks; the loop below takes
                    # the block it stops at (a section header, an interface, damage, the end)
                    got, off = kernel.walk_pcapng(
                        arr, off, n, endian == ">", _MAX_BLOCK, *self._pcapng_out
                    )
                    if got:
                        blocks.add_arrays(self._pcapng_out[0][:got], self._pcapng_out[1][:got])
                    if got == len(self._pcapng_out[0]) or off + 12 > n:
                        continue
                if buf[off : off + 4] == _PCAPNG_SHB:
                    if blocks:
                        yield self._pcapng_batch(arr, buf, blocks, endian, interfaces)
                        blocks = _Blocks()
                        if self._stop_after:
                            return
                    bom = bytes(buf[off + 8 : off + 12])
                    new = (
                        "<"
                        if bom == b"\x4d\x3c\x2b\x1a"
                        else ">"
                        if bom == b"\x1a\x2b\x3c\x4d"
                        else ""
                    )
                    if not new:
                        if self.frames == 0 and off == 0 and not endian:
                            raise self._fail("pcapng section header has no valid byte-order magic")
                        self.damage = (
                            "a pcapng section header is corrupt; the rest of the file is unreadable"
                        )
                        stop = True
                        break
                    endian = new
                    pair = struct.Struct(endian + "II").unpack_from
                    interfaces = []
                assert pair is not None
                bt, bl = pair(buf, off)
                if bl < 12 or bl % 4 or bl > _MAX_BLOCK:
                    if off == 0 and self.frames == 0 and bt == _SHB:
                        raise self._fail(f"pcapng section header has an impossible length {bl}")
                    self.damage = f"a pcapng block has an impossible length {bl}; the rest of the file is unreadable"
                    stop = True
                    break
                end = off + bl
                if end > n:
                    break
                if bt in (_EPB, _SPB, _PB):
                    blocks.add(off, bt)
                elif bt == _IDB:
                    interfaces.append(_parse_idb(buf, off, bl, endian))
                off = end
            if blocks:
                yield self._pcapng_batch(arr, buf, blocks, endian, interfaces)
                if self._stop_after:
                    return
            carry = b"" if stop else bytes(buf[off:])
            if stop or at_eof:
                break
        if carry:
            self.cut_short = True

    def _pcapng_batch(
        self,
        arr: npt.NDArray[np.uint8],
        buf: memoryview,
        blocks: _Blocks,
        endian: str,
        interfaces: list[_Interface],
    ) -> RecordBatch:
        o, k = blocks.arrays()
        raw = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(arr, 28)[o])
        w = raw.view(np.dtype(endian + "u4")).astype(
            np.int64
        )  # type, len, iface, tshi, tslo, cap, orig
        iface = w[:, 2].copy()
        tsraw = (w[:, 3] << 32) | w[:, 4]
        caplen = w[:, 5].copy()
        origlen = w[:, 6].copy()
        data_off = o + 28
        block_len = w[:, 1]
        if (k != _EPB).any():
            for i in np.flatnonzero(k != _EPB).tolist():
                b = int(o[i])
                if int(k[i]) == _SPB:
                    orig = int(w[i, 2])
                    snap = interfaces[0].snaplen if interfaces else 0
                    room = int(block_len[i]) - 16
                    iface[i] = 0
                    tsraw[i] = 0
                    origlen[i] = orig
                    caplen[i] = min(orig, room, snap) if snap else min(orig, room)
                    data_off[i] = b + 12
                else:  # legacy packet block: 16-bit interface id, 16-bit drops
                    iface[i] = struct.unpack_from(endian + "H", buf, b + 8)[0]
        bad = (iface < 0) | (iface >= len(interfaces)) | (caplen > block_len - (data_off - o) - 4)
        if bad.any():
            # Wireshark stops at such a block: count what came before it.
            first_bad = int(np.flatnonzero(bad)[0])
            self.damage = (
                f"record {self.frames + first_bad + 1} names an unknown interface or overruns its block; "
                "the rest of the file is unreadable"
            )
            o, iface, tsraw, caplen, origlen, data_off = (
                a[:first_bad] for a in (o, iface, tsraw, caplen, origlen, data_off)
            )
            self._stop_after = True
        if len(o) == 0:
            return self._batch(arr, data_off, caplen, origlen, tsraw, np.zeros(0, np.int32))
        lt = np.asarray([i.linktype for i in interfaces], dtype=np.int32)[iface]
        ts = _to_ns(tsraw, iface, interfaces)
        return self._batch(arr, data_off, caplen, origlen, ts, lt)


class _Blocks:
    """The packet blocks (offsets and types, in file order) of one pcapng batch: single ones
    from the Python block loop, runs of them from the compiled walk."""

    __slots__ = ("kinds", "offs", "pieces")

    def __init__(self) -> None:
        self.offs: list[int] = []
        self.kinds: list[int] = []
        self.pieces: list[tuple[I64, I64]] = []

    def __bool__(self) -> bool:
        return bool(self.offs or self.pieces)

    def add(self, off: int, kind: int) -> None:
        self.offs.append(off)
        self.kinds.append(kind)

    def add_arrays(self, offs: I64, kinds: I64) -> None:
        """A run from the compiled walk (copied: the walk reuses its output arrays)."""
        self._settle()
        self.pieces.append((offs.copy(), kinds.copy()))

    def _settle(self) -> None:
        if self.offs:
            self.pieces.append((np.asarray(self.offs, np.int64), np.asarray(self.kinds, np.int64)))
            self.offs, self.kinds = [], []

    def arrays(self) -> tuple[I64, I64]:
        self._settle()
        if len(self.pieces) == 1:
            return self.pieces[0]
        return (
            np.concatenate([p[0] for p in self.pieces]),
            np.concatenate([p[1] for p in self.pieces]),
        )


def _read_some(raw: BinaryIO, size: int, fail: Any) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream."""
    out = b""
    while len(out) < size:
        try:
            got = raw.read(size - len(out))
        except OSError as e:
            raise fail(f"cannot be read: {e.strerror or e}") from None
        if not got:
            break
        out += got
    return out


class _Prefixed:
    """A stream with bytes already read from it given back first (streams are never seeked)."""

    def __init__(self, raw: BinaryIO, head: bytes) -> None:
        self.raw = raw
        self.head = head

    def buffered(self) -> bool:
        return bool(self.head)

    def read(self, size: int) -> bytes:
        if self.head:
            out, self.head = self.head[:size], self.head[size:]
            return out
        return self.raw.read(size)

    def readinto(self, view: memoryview) -> int:
        if self.head:
            k = min(len(view), len(self.head))
            view[:k] = self.head[:k]
            self.head = self.head[k:]
            return k
        return cast(Any, self.raw).readinto(view)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.raw.close()


class _Gunzip:
    """gzip decompression of a stream, member after member, that keeps every byte it could
    decompress: a file cut short is read up to the break (``truncated``), as Wireshark reads
    it, where :class:`gzip.GzipFile` gives up the whole last read. Never seeks."""

    _IN = 1 << 20
    _OUT = 1 << 22

    def __init__(self, raw: BinaryIO | _Prefixed) -> None:
        self.raw = raw
        self.d = zlib.decompressobj(31)
        self.pending = b""
        self.out = memoryview(b"")
        self.members = 0
        self.in_member = False
        self.eof = False
        self.truncated = False

    def buffered(self) -> bool:
        return bool(self.out) or bool(self.pending) or bool(self.d.unconsumed_tail)

    def _more(self) -> None:
        """Decompress the next piece into ``out`` (empty at the end of the data)."""
        while not self.out and not self.eof:
            data = self.d.unconsumed_tail or self.pending
            self.pending = b""
            if not data:
                data = self.raw.read(self._IN)
                if not data:
                    tail = self.d.flush() if self.in_member else b""
                    self.truncated = self.in_member
                    self.eof = True
                    self.out = memoryview(tail)
                    return
            self.in_member = True
            self.out = memoryview(self.d.decompress(data, self._OUT))
            if self.d.eof:
                self.members += 1
                self.in_member = False
                self.pending = self.d.unused_data
                self.d = zlib.decompressobj(31)
                if self.pending.strip(b"\x00") == b"" and self.pending:
                    self.pending = b""  # zero padding after the last member, as gzip allows

    def read(self, size: int) -> bytes:
        buf = bytearray(size)
        n = 0
        while n < size:
            k = self.readinto(memoryview(buf)[n:])
            if not k:
                break
            n += k
        return bytes(buf[:n])

    def readinto(self, view: memoryview) -> int:
        if not self.out:
            self._more()
        k = min(len(view), len(self.out))
        view[:k] = self.out[:k]
        self.out = self.out[k:]
        return k

    def close(self) -> None:
        self.raw.close()


def _more_now(stream: object, fd: int) -> bool:
    """Whether more of a stream can be read without waiting."""
    if isinstance(stream, _Gunzip | _Prefixed) and stream.buffered():
        return True
    inner = getattr(stream, "raw", None)
    if isinstance(inner, _Prefixed) and inner.buffered():
        return True
    try:
        ready, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _walk_pcap(
    arr: npt.NDArray[np.uint8],
    n: int,
    endian: str,
    hdr_len: int,
    max_caplen: int,
    frac_limit: int,
    headers: list[npt.NDArray[np.uint32]] | None = None,
) -> tuple[I64, int, int | None]:
    """The offsets of the complete pcap records in ``arr[:n]`` (which starts at a record).

    Returns the offsets, where the unread rest starts, and the captured length of a record
    Wireshark rejects when the walk stopped at one (None otherwise). With ``headers``, the
    first 16 bytes of each record's header (as four ``endian`` uint32) are appended to it,
    taken from the candidates' headers the walk gathered anyway (when it walked plainly,
    nothing is appended).

    Records have variable length, so where each one starts depends on all before it. Walking them
    one by one in Python costs about a microsecond per record; instead this *guesses and
    verifies*. Candidates are the positions whose bytes look like a record header of this file: the
    top byte of the seconds is the first record's (or one more), the fraction is below one second
    and the captured length is allowed. Each candidate implies where the next record starts; a run
    of candidates each starting exactly where its predecessor ends, from a known record start, is
    the true chain of records, whatever other candidates (payload bytes that happen to look like a
    header) lie elsewhere. Where the chain leaves the candidates (a timestamp that jumped, a
    rejected length), one step is taken in Python, exactly as the plain walk would, and the runs
    resume. A chunk with too many candidates (timestamps near zero in a zero-filled payload)
    is walked in Python.
    """
    kernel = native.kernel()
    if kernel is not None:
        offs, off, bad, _ = _walk_pcap_native(kernel, arr, n, endian, hdr_len, max_caplen, 1)
        return offs, off, bad
    caplen_at = struct.Struct(endian + "I").unpack_from
    view = memoryview(arr)  # type: ignore[arg-type]
    last = n - hdr_len  # the last position where a whole record header fits
    if last < 0:
        return np.zeros(0, np.int64), 0, None
    dt = np.dtype(endian + "u4")
    top = 3 if endian == "<" else 0  # the most significant byte of the seconds
    cand = _header_like(arr, top, last, int(arr[top]))
    if len(cand) > n // 32:
        return _walk_pcap_slowly(view, 0, n, hdr_len, max_caplen, caplen_at)
    fields = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(arr, 16)[cand]).view(dt)
    era = int(fields[0, 0]) >> 16 if len(cand) else 0
    keep = (
        ((fields[:, 0] >> 16) - np.uint32(era) <= 1)
        & (fields[:, 1] < frac_limit)
        & (fields[:, 2] <= max_caplen)
    )
    cand = cand[keep]
    # The kept candidates' lengths, selected from the headers already gathered (gathering
    # them again at the kept positions cost a tenth of the walk).
    kept = fields[keep]
    nxt = cand + hdr_len + kept[:, 2].astype(np.int64)
    del fields
    breaks = np.flatnonzero(cand[1:] != nxt[:-1])  # a run of the chain ends at these indices
    pieces: list[I64] = []
    heads: list[npt.NDArray[np.uint32]] = []  # the headers of each piece
    singles: list[int] = []

    def flush() -> None:
        if singles:
            lone = np.asarray(singles, dtype=np.int64)
            pieces.append(lone)
            if headers is not None:
                rows = np.lib.stride_tricks.sliding_window_view(arr, 16)[lone]
                heads.append(np.ascontiguousarray(rows).view(dt))
            singles.clear()

    def done(off: int, bad: int | None) -> tuple[I64, int, int | None]:
        flush()
        if headers is not None and heads:
            headers.append(heads[0] if len(heads) == 1 else np.concatenate(heads))
        return _joined(pieces), off, bad

    off = 0
    c = len(cand)
    while True:
        i = int(cand.searchsorted(off))
        if i < c and int(cand[i]) == off:
            b = int(breaks.searchsorted(i))
            j = int(breaks[b]) if b < len(breaks) else c - 1  # the run is cand[i..j]
            # Records of the run that end inside the chunk are complete: a prefix of the run.
            m = i + int(nxt[i : j + 1].searchsorted(n, side="right"))
            flush()
            pieces.append(cand[i:m])
            heads.append(kept[i:m])
            if m <= j:
                return done(int(cand[m]), None)
            off = int(nxt[j])
            continue
        # The chain is off the candidates here: one plain step.
        if off > last:
            break
        cl = caplen_at(view, off + 8)[0]
        if cl > max_caplen:
            return done(off, cl)
        end = off + hdr_len + cl
        if end > n:
            break
        singles.append(off)
        off = end
    return done(off, None)


#: Records per call of the compiled walk (its output arrays are allocated this size).
_NATIVE_PIECE = 1 << 18


def _walk_pcap_native(
    kernel: Any,
    arr: npt.NDArray[np.uint8],
    n: int,
    endian: str,
    hdr_len: int,
    max_caplen: int,
    ts_mult: int,
) -> tuple[I64, int, int | None, tuple[I64, I64, I64]]:
    """:func:`_walk_pcap` in the compiled kernel: the plain walk, record by record, in C.

    Returns what :func:`_walk_pcap` returns and the records' captured lengths, original lengths
    and timestamps in nanoseconds (``seconds * 1e9 + fraction * ts_mult``).
    """
    pieces: list[tuple[I64, I64, I64, I64]] = []
    off, bad = 0, -1
    size = min(_NATIVE_PIECE, n // hdr_len + 1)
    while True:
        out = tuple(np.empty(size, np.int64) for _ in range(4))
        got, off, bad = kernel.walk_pcap(
            arr, off, n, endian == ">", hdr_len, max_caplen, ts_mult, *out
        )
        pieces.append(tuple(a[:got] for a in out))  # type: ignore[arg-type]
        if got < size or bad >= 0:
            break
    if len(pieces) == 1:
        offs, caplen, origlen, ts = pieces[0]
    else:
        offs, caplen, origlen, ts = (np.concatenate(c) for c in zip(*pieces, strict=True))
    return offs, off, (None if bad < 0 else bad), (caplen, origlen, ts)


_SCAN = 256 * 1024


def _header_like(arr: npt.NDArray[np.uint8], top: int, last: int, first: int) -> I64:
    """Positions p <= last where ``arr[p + top]`` is ``first`` or ``first + 1`` (mod 256).

    Scanned in cache-sized slices: whole-chunk temporaries cost more in page faults than in
    arithmetic.
    """
    lead = np.empty(_SCAN, np.uint8)
    hit = np.empty(_SCAN, np.bool_)
    found: list[I64] = []
    base = np.uint8(first)
    for a in range(0, last + 1, _SCAN):
        k = min(_SCAN, last + 1 - a)
        np.subtract(arr[top + a : top + a + k], base, out=lead[:k])  # wraps: 0, 1 are the hits
        np.less_equal(lead[:k], 1, out=hit[:k])
        idx = np.flatnonzero(hit[:k])
        if len(idx):
            found.append(idx + a)
    return _joined(found)


def _joined(pieces: list[I64]) -> I64:
    if not pieces:
        return np.zeros(0, np.int64)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _walk_pcap_slowly(
    view: memoryview,
    off: int,
    n: int,
    hdr_len: int,
    max_caplen: int,
    caplen_at: Any,
) -> tuple[I64, int, int | None]:
    """The plain walk, record by record, from ``off``."""
    offs: list[int] = []
    append = offs.append
    bad: int | None = None
    while off + hdr_len <= n:
        cl = caplen_at(view, off + 8)[0]
        if cl > max_caplen:
            bad = cl
            break
        end = off + hdr_len + cl
        if end > n:
            break
        append(off)
        off = end
    return np.asarray(offs, dtype=np.int64), off, bad


def _parse_idb(buf: memoryview, off: int, bl: int, endian: str) -> _Interface:
    linktype, _, snaplen = struct.unpack_from(endian + "HHI", buf, off + 8)
    resol = 6
    offset_s = 0
    pos, end = off + 16, off + bl - 4
    while pos + 4 <= end:
        code, length = struct.unpack_from(endian + "HH", buf, pos)
        if code == 0:
            break
        value = buf[pos + 4 : pos + 4 + length]
        if code == 9 and length >= 1:
            resol = value[0]
        elif code == 14 and length == 8:
            offset_s = struct.unpack(endian + "q", value)[0]
        pos += 4 + ((length + 3) & ~3)
    if resol & 0x80:
        mult, div = 1_000_000_000, 1 << min(resol & 0x7F, 62)
    else:
        units = 10 ** min(resol, 30)
        mult, div = (
            (1_000_000_000 // units, 1) if units <= 1_000_000_000 else (1, units // 1_000_000_000)
        )
    return _Interface(linktype, snaplen, mult, div, offset_s * 1_000_000_000)


def _to_ns(tsraw: I64, iface: I64, interfaces: list[_Interface]) -> I64:
    if all(i.div == 1 for i in interfaces):
        mult = np.asarray([i.mult for i in interfaces], dtype=np.int64)[iface]
        off = np.asarray([i.offset_ns for i in interfaces], dtype=np.int64)[iface]
        with np.errstate(over="ignore"):
            return tsraw * mult + off
    # Binary or sub-nanosecond resolutions are rare: exact integer arithmetic per record.
    out = [
        (t * interfaces[i].mult // interfaces[i].div + interfaces[i].offset_ns)
        & 0x7FFF_FFFF_FFFF_FFFF
        for t, i in zip(tsraw.tolist(), iface.tolist(), strict=True)
    ]
    return np.asarray(out, dtype=np.int64)


# -- splitting a file between workers (netseg.capture.parallel) ------------------------------

_WINDOW = 64 * 1024 * 1024


def spans(path: str | os.PathLike[str], parts: int) -> list[Span]:
    """Split an uncompressed capture into about ``parts`` record-aligned :class:`Span` s.

    The record (pcap) or block (pcapng) headers are walked once, without gathering anything;
    reading the spans one after another gives exactly the records, frame numbers, ``damage`` and
    ``cut_short`` of one sequential read. No span starts after damage or at a record cut short.
    Returns [] when the file cannot be split (compressed, not a capture, unreadable, too few
    records): the caller reads it whole.
    """
    try:
        if str(path) == "-" or not stat.S_ISREG(os.stat(path).st_mode):
            return []  # a stream is read once, whole
        with open(path, "rb") as f:
            total = os.fstat(f.fileno()).st_size
            head = f.read(24)
            if parts < 2 or total < 1024:
                return []
            targets = [total * k // parts for k in range(1, parts)]
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                if head[:4] in _PCAP_MAGICS and len(head) == 24:
                    starts = _pcap_starts(mm, head, total, targets)
                elif head[:4] == _PCAPNG_SHB:
                    starts = _pcapng_starts(mm, total, targets)
                else:
                    return []
    except (OSError, ValueError, BufferError):
        return []
    if len(starts) < 2:
        return []
    ends = [s.start for s in starts[1:]]
    return [
        Span(s.start, e, s.first_frame, s.endian, s.interfaces)
        for s, e in zip(starts, [*ends, None], strict=True)
    ]


def _pcap_starts(mm: mmap.mmap, head: bytes, total: int, targets: list[int]) -> list[Span]:
    endian, ts_mult, hdr_len = _PCAP_MAGICS[head[:4]]
    linktype = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF
    max_caplen = _MAX_SNAPLEN_LARGE if linktype in _LARGE_SNAPLEN_LINKTYPES else _MAX_SNAPLEN
    arr = np.frombuffer(mm, dtype=np.uint8)
    out = [Span(24, None, 1)]
    base, frame, t = 24, 0, 0
    while t < len(targets) and base < total:
        window = arr[base : min(total, base + _WINDOW)]
        offs, off, bad = _walk_pcap(
            window, len(window), endian, hdr_len, max_caplen, 1_000_000_000 // ts_mult
        )
        while t < len(targets) and len(offs):
            i = int(offs.searchsorted(targets[t] - base))
            if i >= len(offs):
                break
            start = base + int(offs[i])
            if start > out[-1].start:
                out.append(Span(start, None, frame + i + 1))
            t += 1
        if bad is not None or off == 0:
            break
        frame += len(offs)
        base += off
    return out


def _pcapng_starts(mm: mmap.mmap, total: int, targets: list[int]) -> list[Span]:
    out: list[Span] = [Span(0, None, 1)]
    off, frame, t = 0, 0, 0
    endian = ""
    idbs: list[int] = []
    while off + 12 <= total and t < len(targets):
        if mm[off : off + 4] == _PCAPNG_SHB:
            bom = mm[off + 8 : off + 12]
            endian = (
                "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else ""
            )
            if not endian:
                break
            idbs = []
        bt, bl = struct.unpack_from(endian + "II", mm, off)
        if bl < 12 or bl % 4 or bl > _MAX_BLOCK or off + bl > total:
            break
        if off >= targets[t] and off > out[-1].start:
            out.append(Span(off, None, frame + 1, endian, tuple(idbs)))
            while t < len(targets) and targets[t] <= off:
                t += 1
        if bt == _IDB:
            idbs.append(off)
        elif bt in (_EPB, _PB):
            iface, caplen = (
                struct.unpack_from(endian + ("I" if bt == _EPB else "H"), mm, off + 8)[0],
                struct.unpack_from(endian + "I", mm, off + 20)[0],
            )
            if iface >= len(idbs) or caplen > bl - 32:
                break  # damage: the span that holds it reads to the end and finds it
            frame += 1
        elif bt == _SPB:
            if not idbs:
                break
            frame += 1
        off += bl
    return out


_CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".gz")


def capture_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand the given paths: a directory means every capture file in it, in name order.

    In a directory, files are taken when their name looks like a capture (``.pcap``, ``.pcapng``,
    ``.cap``, optionally ``.gz``) or when they start with a pcap, pcapng or gzip magic number.
    Files given explicitly are always taken (and fail clearly if they are not captures).
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(path.iterdir(), key=lambda c: c.name):
                if child.is_file() and (
                    child.name.lower().endswith(_CAPTURE_SUFFIXES) or _has_magic(child)
                ):
                    out.append(child)
        else:
            out.append(path)
    return out


def _has_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in _PCAP_MAGICS or head == _PCAPNG_SHB or head[:2] == _GZIP_MAGIC


def read_frames(path: str | os.PathLike[str], frame_numbers: Iterable[int]) -> Iterator[RawFrame]:
    """The original records of the given frame numbers (1-based), in file order.

    Reads the file again: nothing of the frames is kept in memory between passes.
    """
    wanted = np.unique(np.asarray(sorted(set(frame_numbers)), dtype=np.int64))
    if len(wanted) == 0:
        return
    reader = CaptureReader(Path(path))
    batches = reader.batches()
    try:
        yield from _wanted(batches, wanted)
    finally:
        batches.close()


def _wanted(batches: Iterator[RecordBatch], wanted: npt.NDArray[np.int64]) -> Iterator[RawFrame]:
    for batch in batches:
        if len(batch) == 0:
            continue
        hit = np.flatnonzero(np.isin(batch.frame_no, wanted))
        for i in hit.tolist():
            yield RawFrame(
                int(batch.frame_no[i]),
                int(batch.linktype[i]),
                int(batch.ts_ns[i]),
                int(batch.origlen[i]),
                batch.frame_bytes(i),
            )
        if int(batch.frame_no[-1]) >= int(wanted[-1]):
            return
