"""Conversation and event tables: what a capture says, independent of any topology.

A *conversation* groups the frames between two sides (MAC address + IP address) in one outer VLAN,
for one IP protocol and service port (or, for non-IP frames, one ethertype). Both directions of
an exchange land in the same conversation. The key is computed from each frame alone, so tables
built from different chunks, files or workers :meth:`~ConversationTable.merge` associatively and
commutatively into the same result as one pass:

* TCP/UDP: the *server side* is the side owning the service port: the port below 1024 when only
  one is; else a well-known registered port when only one is (:data:`SERVICE_PORTS`); else the
  lower port. Equal ports and port-less protocols (ICMP, fragments after the first, other IP
  protocols, non-IP frames) order the two sides canonically.
* The *initiator* is decided when the table is read (:meth:`ConversationTable.conversations`),
  from merge-safe facts: the first TCP SYN without ACK, else the first frame (in capture order:
  file position, then frame number), unless that frame's source port is below 1024 and its
  destination port is not.

Frames that cannot be aggregated away feed an :class:`EventTable` (ARP and ND claims, DHCP server
messages, router advertisements, bridge protocols, multi-tag frames): a count and the first five
frames per distinct event. Memory grows with conversations and distinct events, never frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import numpy as np
import numpy.typing as npt

from netseg.capture import native
from netseg.capture.decode import (
    DECODED,
    NONE_MAC,
    DecodedBatch,
    FrameFacts,
    ip_address,
)

__all__ = [
    "SAMPLES",
    "SERVICE_PORTS",
    "Conversation",
    "ConversationTable",
    "Event",
    "EventTable",
    "FrameRef",
    "Side",
    "order_key",
]

SAMPLES = 5
_NO_ORDER = np.iinfo(np.int64).max
_FRAME_BITS = 40

#: Registered ports (>= 1024) that are services, not ephemeral client ports.
SERVICE_PORTS = frozenset(
    {1080, 1194, 1433, 1521, 1723, 1812, 1813, 2049, 2375, 2376, 2379, 2380, 3128, 3260, 3268,
     3269, 3306, 3389, 4369, 4789, 5060, 5061, 5222, 5432, 5601, 5672, 5900, 5985, 5986, 6379,
     6443, 6514, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9090, 9092, 9100, 9200, 9300, 9418,
     10250, 11211, 27017}
)  # fmt: skip
_SERVICE_LUT = np.zeros(65536, dtype=np.bool_)  # port -> is in SERVICE_PORTS (65535 is not)
_SERVICE_LUT[sorted(SERVICE_PORTS)] = True


def order_key(file_index: int, frame_no: int) -> int:
    """Capture order of a frame across files: the position of its file, then its number."""
    return (file_index << _FRAME_BITS) | frame_no


@dataclass(frozen=True, slots=True, order=True)
class FrameRef:
    """A frame as Wireshark numbers it: the file's position in the replay and its 1-based number."""

    file_index: int
    frame: int

    @classmethod
    def from_order(cls, key: int) -> FrameRef:
        return cls(key >> _FRAME_BITS, key & ((1 << _FRAME_BITS) - 1))


