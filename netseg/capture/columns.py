"""The conversation table read as columns: every conversation oriented, in order of first frame.

:func:`columns_of` gives a :class:`ConversationColumns`: one numpy array per field of
:class:`~netseg.capture.conversations.Conversation`, oriented by the initiator rule
(docs/replay.md, "Conversations and their direction") for every conversation at once, and the
distinct sides (MAC and address) numbered, each conversation naming its initiator's and its
responder's. Judging works on these columns (:mod:`netseg.capture.judge`); a
:class:`~netseg.capture.conversations.Conversation` object is made only for a conversation that
is reported, a few thousand at a time (:meth:`ConversationColumns.conversations`), so that
200,000 conversations are never all held as objects.

:meth:`ConversationTable.conversations
<netseg.capture.conversations.ConversationTable.conversations>` applies the same rule one
conversation at a time and is the reference: the columns' conversations must equal its, in the
same order (``tests/capture/test_judge_columns.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from netseg.capture.conversations import (
    _ABSENT,
    _INITIATOR_BY,
    _KEY_COLS,
    _NO_ORDER,
    _NOT_JOINED,
    _SMALL,
    _WIDE,
    Conversation,
    ConversationTable,
    FrameRef,
    Side,
    _hash,
    _Joined,
    sample_refs,
)
from netseg.capture.decode import NONE_MAC, ip_address

__all__ = ["ConversationColumns", "NamedPorts", "columns_of"]

#: ``named(proto, port)`` for arrays: whether the topology names each (protocol, port) as a
#: service (the initiator rule's last port evidence).
NamedPorts = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.bool_]]

I64 = npt.NDArray[np.int64]
# Conversations made into objects at a time (bounds the lists their columns become).
_CHUNK = 4096
_ABSENT_I = np.uint64(_ABSENT)


@dataclass(frozen=True, eq=False)
class ConversationColumns:
    """Every conversation of a table, oriented, in order of first frame (position ``j``).

    Absent values are -1 (``vlan``, ``proto``, ``ethertype``, ``service``). ``initiator`` and
    ``responder`` number sides: ``sides[n]`` is the shared :class:`Side` object of side ``n``
    (``side_mac`` is ``NONE_MAC`` for a side without a MAC). ``samples`` holds each
    conversation's first frames as order keys (``_NO_ORDER`` where it has fewer). ``joined``
    has what later fragments and ICMP errors said, for the few positions they joined.
    """

    vlan: I64
    proto: I64
    ethertype: I64
    service: I64
    initiator: I64
    responder: I64
    frames_sent: I64
    frames_returned: I64
    bytes_sent: I64
    bytes_returned: I64
    first_ts_ns: I64
    last_ts_ns: I64
    samples: I64
    syn: npt.NDArray[np.bool_]
    initiator_by: npt.NDArray[np.int8]  # index into _INITIATOR_BY
    sides: list[Side]
    side_mac: npt.NDArray[np.uint64]
    joined: dict[int, _Joined]
    fragments_only: npt.NDArray[np.bool_]
    frames_stopped: I64

    def __len__(self) -> int:
        return len(self.vlan)

    @property
    def answered(self) -> npt.NDArray[np.bool_]:
        return self.frames_returned > 0

    @property
    def frames(self) -> I64:
        """Every frame of each conversation (both directions and the ICMP errors about it)."""
        return self.frames_sent + self.frames_returned + self.frames_stopped

    def conversation(self, j: int) -> Conversation:
        (found,) = self.conversations([j])
        return found

    def sample_refs(self, j: int) -> tuple[FrameRef, ...]:
        """The sample frames of the conversation at position ``j``."""
        return tuple(FrameRef.from_order(o) for o in self.samples[j].tolist() if o != _NO_ORDER)

    def conversations(self, positions: Iterable[int] | I64 | None = None) -> Iterator[Conversation]:
        """The :class:`Conversation` at each position (every one, in order, by default), made a
        chunk at a time: only the chunk's columns are ever lists."""
        if positions is None:
            chunks: Iterable[I64] = (
                np.arange(s, min(s + _CHUNK, len(self)), dtype=np.int64)
                for s in range(0, len(self), _CHUNK)
            )
        else:
            chosen = np.asarray(
                positions if isinstance(positions, np.ndarray) else list(positions), dtype=np.int64
            )
            chunks = (chosen[s : s + _CHUNK] for s in range(0, len(chosen), _CHUNK))
        for chunk in chunks:
            yield from self._chunk(chunk)

    def _chunk(self, at: I64) -> Iterator[Conversation]:
        def col(a: npt.NDArray[Any]) -> list[Any]:
            return a[at].tolist()  # type: ignore[no-any-return]

        def opt(values: list[int]) -> list[int | None]:
            return [None if v < 0 else v for v in values]

        vlan, proto, etype, service = (
            opt(col(self.vlan)),
            opt(col(self.proto)),
            opt(col(self.ethertype)),
            opt(col(self.service)),
        )
        sides = self.sides
        init, resp = col(self.initiator), col(self.responder)
        sent, returned = col(self.frames_sent), col(self.frames_returned)
        bsent, breturned = col(self.bytes_sent), col(self.bytes_returned)
        first, last = col(self.first_ts_ns), col(self.last_ts_ns)
        syn, by = col(self.syn), col(self.initiator_by)
        refs, bounds = sample_refs(self.samples[at])
        joined = self.joined
        for i, j in enumerate(at.tolist()):
            more = joined.get(j)
            # positional: the constructor runs once per reported conversation
            yield Conversation(
                vlan[i],
                sides[init[i]],
                sides[resp[i]],
                proto[i],
                etype[i],
                service[i],
                sent[i],
                returned[i],
                bsent[i],
                breturned[i],
                first[i],
                last[i],
                tuple(refs[bounds[i] : bounds[i + 1]]),
                syn[i],
                _INITIATOR_BY[by[i]],
                *(_NOT_JOINED if more is None else more.fields()),
            )


