"""Capture replay, first half: reading captures, decoding frames, conversation and event tables.

Nothing here knows the topology: attribution and verdicts build on these tables.

::

    tables = tabulate(["incident.pcapng", "mirror/"])
    for conv in tables.conversations.conversations(): ...
    for event, count, frames in tables.events.events(): ...
"""

from netseg.capture.accounting import CaptureTables, FileAccount, tabulate_file
from netseg.capture.conversations import (
    Conversation,
    ConversationTable,
    Event,
    EventTable,
    FrameRef,
    Side,
)
from netseg.capture.decode import (
    FrameFacts,
    Undecodable,
    VlanTag,
    decode_batch,
    decode_frame,
    format_mac,
)
from netseg.capture.evidence import EvidenceFrame, write_evidence
from netseg.capture.parallel import tabulate
from netseg.capture.reader import CaptureReader, RawFrame, RecordBatch, capture_files, read_frames

__all__ = [
    "CaptureReader",
    "CaptureTables",
    "Conversation",
    "ConversationTable",
    "Event",
    "EventTable",
    "EvidenceFrame",
    "FileAccount",
    "FrameFacts",
    "FrameRef",
    "RawFrame",
    "RecordBatch",
    "Side",
    "Undecodable",
    "VlanTag",
    "capture_files",
    "decode_batch",
    "decode_frame",
    "format_mac",
    "read_frames",
    "tabulate",
    "tabulate_file",
    "write_evidence",
]