@dataclass(frozen=True, slots=True)
class Side:
    mac: int | None
    ip: IPv4Address | IPv6Address | None


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation, oriented from its initiator to its responder."""

    vlan: int | None
    initiator: Side
    responder: Side
    proto: int | None  # IP protocol; None for non-IP frames
    ethertype: int | None  # for non-IP frames (None for 802.3 length frames)
    service_port: int | None
    frames_sent: int  # initiator -> responder
    frames_returned: int  # responder -> initiator
    bytes_sent: int
    bytes_returned: int
    first_ts_ns: int
    last_ts_ns: int
    sample_frames: tuple[FrameRef, ...]
    syn_from_initiator: bool  # a TCP SYN or SYN-ACK was seen (it decided the initiator)
    #: how the direction was decided: "syn", "port" or "first-frame" (docs/replay.md)
    initiator_by: str = "first-frame"
    #: an ICMP error from the responder answered it: the probe reached the host, which refused
    refused: bool = False
    #: who else (a router, a firewall) sent an ICMP error about it, and how many
    stopped_by: Side | None = None
    frames_stopped: int = 0
    bytes_stopped: int = 0
    #: only later fragments whose first fragment is not in the capture: no zone verdict
    fragments_only: bool = False

    @property
    def answered(self) -> bool:
        """The responder sent something back: the traffic demonstrably got through."""
        return self.frames_returned > 0

    @property
    def frames(self) -> int:
        return self.frames_sent + self.frames_returned + self.frames_stopped

    @property
    def bytes(self) -> int:
        return self.bytes_sent + self.bytes_returned + self.bytes_stopped


# Key columns, in this order: vlan, mac_a, mac_b, ipver, a_hi, a_lo, b_hi, b_lo, proto, port, etype
_KEY_COLS = 11
Key = tuple[int, ...]


@dataclass
class ConversationTable:
    """Conversations as rows of numpy columns, keyed by :data:`Key` tuples (side A, side B).

    Direction 0 is A -> B. For TCP/UDP with a distinct service port, B is the server side.
    """

    keys: list[Key] = field(default_factory=list)
    index: dict[Key, int] = field(default_factory=dict)
    frames: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    bytes: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    ts_first: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    ts_last: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    first_order: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    first_dir: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    # the client-side port of the first frame (-1: none), for the topology's tie-break
    other_port: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    # some frame's ports alone named the server (one below 1024, or one dynamic)
    port_decided: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))
    syn_order: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    syn_dir: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    samples: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, SAMPLES), np.int64))
    # frames that join another frame's conversation when the table is read: later fragments
    # (and their first fragments' keys) and ICMP errors (see :class:`Joins`)
    joins: Joins = field(default_factory=lambda: Joins())
    # The batch path's index: the 64-bit hash of every row's key, sorted (``_hashes``), the row
    # of each (``_hash_rows``) and the key columns of every row (``_key_rows``, one row each) for
    # the exact check. Covers the first ``_indexed`` rows; rows added through ``update`` are
    # indexed when the next batch comes. ``_collided``: two keys ever shared a hash, and batches
    # are then grouped exactly (by lexsort and the key dict) instead.
    _hashes: npt.NDArray[np.uint64] = field(
        default_factory=lambda: np.zeros(0, np.uint64), repr=False, compare=False
    )
    _hash_rows: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, np.int64), repr=False, compare=False
    )
    _key_rows: npt.NDArray[np.uint64] = field(
        default_factory=lambda: np.zeros((0, _PACKED), np.uint64), repr=False, compare=False
    )
    # A direct-mapped table over ``_hashes``: the top bits of a hash name a slot holding the
    # position of the one row hash with those bits, -1 (none: a new key) or -2 (several: ask
    # the sorted hashes). See :meth:`_find`.
    _slots: npt.NDArray[np.int32] = field(
        default_factory=lambda: np.zeros(0, np.int32), repr=False, compare=False
    )
    _indexed: int = field(default=0, repr=False, compare=False)
    _collided: bool = field(default=False, repr=False, compare=False)
    # The compiled kernel's index (see :meth:`_add_batch_native`): an open-addressing table of
    # row numbers (``_nslots``, twice as many slots as ``_nkeys`` has room for rows, -1 free)
    # over the packed key words of every row (``_nkeys``), covering the first ``_nindexed``.
    _nslots: npt.NDArray[np.int32] = field(
        default_factory=lambda: np.zeros(0, np.int32), repr=False, compare=False
    )
    _nkeys: npt.NDArray[np.uint64] = field(
        default_factory=lambda: np.zeros((0, _PACKED), np.uint64), repr=False, compare=False
    )
    _nindexed: int = field(default=0, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a worker's table going to the main process) without the compiled kernel's
        index, which the receiver rebuilds if it adds batches: for 200,000 conversations it is
        about 17 MB that no merge reads."""
        state = dict(self.__dict__)
        state["_nslots"] = np.zeros(0, np.int32)
        state["_nkeys"] = np.zeros((0, _PACKED), np.uint64)
        state["_nindexed"] = 0
        return state

    # -- building ----------------------------------------------------------------------------

    def _rows_for(self, keys: list[Key]) -> npt.NDArray[np.int64]:
        rows = np.empty(len(keys), dtype=np.int64)
        index, own = self.index, self.keys
        new = 0
        for j, k in enumerate(keys):
            r = index.get(k)
            if r is None:
                r = index[k] = len(own)
                own.append(k)
                new += 1
            rows[j] = r
        if new:
            self._grow(new)
        return rows

    def _grow(self, new: int) -> None:
        def ext(a: npt.NDArray[Any], fill: int, shape: tuple[int, ...] = ()) -> npt.NDArray[Any]:
            return np.concatenate([a, np.full((new, *shape), fill, dtype=a.dtype)])

        self.frames = ext(self.frames, 0, (2,))
        self.bytes = ext(self.bytes, 0, (2,))
        self.ts_first = ext(self.ts_first, _NO_ORDER)
        self.ts_last = ext(self.ts_last, np.iinfo(np.int64).min)
        self.first_order = ext(self.first_order, _NO_ORDER)
        self.first_dir = ext(self.first_dir, 0)
        self.other_port = ext(self.other_port, -1)
        self.port_decided = ext(self.port_decided, 0)
        self.syn_order = ext(self.syn_order, _NO_ORDER)
        self.syn_dir = ext(self.syn_dir, 0)
        self.samples = ext(self.samples, _NO_ORDER, (SAMPLES,))

    def _combine(
        self,
        rows: npt.NDArray[np.int64],
        frames: npt.NDArray[np.int64],
        nbytes: npt.NDArray[np.int64],
        ts_first: npt.NDArray[np.int64],
        ts_last: npt.NDArray[np.int64],
        first_order: npt.NDArray[np.int64],
        first_dir: npt.NDArray[np.int8],
        other_port: npt.NDArray[np.int64],
        port_decided: npt.NDArray[np.bool_],
        syn_order: npt.NDArray[np.int64],
        syn_dir: npt.NDArray[np.int8],
        samples: npt.NDArray[np.int64],
    ) -> None:
        """Fold per-row partial aggregates (``rows`` distinct) into the table: sums, minima, maxima."""
        self.frames[rows] += frames
        self.bytes[rows] += nbytes
        self.ts_first[rows] = np.minimum(self.ts_first[rows], ts_first)
        self.ts_last[rows] = np.maximum(self.ts_last[rows], ts_last)
        earlier = first_order < self.first_order[rows]
        r = rows[earlier]
        self.first_order[r] = first_order[earlier]
        self.first_dir[r] = first_dir[earlier]
        self.other_port[r] = other_port[earlier]
        self.port_decided[rows] |= port_decided
        earlier = syn_order < self.syn_order[rows]
        r = rows[earlier]
        self.syn_order[r] = syn_order[earlier]
        self.syn_dir[r] = syn_dir[earlier]
        both = np.concatenate([self.samples[rows], samples], axis=1)
        both.sort(axis=1)
        self.samples[rows] = both[:, :SAMPLES]

    def merge(self, other: ConversationTable) -> ConversationTable:
        """A new table holding both; associative and commutative."""
        out = self.copy()
        out.update(other)
        return out

    def update(self, other: ConversationTable) -> None:
        """Merge ``other`` into this table in place."""
        if not len(other):
            self.joins.update(other.joins)
            return
        if not len(self) and not self._indexed:
            # Into an empty table (the first part of a merge): the other's rows as they are,
            # instead of inserting every key into the dict one by one.
            copied = other.copy()
            self.keys, self.index = copied.keys, copied.index
            self.frames, self.bytes = copied.frames, copied.bytes
            self.ts_first, self.ts_last = copied.ts_first, copied.ts_last
            self.first_order, self.first_dir = copied.first_order, copied.first_dir
            self.other_port, self.port_decided = copied.other_port, copied.port_decided
            self.syn_order, self.syn_dir = copied.syn_order, copied.syn_dir
            self.samples = copied.samples
            self.joins.update(copied.joins)
            return
        rows = self._rows_for(other.keys)
        self._combine(
            rows,
            other.frames,
            other.bytes,
            other.ts_first,
            other.ts_last,
            other.first_order,
            other.first_dir,
            other.other_port,
            other.port_decided,
            other.syn_order,
            other.syn_dir,
            other.samples,
        )
        self.joins.update(other.joins)

    def copy(self) -> ConversationTable:
        return ConversationTable(
            list(self.keys),
            dict(self.index),
            self.frames.copy(),
            self.bytes.copy(),
            self.ts_first.copy(),
            self.ts_last.copy(),
            self.first_order.copy(),
            self.first_dir.copy(),
            self.other_port.copy(),
            self.port_decided.copy(),
            self.syn_order.copy(),
            self.syn_dir.copy(),
            self.samples.copy(),
            self.joins.copy(),
        )

    def _index(self) -> bool:
        """Bring the hash index up to date; False when two keys share a hash."""
        if self._collided:
            return False
        m = len(self.keys)
        if self._indexed < m:
            new = _pack(np.asarray(self.keys[self._indexed :], dtype=np.uint64))
            h = _hash(new.T)
            hashes = np.concatenate([self._hashes, h])
            rows = np.concatenate([self._hash_rows, np.arange(self._indexed, m, dtype=np.int64)])
            order = np.argsort(hashes, kind="stable")
            self._hashes, self._hash_rows = hashes[order], rows[order]
            self._key_rows = np.concatenate([self._key_rows, new])
            self._indexed = m
            self._slots = _slot_table(self._hashes)
            if len(self._hashes) > 1 and (self._hashes[1:] == self._hashes[:-1]).any():
                self._collided = True
                return False
        return True

    def _find(
        self, h: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Where each hash is among the sorted row hashes, and whether it is there at all.

        One look into the slot table answers almost every hash: a binary search in the sorted
        hashes for each of a batch's 131,072 runs, in random order, cost four times as much
        (about 17 ms against 4 ms a batch). Hashes whose slot several rows share are searched.
        """
        hashes = self._hashes
        if not len(hashes):
            return np.zeros(len(h), dtype=np.intp), np.zeros(len(h), dtype=np.bool_)
        t = self._slots[(h >> _slot_shift(len(self._slots))).astype(np.intp)]
        pos = t.astype(np.intp)
        shared = np.flatnonzero(t == -2)
        if len(shared):
            found = np.searchsorted(hashes, h[shared])
            pos[shared] = np.minimum(found, len(hashes) - 1)
        np.maximum(pos, 0, out=pos)
        hit = (t != -1) & (hashes[pos] == h)
        return pos, hit

    def _batch_rows(
        self, cols: npt.NDArray[np.uint64], h: npt.NDArray[np.uint64]
    ) -> npt.NDArray[np.int64] | None:
        """Each frame's row, adding rows for new keys; None on a hash collision."""
        if not self._index():
            return None
        pos, hit = self._find(h)
        if not hit.all():
            miss = np.flatnonzero(~hit)
            _, first = np.unique(h[miss], return_index=True)
            first = np.sort(first)  # new rows in order of first frame, as the dict path adds them
            self._rows_for(_unpack(cols[:, miss[first]]))
            if not self._index():
                return None
            pos, _ = self._find(h)
        rows = self._hash_rows[pos]
        # Exact check: every frame's key is its row's key.
        if (self._key_rows[rows] != cols.T).any():
            self._collided = True
            return None
        return rows

    def add_batch(self, d: DecodedBatch, file_index: int) -> None:
        """Aggregate the decoded frames of one batch.

        Consecutive frames with the same key (a burst of one conversation, in either direction)
        form a run, found by comparing each frame's key words with the previous frame's. Each
        run's key is hashed to 64 bits and looked up among the rows' hashes (sorted, by binary
        search); its key words are then compared with its row's, so grouping is exact. Sums,
        minima and maxima go straight into the table's columns (``bincount``, ``minimum.at``);
        only rows that still lack sample frames look at the order of frames.
        """
        kernel = native.kernel()
        if kernel is not None:
            self._add_batch_native(kernel, d, file_index)
            return
        decoded = d.status == DECODED
        cols, direction, decided, other = _frame_keys(d)
        if d.extras:
            # later fragments and ICMP errors join other frames' conversations when the table
            # is read; first fragments leave their key for their later ones
            taken = self.joins.add_frames(d, file_index, cols, direction)
            if taken:
                decoded[taken] = False
        if decoded.all():
            sel = None
        else:
            sel = np.flatnonzero(decoded)
            if len(sel) == 0:
                return
            cols, direction = cols[:, sel], direction[sel]
            decided, other = decided[sel], other[sel]
        k = cols.shape[1]
        change = cols[0, 1:] != cols[0, :-1]
        for word in cols[1:]:
            change |= word[1:] != word[:-1]
        heads = np.flatnonzero(np.r_[True, change])
        head_cols = cols[:, heads]
        run_rows = self._batch_rows(head_cols, _hash(head_cols))
        if run_rows is None:
            every = np.arange(len(d), dtype=np.int64) if sel is None else sel
            self._add_exact(d, every, cols, direction, decided, other, _hash(cols), file_index)
            return
        rows = np.repeat(run_rows, np.diff(np.r_[heads, k]))
        rec = d.records

        def pick(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return a if sel is None else a[sel]

        k = len(rows)
        m = len(self.keys)
        w = rows * 2 + direction
        self.frames += np.bincount(w, minlength=2 * m).reshape(m, 2)
        olen = pick(rec.origlen)
        self.bytes += np.bincount(w, weights=olen, minlength=2 * m).reshape(m, 2).astype(np.int64)
        ts = pick(rec.ts_ns)
        np.minimum.at(self.ts_first, rows, ts)
        np.maximum.at(self.ts_last, rows, ts)
        okey = np.int64(file_index) << np.int64(_FRAME_BITS) | pick(rec.frame_no)
        # Frame numbers increase within a batch: a row's first frame here is its lowest index.
        first = np.full(m, k, dtype=np.int64)
        np.minimum.at(first, rows, np.arange(k, dtype=np.int64))
        present = np.flatnonzero(first < k)
        at = first[present]
        earlier = okey[at] < self.first_order[present]
        r, at = present[earlier], at[earlier]
        if len(r):
            self.first_order[r] = okey[at]
            self.first_dir[r] = direction[at]
            self.other_port[r] = other[at]
        if decided.any():
            self.port_decided[rows[decided]] = True
        flags = pick(d.tcp_flags)
        # a SYN names its sender the initiator, a SYN-ACK its receiver
        syn = np.flatnonzero((flags >= 0) & ((flags & 0x02) != 0))
        if len(syn):
            g_syn, i = np.unique(rows[syn], return_index=True)
            s_at = syn[i]
            earlier = okey[s_at] < self.syn_order[g_syn]
            self.syn_order[g_syn[earlier]] = okey[s_at[earlier]]
            syn_dir = direction[s_at] ^ ((flags[s_at] & 0x10) != 0)
            self.syn_dir[g_syn[earlier]] = syn_dir[earlier]
        # Sample frames: only rows whose five are not all before this batch need a look.
        need = self.samples[:, -1] > okey[0]
        if need.any():
            sub = np.flatnonzero(need[rows])
            if len(sub):
                order = np.argsort(rows[sub], kind="stable")
                rs = rows[sub][order]
                starts = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
                ends = np.r_[starts[1:], len(rs)]
                got = np.full((len(starts), SAMPLES), _NO_ORDER, dtype=np.int64)
                ok_sorted = okey[sub][order]
                for j in range(SAMPLES):
                    pos = starts + j
                    ok = pos < ends
                    got[ok, j] = ok_sorted[pos[ok]]
                g = rs[starts]
                both = np.concatenate([self.samples[g], got], axis=1)
                both.sort(axis=1)
                self.samples[g] = both[:, :SAMPLES]

    def _add_batch_native(self, kernel: Any, d: DecodedBatch, file_index: int) -> None:
        """:meth:`add_batch` in the compiled kernel: keys, rows and sums in three loops.

        The same table results, column for column: frames are keyed as :func:`_frame_keys`
        keys them (``frame_keys``); each is given its row by its exact key words, new keys
        becoming rows in order of first frame (``assign``, through an open-addressing table
        whose slots hold row numbers, so no hash collision can merge two keys); then each
        frame is folded into its row (``aggregate``).
        """
        n = len(d)
        decoded = d.status == DECODED
        cols = np.empty((_PACKED, n), dtype=np.uint64)
        direction = np.empty(n, dtype=np.int64)
        decided = np.empty(n, dtype=np.bool_)
        other = np.empty(n, dtype=np.int64)
        ins = (d.sport, d.dport, d.src_mac, d.dst_mac, d.src_hi, d.src_lo, d.dst_hi, d.dst_lo)
        more = (d.ipver, d.ethertype, d.outer_vid, d.proto)
        kernel.frame_keys(
            (*(np.ascontiguousarray(a) for a in (*ins, *more)), _SERVICE_LUT),
            (cols, direction, decided, other),
        )
        if d.extras:
            taken = self.joins.add_frames(d, file_index, cols, direction)
            if taken:
                decoded[taken] = False
        if not decoded.any():
            return
        self._native_room(kernel, len(self.keys))
        rows = np.empty(n, dtype=np.int64)
        new_at = np.empty(n, dtype=np.int64)
        start = 0
        while True:
            m = len(self.keys)
            start, added = kernel.assign(
                cols, decoded, self._nslots, self._nkeys, m, start, rows, new_at
            )
            if added:
                got = self._rows_for(_unpack(cols[:, new_at[:added]]))
                assert int(got[0]) == m and int(got[-1]) == m + added - 1
                self._nindexed = m + added
            if start >= n:
                break
            self._native_room(kernel, 2 * len(self._nkeys))
        rec = d.records
        kernel.aggregate(
            (
                rows,
                direction,
                decided,
                other,
                *(
                    np.ascontiguousarray(a, dtype=np.int64)
                    for a in (rec.origlen, rec.ts_ns, rec.frame_no)
                ),
                np.ascontiguousarray(d.tcp_flags, dtype=np.int16),
            ),
            (
                self.frames,
                self.bytes,
                self.ts_first,
                self.ts_last,
                self.first_order,
                self.first_dir,
                self.other_port,
                self.port_decided,
                self.syn_order,
                self.syn_dir,
                self.samples,
            ),
            file_index,
            len(self.keys),
        )

    def _native_room(self, kernel: Any, rows: int) -> None:
        """Index every row in the compiled kernel's table, with room for at least ``rows``."""
        m = len(self.keys)
        size = len(self._nkeys)
        if size < max(rows, m, 1):
            size = 1 << max(12, (max(rows, m) - 1).bit_length())
            keys = np.zeros((size, _PACKED), dtype=np.uint64)
            keys[: self._nindexed] = self._nkeys[: self._nindexed]
            self._nkeys = keys
            self._nslots = np.full(2 * size, -1, dtype=np.int32)
            kernel.index(self._nslots, self._nkeys, 0, self._nindexed)
        if self._nindexed < m:
            # rows added outside the kernel (merges, joins): their keys enter the table
            new = _pack(np.asarray(self.keys[self._nindexed :], dtype=np.uint64))
            self._nkeys[self._nindexed : m] = new
            kernel.index(self._nslots, self._nkeys, self._nindexed, m)
            self._nindexed = m

    def _add_exact(
        self,
        d: DecodedBatch,
        sel: npt.NDArray[np.int64],
        cols: npt.NDArray[np.uint64],
        direction: npt.NDArray[np.int64],
        decided: npt.NDArray[np.bool_],
        other: npt.NDArray[np.int64],
        h: npt.NDArray[np.uint64],
        file_index: int,
    ) -> None:
        """The batch grouped by sorting (hash, then lexsort on a collision) and the key dict."""
        order, starts, gid = _group(cols, h)
        ng = len(starts)
        ends = np.r_[starts[1:], len(order)]
        dir_s = direction[order]
        rec = sel[order]
        olen = d.records.origlen[rec]
        frames = np.bincount(gid * 2 + dir_s, minlength=2 * ng).reshape(ng, 2).astype(np.int64)
        nbytes = (
            np.bincount(gid * 2 + dir_s, weights=olen, minlength=2 * ng)
            .reshape(ng, 2)
            .astype(np.int64)
        )
        ts = d.records.ts_ns[rec]
        ts_first = np.minimum.reduceat(ts, starts)
        ts_last = np.maximum.reduceat(ts, starts)
        base = np.int64(file_index) << np.int64(_FRAME_BITS)
        okey = base | d.records.frame_no[rec]
        first = starts  # a stable sort keeps capture order within a group
        other_s = other[order]
        decided_g = np.logical_or.reduceat(decided[order], starts)
        samples = np.full((ng, SAMPLES), _NO_ORDER, dtype=np.int64)
        for k in range(SAMPLES):
            pos = starts + k
            ok = pos < ends
            samples[ok, k] = okey[pos[ok]]
        flags = d.tcp_flags[rec]
        syn = np.flatnonzero((flags >= 0) & ((flags & 0x02) != 0))
        syn_order = np.full(ng, _NO_ORDER, dtype=np.int64)
        syn_dir = np.zeros(ng, dtype=np.int8)
        if len(syn):
            g_syn, at = np.unique(gid[syn], return_index=True)
            syn_order[g_syn] = okey[syn[at]]
            syn_dir[g_syn] = dir_s[syn[at]] ^ ((flags[syn[at]] & 0x10) != 0)
        rows = self._rows_for(_unpack(cols[:, order[starts]]))
        self._combine(
            rows,
            frames,
            nbytes,
            ts_first,
            ts_last,
            okey[first],
            dir_s[first].astype(np.int8),
            other_s[first],
            decided_g,
            syn_order,
            syn_dir,
            samples,
        )

    # -- reading -----------------------------------------------------------------------------

    def conversations(
        self, named: Callable[[int, int], bool] | None = None
    ) -> Iterator[Conversation]:
        """Every conversation, oriented by the initiator rule, in order of first frame.

        The initiator rule (docs/replay.md, "Conversations and their direction"): the sender of a SYN or the
        receiver of a SYN-ACK; else the ports, when one alone is below 1024 or one alone is
        dynamic; else, with ``named(proto, port)`` (the topology's policy and firewalls name
        the port as a service), the named port's side is the server; else the first frame's
        sender. Later fragments and ICMP errors are joined to their conversations here.

        The same side (MAC and address) in several conversations is one shared :class:`Side`
        object, so callers can memoise per side cheaply.
        """
        t, extra = self._resolved()
        order = np.argsort(t.first_order, kind="stable")
        syn_seen = t.syn_order[order] != _NO_ORDER
        decided = t.port_decided[order]
        syn = syn_seen.tolist()
        init = np.where(
            syn_seen, t.syn_dir[order], np.where(decided, 0, t.first_dir[order])
        ).tolist()
        by = np.where(syn_seen, 0, np.where(decided, 1, 2)).tolist()
        undecided = (~decided).tolist()
        others = t.other_port[order].tolist()
        frames, nbytes = t.frames[order].tolist(), t.bytes[order].tolist()
        ts_first, ts_last = t.ts_first[order].tolist(), t.ts_last[order].tolist()
        refs, bounds = sample_refs(t.samples[order])
        sides: dict[tuple[int, int, int, int], Side] = {}

        def side(mac: int, ipver: int, hi: int, lo: int) -> Side:
            key = (mac, ipver, hi, lo)
            found = sides.get(key)
            if found is None:
                found = sides[key] = Side(
                    None if mac == NONE_MAC else mac, ip_address(ipver, hi, lo)
                )
            return found

        keys = t.keys
        for j, r in enumerate(order.tolist()):
            vlan, ma, mb, ipver, ahi, alo, bhi, blo, proto, port, etype = keys[r]
            a = side(ma, ipver, ahi, alo)
            b = side(mb, ipver, bhi, blo)
            how = by[j]
            first = init[j]
            other = others[j]
            service: int | None = _opt(port)
            if undecided[j] and other >= 0 and service is not None:
                if how == 2 and named is not None:
                    # step 2, last part: the port the topology names as a service
                    b_named, a_named = named(proto, service), named(proto, other)
                    if b_named != a_named:
                        first, how = (0 if b_named else 1), 1
                if first == 1:
                    service = other  # the responder's port is the service
            fw, bw = (0, 1) if first == 0 else (1, 0)
            fr, nb = frames[j], nbytes[j]
            more = extra.get(r)
            # positional: the constructor runs once per conversation (13,000 in the bench)
            yield Conversation(
                _opt(vlan),
                a if fw == 0 else b,
                b if fw == 0 else a,
                _opt(proto),
                None if ipver else _opt(etype),
                service,
                fr[fw],
                fr[bw],
                nb[fw],
                nb[bw],
                ts_first[j],
                ts_last[j],
                tuple(refs[bounds[j] : bounds[j + 1]]),
                syn[j],
                _INITIATOR_BY[how],
                *(_NOT_JOINED if more is None else more.fields()),
            )

    def total_frames(self) -> int:
        return int(self.frames.sum()) + self.joins.frames()

    def fragments_without_first(self) -> dict[int, tuple[int, tuple[FrameRef, ...]]]:
        """Per file index: how many later fragments have no first fragment in the capture,
        and the first of them."""
        return self.joins.orphans()

    def _resolved(self) -> tuple[ConversationTable, dict[int, _Joined]]:
        """A copy of the table with the later fragments and ICMP errors joined to their
        conversations (the table itself stays mergeable), and what the joins said per row."""
        j = self.joins
        if not j.later and not j.errors:
            return self, {}
        t = self.copy()
        extra: dict[int, _Joined] = {}
        for (fk, _), (agg, key, direction) in sorted(j.later.items(), key=lambda e: e[1][0][5]):
            first = j.first.get(fk)
            if first is not None and first[1] in t.index:
                t._add_agg(t.index[first[1]], first[2], agg)
                continue
            new = key not in t.index
            row = int(t._rows_for([key])[0])
            if new:
                extra[row] = _Joined(fragments_only=True)
            t._add_agg(row, direction, agg)
        loose: dict[tuple[int, ...], int] | None = None
        for ek, agg in sorted(j.errors.items(), key=lambda e: e[1][5]):
            key, qdir, decided, other, mac, ip, refused, _ = ek
            found = t.index.get(key)
            if found is None:
                if loose is None:
                    loose = {}
                    for r, k in enumerate(t.keys):
                        loose.setdefault((0, *_without(k, 2)), r)
                        loose.setdefault((1, *_without(k, 1)), r)
                found = loose.get((qdir, *_without(key, 2 if qdir == 0 else 1)))
            if found is not None:
                row = found
            else:
                row = int(t._rows_for([key])[0])
                t.first_dir[row] = qdir
                t.other_port[row] = other
                t.port_decided[row] = decided
            info = extra.setdefault(row, _Joined())
            if info.fragments_only:
                info.fragments_only = False
            if refused:
                t._add_agg(row, 1 - qdir, agg)
                info.refused = True
            else:
                t._add_agg(row, None, agg)
                info.frames += agg[0]
                info.bytes += agg[1]
                if info.stopped_by is None:
                    info.stopped_by = Side(None if mac == NONE_MAC else mac, ip)
        return t, extra

    def _add_agg(self, row: int, direction: int | None, agg: list[Any]) -> None:
        """Frames aggregated outside the columns (``[frames, bytes, ts_first, ts_last,
        samples, first_order]``) into ``row``; direction None: counted by the caller."""
        frames, nbytes, ts_first, ts_last, samples, first = agg
        if direction is not None:
            self.frames[row, direction] += frames
            self.bytes[row, direction] += nbytes
        self.ts_first[row] = min(int(self.ts_first[row]), ts_first)
        self.ts_last[row] = max(int(self.ts_last[row]), ts_last)
        if first < self.first_order[row]:
            self.first_order[row] = first
            if direction is not None:
                self.first_dir[row] = direction
        both = sorted([*self.samples[row].tolist(), *samples])[:SAMPLES]
        self.samples[row] = both


_INITIATOR_BY = ("syn", "port", "first-frame")


def sample_refs(samples: npt.NDArray[np.int64]) -> tuple[list[FrameRef], list[int]]:
    """Every sample frame of ``samples`` (a row per conversation, ``_NO_ORDER`` past its
    last) made in one pass, and the bounds of each row's slice of them."""
    present = samples != _NO_ORDER
    flat = samples[present]
    refs = list(
        map(FrameRef, (flat >> _FRAME_BITS).tolist(), (flat & ((1 << _FRAME_BITS) - 1)).tolist())
    )
    return refs, np.r_[0, np.cumsum(present.sum(axis=1))].tolist()


def _without(key: Key, column: int) -> tuple[int, ...]:
    return (*key[:column], *key[column + 1 :])


@dataclass
class _Joined:
    """What joined frames said about one conversation row."""

    refused: bool = False
    stopped_by: Side | None = None
    frames: int = 0
    bytes: int = 0
    fragments_only: bool = False

    def fields(self) -> tuple[bool, Side | None, int, int, bool]:
        """In the order of :class:`Conversation`'s last fields."""
        return (self.refused, self.stopped_by, self.frames, self.bytes, self.fragments_only)


_NOT_JOINED = _Joined().fields()


#: A fragmented datagram: VLAN (-1: none), source and destination address, protocol and the
#: IP identification.
FragKey = tuple[int, object, object, int, int]


@dataclass
class Joins:
    """Frames that belong to another frame's conversation, kept until the table is read.

    * ``first``: per fragmented datagram, the key and direction of its first fragment's
      conversation (the earliest one seen);
    * ``later``: later fragments per (datagram, file): an aggregate, and the key and
      direction they would have on their own (used when no first fragment is in the capture);
    * ``errors``: ICMP and ICMPv6 errors per (quoted conversation key, its direction, whether
      its ports decided the server, its client port, the error's sender MAC and address,
      whether that sender is the quoted packet's destination, file).

    Aggregates are ``[frames, bytes, ts_first, ts_last, first sample order keys,
    first order key]``; everything merges associatively. Fragmented datagrams and ICMP
    errors are rare, so this is plain Python.
    """

    first: dict[FragKey, tuple[int, Key, int]] = field(default_factory=dict)
    later: dict[tuple[FragKey, int], tuple[list[Any], Key, int]] = field(default_factory=dict)
    errors: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)

    def add_frames(
        self,
        d: DecodedBatch,
        file_index: int,
        cols: npt.NDArray[np.uint64],
        direction: npt.NDArray[np.int64],
    ) -> list[int]:
        """Take the batch's later fragments and ICMP errors (their indices are returned);
        note its first fragments."""
        taken: list[int] = []
        rec = d.records
        base = file_index << _FRAME_BITS
        for i, f in d.extras.items():
            if f.fragment_id is None and f.quoted is None:
                continue
            vlan = f.outer_vlan if f.outer_vlan is not None else -1
            order = base | int(rec.frame_no[i])
            if f.fragment_id is not None:
                fk: FragKey = (vlan, f.src_ip, f.dst_ip, f.proto or 0, f.fragment_id)
                key = _unpack(cols[:, [i]])[0]
                if f.later_fragment:
                    entry = self.later.get((fk, file_index))
                    agg = [
                        1,
                        int(rec.origlen[i]),
                        int(rec.ts_ns[i]),
                        int(rec.ts_ns[i]),
                        [order],
                        order,
                    ]
                    if entry is None:
                        self.later[(fk, file_index)] = (agg, key, int(direction[i]))
                    else:
                        _fold(entry[0], agg)
                    taken.append(i)
                else:
                    known = self.first.get(fk)
                    if known is None or order < known[0]:
                        self.first[fk] = (order, key, int(direction[i]))
                continue
            q = f.quoted
            assert q is not None
            if f.src_ip is None:
                continue
            qkey, qdir, decided, other = quoted_key(
                vlan, f.dst_mac, q.src_ip, f.src_mac, q.dst_ip, q.proto, q.sport, q.dport
            )
            mac = f.src_mac if f.src_mac is not None else NONE_MAC
            ek = (qkey, qdir, decided, other, mac, f.src_ip, f.src_ip == q.dst_ip, file_index)
            agg = [1, int(rec.origlen[i]), int(rec.ts_ns[i]), int(rec.ts_ns[i]), [order], order]
            found = self.errors.get(ek)
            if found is None:
                self.errors[ek] = agg
            else:
                _fold(found, agg)
            taken.append(i)
        return taken

    def update(self, other: Joins) -> None:
        for fk, first in other.first.items():
            known = self.first.get(fk)
            if known is None or first[0] < known[0]:
                self.first[fk] = first
        for lk, (agg, key, direction) in other.later.items():
            entry = self.later.get(lk)
            if entry is None:
                self.later[lk] = (_copy_agg(agg), key, direction)
            else:
                _fold(entry[0], agg)
        for ek, agg in other.errors.items():
            found = self.errors.get(ek)
            if found is None:
                self.errors[ek] = _copy_agg(agg)
            else:
                _fold(found, agg)

    def copy(self) -> Joins:
        out = Joins(dict(self.first))
        out.update(Joins(later=self.later, errors=self.errors))
        return out

    def frames(self) -> int:
        later = sum(int(e[0][0]) for e in self.later.values())
        return later + sum(int(a[0]) for a in self.errors.values())

    def orphans(self) -> dict[int, tuple[int, tuple[FrameRef, ...]]]:
        counts: dict[int, list[Any]] = {}
        for (fk, file_index), (agg, _, _) in self.later.items():
            if fk in self.first:
                continue
            got = counts.setdefault(file_index, [0, []])
            got[0] += agg[0]
            got[1] = sorted([*got[1], *agg[4]])[:SAMPLES]
        return {
            i: (n, tuple(FrameRef.from_order(o) for o in orders))
            for i, (n, orders) in sorted(counts.items())
        }


def _fold(into: list[Any], agg: list[Any]) -> None:
    into[0] += agg[0]
    into[1] += agg[1]
    into[2] = min(into[2], agg[2])
    into[3] = max(into[3], agg[3])
    into[4] = sorted([*into[4], *agg[4]])[:SAMPLES]
    into[5] = min(into[5], agg[5])


def _copy_agg(agg: list[Any]) -> list[Any]:
    return [agg[0], agg[1], agg[2], agg[3], list(agg[4]), agg[5]]


def quoted_key(
    vlan: int,
    smac: int | None,
    sip: IPv4Address | IPv6Address,
    dmac: int | None,
    dip: IPv4Address | IPv6Address,
    proto: int,
    sport: int | None,
    dport: int | None,
) -> tuple[Key, int, bool, int]:
    """The conversation key, direction, port decision and client port a frame with these
    fields would get (:func:`_frame_keys` for one frame): the quoted packet of an ICMP error."""
    sm = NONE_MAC if smac is None else smac
    dm = NONE_MAC if dmac is None else dmac
    si, di = int(sip), int(dip)
    shi, slo, dhi, dlo = si >> 64, si & _LOW64, di >> 64, di & _LOW64
    has_ports = sport is not None and dport is not None
    sp = sport if sport is not None else -1
    dp = dport if dport is not None else -1
    dst_server, dec = server_side(np.asarray([sp], np.int64), np.asarray([dp], np.int64))
    server_is_dst, decided = bool(dst_server[0]), bool(dec[0])
    src_greater = (sm, shi, slo) > (dm, dhi, dlo)
    swap = (not server_is_dst) if has_ports and sp != dp else src_greater
    port = (dp if server_is_dst else sp) if has_ports else -1
    other = (sp if server_is_dst else dp) if has_ports else -1
    a, b = ((dm, dhi, dlo), (sm, shi, slo)) if swap else ((sm, shi, slo), (dm, dhi, dlo))
    key: Key = (
        _ABSENT if vlan < 0 else vlan,
        a[0],
        b[0],
        sip.version,
        a[1],
        a[2],
        b[1],
        b[2],
        proto,
        _ABSENT if port < 0 else port,
        _ABSENT,
    )
    return key, int(swap), decided and has_ports and sp != dp, other


_LOW64 = (1 << 64) - 1


def _frame_keys(
    d: DecodedBatch,
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]
]:
    """Every frame's key, packed (:func:`_pack`'s words, sides ordered), its direction (0:
    A -> B), whether its ports alone name the server (:func:`server_side`) and its client-side
    port (-1: none). Frames that are not decoded get a key of their default columns."""
    sp = d.sport.astype(np.int64)
    dp = d.dport.astype(np.int64)
    has_ports = sp >= 0
    server_is_dst, decided = server_side(sp, dp)
    smac, dmac = d.src_mac, d.dst_mac
    shi, slo, dhi, dlo = d.src_hi, d.src_lo, d.dst_hi, d.dst_lo
    # Canonical order where no side owns the service: the smaller (mac, ip) is side A.
    src_greater = (smac > dmac) | ((smac == dmac) & ((shi > dhi) | ((shi == dhi) & (slo > dlo))))
    swap = np.where(has_ports & (sp != dp), ~server_is_dst, src_greater)
    port = np.where(has_ports, np.where(server_is_dst, dp, sp), -1)
    other = np.where(has_ports, np.where(server_is_dst, sp, dp), -1)
    ipver = d.ipver.astype(np.int64)
    etype = np.where(ipver > 0, -1, d.ethertype.astype(np.int64))
    vid = d.outer_vid.astype(np.int64)
    vid = np.where(vid == 0, -1, vid)  # an 802.1p priority tag is no VLAN
    cols = np.empty((_PACKED, len(sp)), dtype=np.uint64)
    cols[0] = (
        (vid + 1)
        | ((ipver + 1) << 13)
        | ((d.proto.astype(np.int64) + 1) << 16)
        | ((port + 1) << 25)
        | ((etype + 1) << 42)
    ).astype(np.uint64)
    cols[1] = np.where(swap, dmac, smac)
    cols[2] = np.where(swap, smac, dmac)
    cols[3] = np.where(swap, dhi, shi)
    cols[4] = np.where(swap, dlo, slo)
    cols[5] = np.where(swap, shi, dhi)
    cols[6] = np.where(swap, slo, dlo)
    return cols, swap.astype(np.int64), has_ports & (sp != dp) & decided, other


