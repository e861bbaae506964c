"""``replay``: the library call behind ``netseg replay``.

::

    result = netseg.replay(topology, ["captures/esxi-incident.pcap"], at="tor1:Eth1/11")
    for finding in result.findings: ...

Reading (in-process, on worker processes or on a Dask cluster, split by file and by chunk of
file: :mod:`netseg.capture.parallel`), judging each distinct conversation once, and the evidence
file of violating frames. To overlap reading with loading the topology, start the reading first
and pass it in::

    with start_tabulation(paths, workers=2) as pending:
        topology = load("big.json")
        result = netseg.replay(topology, paths, tables=pending)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from netseg.capture.accounting import CaptureTables
from netseg.capture.decode import FrameFacts, decode_frame
from netseg.capture.evidence import EvidenceFrame, write_evidence
from netseg.capture.judge import (
    JudgedConversation,
    ReplayResult,
    judge_tables,
    resolve_capture_point,
)
from netseg.capture.parallel import PendingTables, start_tabulation
from netseg.capture.reader import CaptureReader, read_frames
from netseg.collector import collector_paused
from netseg.errors import CaptureError
from netseg.graph import Reachability, analyse_reachability
from netseg.model.topology import Topology


def replay(
    topology: Topology,
    paths: Iterable[str | os.PathLike[str]],
    at: str | None = None,
    vlan: int | None = None,
    workers: int = 1,
    reachability: Reachability | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    scheduler: str | None = None,
    tables: CaptureTables | PendingTables | None = None,
) -> ReplayResult:
    """Read, attribute and judge captures against ``topology``. An unknown capture point raises
    SelectorError; unreadable files are recorded in the result (``tables.files[i].error``).

    ``workers`` >= 2 reads on that many processes, ``scheduler`` (``tcp://host:port``) on a Dask
    cluster; either way the reading runs while the reachability is computed. ``tables``: the
    reading of these same ``paths``, already started (:func:`start_tabulation`) or done.
    """
    point = resolve_capture_point(topology, at, vlan)
    pending = tables
    if pending is None:
        pending = start_tabulation(paths, workers, scheduler=scheduler)
    # The cyclic collector would rescan the topology's objects on every full collection while
    # the merge and the judge allocate (about a fifth of both on 50,000 guests), for nothing.
    with collector_paused():
        try:
            reach = reachability if reachability is not None else analyse_reachability(topology)
            read = pending if isinstance(pending, CaptureTables) else pending.result(progress)
        finally:
            if tables is None and isinstance(pending, PendingTables):
                pending.close()
        return judge_tables(topology, reach, read, point)


def _belongs(f: FrameFacts, j: JudgedConversation) -> bool:
    c = j.conversation
    if f.outer_vlan != c.vlan:
        return False
    if f.quoted is not None:
        # an ICMP error about the conversation's packets (refused, or stopped on the way)
        q = f.quoted
        ips = {c.initiator.ip, c.responder.ip}
        return (
            q.proto == c.proto
            and {q.src_ip, q.dst_ip} == ips
            and (c.service_port is None or c.service_port in (q.sport, q.dport))
        )
    if f.proto != c.proto:
        return False
    ends = {(c.initiator.mac, c.initiator.ip), (c.responder.mac, c.responder.ip)}
    if {(f.src_mac, f.src_ip), (f.dst_mac, f.dst_ip)} != ends:
        return False
    if f.later_fragment:
        return True  # a later fragment between the two sides: part of their datagrams
    if c.service_port is not None:
        return c.service_port in (f.sport, f.dport)
    return c.ethertype is None or f.ethertype == c.ethertype or f.proto is not None


def evidence_frames(result: ReplayResult) -> Iterator[EvidenceFrame]:
    """The original frames of every violating conversation, and the frames that triggered a
    frame-level finding, each with a comment naming the rules. Files are read again; nothing
    of their frames was kept in memory."""
    violating = result.violating()
    flagged: dict[tuple[int, int], list[str]] = {}
    for finding in result.findings:
        for ref in finding.evidence.get("frames", ()):
            key = (result.files.index(ref["file"]), ref["frame"])
            flagged.setdefault(key, []).append(finding.rule)
    for index, account in enumerate(result.tables.files):
        if account.error:
            continue
        path = Path(account.file)
        if violating:
            yield from _scan(path, index, violating, flagged)
        else:
            wanted = sorted(frame for (i, frame) in flagged if i == index)
            for raw in read_frames(path, wanted):
                rules = sorted(set(flagged[(index, raw.frame_no)]))
                yield EvidenceFrame(
                    raw.linktype, raw.ts_ns, raw.orig_len, raw.data, "netseg: " + ", ".join(rules)
                )


def _scan(
    path: Path,
    index: int,
    violating: list[JudgedConversation],
    flagged: dict[tuple[int, int], list[str]],
) -> Iterator[EvidenceFrame]:
    by_vlan: dict[int | None, list[JudgedConversation]] = {}
    for j in violating:
        by_vlan.setdefault(j.conversation.vlan, []).append(j)
    try:
        batches = CaptureReader(path).batches()
        for batch in batches:
            for i in range(len(batch)):
                data = batch.frame_bytes(i)
                frame_no = int(batch.frame_no[i])
                rules = list(flagged.get((index, frame_no), ()))
                facts = decode_frame(int(batch.linktype[i]), data)
                if isinstance(facts, FrameFacts):
                    for j in by_vlan.get(facts.outer_vlan, ()):
                        if _belongs(facts, j):
                            rules += j.rules
                            break
                if rules:
                    yield EvidenceFrame(
                        int(batch.linktype[i]),
                        int(batch.ts_ns[i]),
                        int(batch.origlen[i]),
                        data,
                        "netseg: " + ", ".join(sorted(set(rules))),
                    )
    except CaptureError:
        return


def write_evidence_file(result: ReplayResult, path: str | os.PathLike[str]) -> int:
    """Write the evidence pcapng; returns how many frames it holds."""
    return write_evidence(path, evidence_frames(result))
