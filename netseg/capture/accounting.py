"""Reading capture files into conversation and event tables, accounting for every frame.

For every file: ``frames == decoded + undecodable + unsupported``, the last two broken down by
reason (undecodable) and link type (unsupported), with the first few frame numbers of each, and
the total equals what Wireshark counts. :func:`tabulate_file` reads one file (or one span of
it) and is the unit of work a worker runs; the :class:`CaptureTables` of several
:meth:`~CaptureTables.merge` into the same result (:func:`netseg.capture.parallel.tabulate`
reads many, in-process or on workers).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netseg.capture.conversations import SAMPLES, ConversationTable, EventTable
from netseg.capture.decode import DECODED, REASONS, UNDECODABLE, UNSUPPORTED, decode_batch
from netseg.capture.reader import CHUNK_SIZE, CaptureReader, RecordBatch, Span
from netseg.errors import CaptureError

__all__ = ["CaptureTables", "FileAccount", "tabulate_file"]

# Records decoded together: bounds the temporaries of the vectorised decoder.
_DECODE_BATCH = 131_072


@dataclass
class FileAccount:
    """What one file held. ``error`` is set when the file could not be read at all."""

    file: str
    index: int
    format: str = ""
    compressed: bool = False
    frames: int = 0
    decoded: int = 0
    undecodable: dict[str, int] = field(default_factory=dict)
    undecodable_frames: dict[str, list[int]] = field(default_factory=dict)  # first few per reason
    unsupported: dict[int, int] = field(default_factory=dict)  # by link type
    unsupported_frames: dict[int, list[int]] = field(default_factory=dict)
    cut_short: bool = False  # the last record was cut short by the end of the file: not a frame
    damage: str | None = None  # the file is unreadable after some point (frames before count)
    error: str | None = None
    #: a problem that did not stop the reading (a compressed file cut short: read to the break)
    warning: str | None = None
    corrupt_record: int | None = None  # the frame number of the record Wireshark calls corrupt
    stream: bool = False  # read as a stream (standard input, a FIFO)
    interrupted: bool = False  # a stream whose reading Ctrl-C ended: what came before counts

    @property
    def undecodable_total(self) -> int:
        return sum(self.undecodable.values())

    @property
    def unsupported_total(self) -> int:
        return sum(self.unsupported.values())

    @property
    def balanced(self) -> bool:
        return self.frames == self.decoded + self.undecodable_total + self.unsupported_total


@dataclass
class CaptureTables:
    """Conversations, events and per-file accounts of a set of captures."""

    files: list[FileAccount] = field(default_factory=list)
    conversations: ConversationTable = field(default_factory=ConversationTable)
    events: EventTable = field(default_factory=EventTable)

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.files)

    @property
    def decoded(self) -> int:
        return sum(f.decoded for f in self.files)

    def merge(self, other: CaptureTables) -> CaptureTables:
        """Both sets of files; file indices must come from the same overall list of files."""
        return CaptureTables(
            sorted([*self.files, *other.files], key=lambda f: f.index),
            self.conversations.merge(other.conversations),
            self.events.merge(other.events),
        )


def _note(counts: dict, frames: dict, key: object, numbers: np.ndarray) -> None:  # type: ignore[type-arg]
    counts[key] = counts.get(key, 0) + len(numbers)
    kept = frames.setdefault(key, [])
    if len(kept) < SAMPLES:
        kept.extend(numbers[: SAMPLES - len(kept)].tolist())


def tabulate_file(
    path: str | os.PathLike[str],
    index: int = 0,
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    span: Span | None = None,
) -> CaptureTables:
    """Read, decode and aggregate one file; ``index`` is its position among the replay's files.

    A file that cannot be read gives an account with ``error`` set and nothing else. With
    ``span``, only that part of the file (the account then counts only its frames).
    """
    account = FileAccount(str(path), index)
    out = CaptureTables([account])
    reader = CaptureReader(Path(path), chunk_size=chunk_size, reuse_buffer=True, span=span)
    batches = reader.batches()
    try:
        for chunk in batches:
            for batch in chunk.split(_DECODE_BATCH):
                _tabulate_batch(out, account, batch, index)
            if progress is not None:
                progress(len(chunk))
    except CaptureError as e:
        return CaptureTables([FileAccount(str(path), index, error=e.message)])
    except KeyboardInterrupt:
        # Ctrl-C on a live stream ends it: what was read up to then is judged
        if not reader.stream:
            raise
        account.interrupted = True
        batches.close()
    account.format = reader.format
    account.compressed = reader.compressed
    account.cut_short = reader.cut_short
    account.damage = reader.damage
    account.warning = reader.warning
    account.corrupt_record = reader.corrupt_record
    account.stream = reader.stream
    return out


def _tabulate_batch(
    out: CaptureTables, account: FileAccount, batch: RecordBatch, index: int
) -> None:
    d = decode_batch(batch)
    out.conversations.add_batch(d, index)
    out.events.add_batch(d, index)
    account.frames += len(batch)
    st = d.status
    account.decoded += int(np.count_nonzero(st == DECODED))
    for code in np.unique(d.reason[st == UNDECODABLE]).tolist():
        which = batch.frame_no[(st == UNDECODABLE) & (d.reason == code)]
        _note(account.undecodable, account.undecodable_frames, REASONS[code], which)
    for lt in np.unique(batch.linktype[st == UNSUPPORTED]).tolist():
        which = batch.frame_no[(st == UNSUPPORTED) & (batch.linktype == lt)]
        _note(account.unsupported, account.unsupported_frames, int(lt), which)