def _key_columns(table: ConversationTable) -> npt.NDArray[np.uint64]:
    """The table's keys as one row of 11 columns each (uint64, absent = 2**64 - 1): unpacked
    from the hash index's packed words when they cover every row (they are the keys, packed),
    else converted from the key tuples."""
    n = len(table.keys)
    packed = table._key_rows
    if table._indexed == n and len(packed) == n and not table._collided:
        out = np.empty((n, _KEY_COLS), dtype=np.uint64)
        one = np.uint64(1)
        for col, shift, bits in _SMALL:
            out[:, col] = ((packed[:, 0] >> np.uint64(shift)) & np.uint64((1 << bits) - 1)) - one
        for col, word in _WIDE:
            out[:, col] = packed[:, word]
        return out
    flat = np.fromiter(chain.from_iterable(table.keys), dtype=np.uint64, count=_KEY_COLS * n)
    return flat.reshape(-1, _KEY_COLS)


def _number_sides(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]
) -> tuple[I64, I64, npt.NDArray[np.uint64]]:
    """Rows of (mac, ipver, hi, lo) for side A and side B of every conversation: the number of
    each distinct side, for A and for B, and the distinct rows (in order of their numbers).

    Sides are grouped by a 64-bit hash of their four words (one sort of one word instead of a
    sort on four), checked exactly; a collision falls back to sorting the words themselves.
    """
    both = np.concatenate([a, b])
    if not len(both):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, both
    h = _hash(both.T)
    _, first, number = np.unique(h, return_index=True, return_inverse=True)
    number = number.reshape(-1).astype(np.int64)
    distinct = both[first]
    if (distinct[number] != both).any():
        order = np.lexsort(both.T[::-1])
        s = both[order]
        change = np.r_[True, (s[1:] != s[:-1]).any(axis=1)]
        number = np.empty(len(both), dtype=np.int64)
        number[order] = np.cumsum(change) - 1
        distinct = s[change]
    return number[: len(a)], number[len(a) :], distinct


def columns_of(table: ConversationTable, named: NamedPorts | None = None) -> ConversationColumns:
    """Every conversation of ``table`` as columns, oriented as ``table.conversations()``
    orients them; ``named`` answers for arrays of (protocol, port) at once what
    ``conversations(named)``'s callable answers for one."""
    t, extra = table._resolved()
    order = np.argsort(t.first_order, kind="stable")
    n = len(order)
    keys = _key_columns(t)[order]
    syn_seen = t.syn_order[order] != _NO_ORDER
    decided = t.port_decided[order]
    init = np.where(syn_seen, t.syn_dir[order], np.where(decided, 0, t.first_dir[order])).astype(
        np.int64
    )
    by = np.where(syn_seen, 0, np.where(decided, 1, 2)).astype(np.int8)
    other = t.other_port[order]

    def signed(col: int) -> I64:
        c = keys[:, col]
        return np.where(c == _ABSENT_I, -1, c.astype(np.int64))

    vlan, ipver, proto, port, etype = signed(0), signed(3), signed(8), signed(9), signed(10)
    service = port.copy()
    # the initiator rule, step 2's last part: a port the topology names as the service
    open_ = ~decided & (other >= 0) & (port >= 0)
    if named is not None:
        ask = np.flatnonzero(open_ & (by == 2))
        if len(ask):
            b_named = named(proto[ask], port[ask])
            a_named = named(proto[ask], other[ask])
            flip = ask[b_named != a_named]
            init[flip] = np.where(b_named[b_named != a_named], 0, 1)
            by[flip] = 1
    swap = open_ & (init == 1)
    service[swap] = other[swap]  # the responder's port is the service
    a = keys[:, [1, 3, 4, 5]]
    b = keys[:, [2, 3, 6, 7]]
    side_a, side_b, distinct = _number_sides(a, b)
    sides = [
        Side(None if mac == NONE_MAC else mac, ip_address(ver, hi, lo))
        for mac, ver, hi, lo in distinct.tolist()
    ]
    forward = init == 0
    frames = t.frames[order]
    nbytes = t.bytes[order]
    fw, bw = np.where(forward, 0, 1), np.where(forward, 1, 0)
    rows = np.arange(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = rows
    joined = {int(position[r]): info for r, info in extra.items()}
    fragments_only = np.zeros(n, dtype=np.bool_)
    stopped = np.zeros(n, dtype=np.int64)
    for j, info in joined.items():
        fragments_only[j] = info.fragments_only
        stopped[j] = info.frames
    return ConversationColumns(
        vlan=vlan,
        proto=proto,
        ethertype=np.where(ipver != 0, -1, etype),
        service=service,
        initiator=np.where(forward, side_a, side_b),
        responder=np.where(forward, side_b, side_a),
        frames_sent=frames[rows, fw],
        frames_returned=frames[rows, bw],
        bytes_sent=nbytes[rows, fw],
        bytes_returned=nbytes[rows, bw],
        first_ts_ns=t.ts_first[order],
        last_ts_ns=t.ts_last[order],
        samples=t.samples[order],
        syn=syn_seen,
        initiator_by=by,
        sides=sides,
        side_mac=distinct[:, 0].copy() if len(distinct) else np.zeros(0, np.uint64),
        joined=joined,
        fragments_only=fragments_only,
        frames_stopped=stopped,
    )