#: The dynamic (ephemeral) port ranges clients send from: IANA's 49152-65535 and Linux's
#: 32768-60999; together, every port from 32768.
DYNAMIC_PORTS = 32768


def server_side(
    sp: npt.NDArray[np.int64], dp: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which side of each port pair is the server (True: the destination), and whether the
    ports alone decide it (capture-replay's initiator rule, step 2): exactly one port below
    1024, or exactly one in a dynamic range, and the other is the server's. Otherwise the
    side is a guess (a registered service port of :data:`SERVICE_PORTS`, else the lower
    port) that the topology's named services may overturn when the table is read."""
    lo_s, lo_d = sp < 1024, dp < 1024
    dyn_s, dyn_d = sp >= DYNAMIC_PORTS, dp >= DYNAMIC_PORTS
    kn_s, kn_d = _SERVICE_LUT[sp & 0xFFFF], _SERVICE_LUT[dp & 0xFFFF]
    server_is_dst = np.where(
        lo_s != lo_d, lo_d, np.where(dyn_s != dyn_d, dyn_s, np.where(kn_s != kn_d, kn_d, dp < sp))
    )
    return server_is_dst, (lo_s != lo_d) | (dyn_s != dyn_d)


# A key packed into 7 words: the small fields, each plus one so that absent (-1) is 0 (VLAN
# 13 bits, IP version 3, protocol 9, port 17, ethertype 17), then MAC A, MAC B and the two
# 64-bit halves of address A and of address B. Fewer words to hash and compare than the 11
# columns of :data:`Key`, which :func:`_unpack` gives back.
_PACKED = 7
_SMALL = ((0, 0, 13), (3, 13, 3), (8, 16, 9), (9, 25, 17), (10, 42, 17))  # column, shift, bits
_WIDE = ((1, 1), (2, 2), (4, 3), (5, 4), (6, 5), (7, 6))  # key column, packed word


def _pack(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Rows of :data:`Key` columns (uint64, absent = 2**64 - 1) as packed words, one row each."""
    keys = keys.reshape(-1, _KEY_COLS)
    out = np.zeros((len(keys), _PACKED), dtype=np.uint64)
    one = np.uint64(1)
    for col, shift, bits in _SMALL:
        out[:, 0] |= ((keys[:, col] + one) & np.uint64((1 << bits) - 1)) << np.uint64(shift)
    for col, word in _WIDE:
        out[:, word] = keys[:, col]
    return out


def _unpack(packed: npt.NDArray[np.uint64]) -> list[Key]:
    """Packed words (one column per key) as :data:`Key` tuples."""
    w0 = packed[0]
    cols = np.empty((_KEY_COLS, packed.shape[1]), dtype=np.uint64)
    one = np.uint64(1)
    for col, shift, bits in _SMALL:
        cols[col] = ((w0 >> np.uint64(shift)) & np.uint64((1 << bits) - 1)) - one  # 0 -> absent
    for col, word in _WIDE:
        cols[col] = packed[word]
    return list(zip(*cols.tolist(), strict=True))


def _slot_shift(size: int) -> np.uint64:
    """How far a hash is shifted to give its slot among ``size`` (a power of two) slots."""
    return np.uint64(64 - (size.bit_length() - 1))


def _slot_table(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
    """The slot table of sorted ``hashes`` (see ``ConversationTable._slots``): sixteen slots
    or more per hash, so few slots are shared, in a table small enough to stay in cache."""
    size = 1 << max(10, (len(hashes) * 16 - 1).bit_length())
    slot = (hashes >> _slot_shift(size)).astype(np.intp)
    table = np.full(size, -1, dtype=np.int32)
    table[slot] = np.arange(len(hashes), dtype=np.int32)
    table[np.bincount(slot, minlength=size) > 1] = -2
    return table


def _hash(cols: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = np.full(cols.shape[1], 0xCBF29CE484222325, dtype=np.uint64)
    m = np.uint64(0x9E3779B97F4A7C15)
    s = np.uint64(29)
    for c in cols:
        h ^= c
        h *= m
        h ^= h >> s
    return h


def _group(
    cols: npt.NDArray[np.uint64], h: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows (columns of ``cols``) grouped by equal key: the sorting order, where each group
    starts in it, and each sorted row's group number. Sorted by the 64-bit hash ``h``, stable
    so a group keeps capture order; checked exactly, and on a collision grouped by the key
    columns themselves (never seen in practice)."""
    order = np.argsort(h, kind="stable")
    hs = h[order]
    change = hs[1:] != hs[:-1]
    starts = np.flatnonzero(np.r_[True, change])
    gid = np.cumsum(np.r_[False, change])
    sorted_cols = cols[:, order]
    if (sorted_cols != sorted_cols[:, starts][:, gid]).any():
        order = np.lexsort(cols[::-1])
        sorted_cols = cols[:, order]
        change = (sorted_cols[:, 1:] != sorted_cols[:, :-1]).any(axis=0)
        starts = np.flatnonzero(np.r_[True, change])
        gid = np.cumsum(np.r_[False, change])
    return order, starts, gid


# Keys hold uint64 values: an absent value (-1) is stored as 2**64 - 1.
_ABSENT = (1 << 64) - 1


def _opt(v: int) -> int | None:
    return None if v == _ABSENT else v


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class Event:
    """A frame-level fact the judge needs one by one (bounded by distinct keys, not frames).

    kinds: ``arp-claim`` (``mac`` claims ``address``; ``detail`` is the Ethernet source),
    ``nd-claim`` (neighbour advertisement: ``mac`` = target link-layer address or Ethernet
    source), ``dhcp-server`` (``detail`` = "offer", "ack" or "nak"), ``router-advertisement``,
    ``bridge-protocol`` (``detail`` = "stp", "lldp", "cdp", "dtp"), ``multi-tag`` (``detail`` =
    the tags as ((tpid, vid), ...), outer first).
    """

    kind: str
    vlan: int | None
    mac: int | None
    address: IPv4Address | IPv6Address | None = None
    detail: object = None


_DHCP_SERVER = {2: "offer", 5: "ack", 6: "nak"}


@dataclass
class EventTable:
    counts: dict[Event, int] = field(default_factory=dict)
    samples: dict[Event, tuple[int, ...]] = field(default_factory=dict)  # order keys
    # ARP claims not yet made into events, keyed by integers (vlan, sender MAC, sender address,
    # Ethernet source): [count, first order keys]. Building an Event (with its IPv4Address) per
    # distinct claim per batch cost more than the rest of the batch's event work.
    _arp: dict[tuple[int, int, int, int], list[Any]] = field(default_factory=dict, repr=False)
    # ARP frames of the latest batches, not yet grouped: (vlan, sender MAC, sender address,
    # Ethernet source, order key) columns per batch. Grouped when they reach :data:`_ARP_HELD`
    # frames or the table is read, so the per-group Python work is paid once per many batches
    # rather than once per batch, in memory bounded by that many frames.
    _held: list[tuple[npt.NDArray[Any], ...]] = field(
        default_factory=list, repr=False, compare=False
    )
    _held_frames: int = field(default=0, repr=False, compare=False)

    def _flush(self) -> None:
        self._group_held()
        if not self._arp:
            return
        pending, self._arp = self._arp, {}
        for (vid, sha, spa, src), (count, orders) in pending.items():
            ev = Event("arp-claim", _vlan(vid), sha, IPv4Address(spa), src)
            self.add(ev, count, orders)

    def __len__(self) -> int:
        self._flush()
        return len(self.counts)

    def add(self, event: Event, count: int, orders: list[int]) -> None:
        self.counts[event] = self.counts.get(event, 0) + count
        self.samples[event] = tuple(sorted((*self.samples.get(event, ()), *orders))[:SAMPLES])

    def update(self, other: EventTable) -> None:
        other._flush()
        for e, c in other.counts.items():
            self.add(e, c, list(other.samples[e]))

    def merge(self, other: EventTable) -> EventTable:
        self._flush()
        out = EventTable(dict(self.counts), dict(self.samples))
        out.update(other)
        return out

    def events(self) -> Iterator[tuple[Event, int, tuple[FrameRef, ...]]]:
        self._flush()
        for e in sorted(self.counts, key=lambda e: self.samples[e][0]):
            yield e, self.counts[e], tuple(FrameRef.from_order(s) for s in self.samples[e])

    def add_batch(self, d: DecodedBatch, file_index: int) -> None:
        base = file_index << _FRAME_BITS
        fno = d.records.frame_no
        # ARP claims may be many: group them with numpy first.
        arp = np.flatnonzero((d.arp_op >= 0) & (d.status == DECODED))
        extras = d.extras
        if extras and len(arp):
            arp = arp[~np.isin(arp, np.fromiter(extras, dtype=np.int64, count=len(extras)))]
        if len(arp):
            self._add_arp(d, arp, base)
        for i, f in extras.items():
            for ev in frame_events(f):
                self.add(ev, 1, [base | int(fno[i])])

    def _add_arp(self, d: DecodedBatch, arp: npt.NDArray[np.int64], base: int) -> None:
        vid = d.outer_vid[arp].astype(np.int64)
        vid[vid == 0] = -1  # an 802.1p priority tag is no VLAN
        sha, spa, src = d.arp_sha[arp], d.arp_spa[arp], d.src_mac[arp]
        okey = np.int64(base) | d.records.frame_no[arp]
        self._held.append((vid, sha, spa, src, okey))
        self._held_frames += len(arp)
        if self._held_frames >= _ARP_HELD:
            self._group_held()

    def _group_held(self) -> None:
        """Group the held ARP frames into ``_arp``: a count and the first order keys per claim."""
        if not self._held:
            return
        held, self._held, self._held_frames = self._held, [], 0
        vid, sha, spa, src, okey = (
            held[0] if len(held) == 1 else tuple(np.concatenate(c) for c in zip(*held, strict=True))
        )
        if len(okey) > 1 and (okey[1:] < okey[:-1]).any():
            by_order = np.argsort(okey, kind="stable")  # batches of several files, out of order
            vid, sha, spa, src, okey = (a[by_order] for a in (vid, sha, spa, src, okey))
        cols = np.stack([vid.astype(np.uint64), sha, spa, src])
        order, starts, _ = _group(cols, _hash(cols))
        ends = np.r_[starts[1:], len(order)]
        okey = okey[order]
        firsts = np.full((len(starts), SAMPLES), -1, dtype=np.int64)
        for k in range(SAMPLES):
            pos = starts + k
            ok = pos < ends
            firsts[ok, k] = okey[pos[ok]]
        pending = self._arp
        g = order[starts]
        for key, count, orders in zip(
            zip(vid[g].tolist(), sha[g].tolist(), spa[g].tolist(), src[g].tolist(), strict=True),
            (ends - starts).tolist(),
            firsts.tolist(),
            strict=True,
        ):
            got = [o for o in orders if o >= 0]
            entry = pending.get(key)
            if entry is None:
                pending[key] = [count, got]
            else:
                entry[0] += count
                if len(entry[1]) < SAMPLES or got[0] < entry[1][-1]:
                    entry[1] = sorted(entry[1] + got)[:SAMPLES]


#: ARP frames held before they are grouped (see ``EventTable._held``).
_ARP_HELD = 1 << 16


def _vlan(v: int) -> int | None:
    return None if v < 0 else v


def frame_events(f: FrameFacts) -> list[Event]:
    """The events one frame contributes (used for the frames the careful decoder handled)."""
    out: list[Event] = []
    vlan = f.outer_vlan
    if f.arp is not None:
        out.append(Event("arp-claim", vlan, f.arp.sender_mac, f.arp.sender_ip, f.src_mac))
    if f.nd_target is not None:
        mac = f.nd_lladdr if f.nd_lladdr is not None else f.src_mac
        out.append(Event("nd-claim", vlan, mac, f.nd_target, f.src_mac))
    if f.dhcp_type in _DHCP_SERVER:
        out.append(Event("dhcp-server", vlan, f.src_mac, f.src_ip, _DHCP_SERVER[f.dhcp_type]))
    if f.icmp_type == 134 and f.src_ip is not None and f.src_ip.version == 6:
        out.append(Event("router-advertisement", vlan, f.src_mac, f.src_ip))
    if f.bridge is not None:
        out.append(Event("bridge-protocol", vlan, f.src_mac, None, f.bridge))
    if len(f.tags) > 1:
        out.append(
            Event("multi-tag", vlan, f.src_mac, None, tuple((t.tpid, t.vid) for t in f.tags))
        )
    return out
