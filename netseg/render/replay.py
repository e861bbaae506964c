"""Rendering a capture replay: JSON per the contract, text for the administrator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from netseg import __version__
from netseg.capture.judge import ReplayResult
from netseg.model.topology import Severity
from netseg.render.findings_json import finding_to_json, topology_to_json
from netseg.render.jsontext import iter_document
from netseg.rules.engine import severity_counts

_LINKTYPES = {0: "null", 9: "ppp", 105: "802.11", 127: "802.11 radiotap", 113: "linux-sll"}


def file_json(account: Any, orphans: tuple[int, tuple[Any, ...]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": account.file,
        "frames": account.frames,
        "decoded": account.decoded,
        "undecodable": dict(sorted(account.undecodable.items())),
        "unsupported": {f"linktype-{lt}": n for lt, n in sorted(account.unsupported.items())},
        "cut_short": account.cut_short,
    }
    if account.undecodable_frames:
        out["undecodable_frames"] = {k: v for k, v in sorted(account.undecodable_frames.items())}
    if account.damage:
        out["damage"] = account.damage
    if account.corrupt_record is not None:
        out["corrupt_record"] = account.corrupt_record
    if account.warning:
        out["warning"] = account.warning
    if account.interrupted:
        out["interrupted"] = True
    if orphans is not None:
        out["fragment-without-first"] = {
            "frames": orphans[0],
            "sample_frames": [r.frame for r in orphans[1]],
        }
    if account.error:
        out["error"] = account.error
    return out


def replay_document(result: ReplayResult, all_conversations: bool = False) -> dict[str, Any]:
    head, conversations, findings = _document_parts(result, all_conversations)
    return {**head, "conversations": list(conversations), "findings": findings}


def _document_parts(
    result: ReplayResult, all_conversations: bool
) -> tuple[dict[str, Any], Iterator[dict[str, Any]], list[dict[str, Any]]]:
    """The document's keys before its conversations, its conversations (produced one at a
    time), and its findings: the document is written in this order."""
    summary = severity_counts(result.findings)
    orphans = result.tables.conversations.fragments_without_first()
    doc: dict[str, Any] = {
        "netseg": __version__,
        "topology": topology_to_json(result.topology),
        "capture_point": result.point.name or None,
        "files": [file_json(a, orphans.get(a.index)) for a in result.tables.files],
        "totals": result.totals(),
    }
    reason = result.nothing_judged()
    if reason is not None:
        doc["nothing_judged"] = reason
    doc["summary"] = summary
    findings = [finding_to_json(f) for f in result.findings]
    return doc, result.shown_json(all_conversations), findings


def render_replay_json(result: ReplayResult, all_conversations: bool = False) -> str:
    return b"".join(iter_replay_json(result, all_conversations)).decode("ascii")


def iter_replay_json(result: ReplayResult, all_conversations: bool = False) -> Iterator[bytes]:
    """``netseg replay --format json`` as bytes, its conversations encoded a batch at a time
    (``--all-conversations`` of 200,000 conversations never holds their whole JSON): the
    bytes of ``json.dumps(replay_document(...), indent=2)`` and a newline."""
    head, conversations, findings = _document_parts(result, all_conversations)
    yield from iter_document(head, {"conversations": conversations}, {"findings": findings})
    yield b"\n"


def render_replay_text(result: ReplayResult, colour: bool = False, fail_on: str = "high") -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    lines = [f"netseg replay: {result.topology.name} ({result.topology.file})"]
    if result.point.name:
        lines.append(f"capture point: {result.point.name}")
    lines.append("")
    orphans = result.tables.conversations.fragments_without_first()
    reason = result.nothing_judged()
    for a in result.tables.files:
        if a.error:
            lines.append(paint(f"  {a.file}: ERROR {a.error}", "1;31"))
            continue
        parts = [f"{a.frames} frames", f"{a.decoded} decoded"]
        if a.undecodable_total:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(a.undecodable.items()))
            parts.append(f"{a.undecodable_total} undecodable ({reasons})")
        if a.unsupported_total:
            lts = ", ".join(f"link type {lt}: {n}" for lt, n in sorted(a.unsupported.items()))
            parts.append(f"{a.unsupported_total} unsupported ({lts})")
        lines.append(f"  {a.file}: " + ", ".join(parts))
        if a.cut_short:
            lines.append(
                paint(
                    "    warning: the last record is cut short (file copied while being written?); not counted as a frame",
                    "33",
                )
            )
        if a.damage:
            lines.append(paint(f"    warning: {a.damage}", "33"))
        if a.warning:
            lines.append(paint(f"    warning: {a.warning}", "33"))
        if a.interrupted:
            lines.append(
                paint("    interrupted (Ctrl-C): what was read up to then is judged", "33")
            )
        orphan = orphans.get(a.index)
        if orphan is not None:
            frames = ", ".join(str(r.frame) for r in orphan[1])
            lines.append(
                f"    {orphan[0]} later fragments without their first fragment "
                f"(fragment-without-first; frames {frames}): no zone verdict from them alone"
            )
    t = result.totals()
    lines.append(f"  {t['conversations']} conversations")
    order = sorted(result.findings, key=lambda f: (-f.severity.rank, f.rule, f.subject))
    active = [f for f in order if not f.waived]
    if reason is not None:
        lines.append("")
        lines.append(paint(f"Nothing was judged: {reason}.", "1;31"))
        lines.append("This is not a pass: no traffic was checked against the segmentation.")
    elif not active and result.incomplete():
        lines.append("")
        lines.append(
            "No findings in the frames that could be read; a capture could not be read to its "
            "end (see above), so what follows the break was not checked."
        )
    elif not active:
        lines.append("")
        lines.append("No findings: the traffic respects the intended segmentation.")
    for sev in Severity:
        group = [f for f in active if f.severity is sev]
        if not group:
            continue
        lines.append("")
        lines.append(paint(f"{sev.value.upper()} ({len(group)})", "1;31" if sev.rank >= 3 else "1"))
        for f in group:
            lines.append(f"  {f.rule}  {f.subject}" + (f" -> {f.object}" if f.object else ""))
            lines.append(f"    {f.message}")
    waived = [f for f in order if f.waived]
    if waived:
        lines.append("")
        lines.append(f"WAIVED ({len(waived)})")
        for f in waived:
            lines.append(f"  {f.rule}  {f.subject}: {f.waiver_why}")
    counts = severity_counts(active)
    failing = len(result.failing(fail_on))
    lines.append("")
    lines.append(
        "Summary: "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f". {failing} at or above --fail-on {fail_on}: "
        + (
            "FAIL"
            if failing
            else "NOTHING JUDGED"
            if reason is not None
            # exit 2: what could be read respects the segmentation, the rest was not checked
            else "INCOMPLETE"
            if result.incomplete()
            else "PASS"
        )
    )
    lines.append("Open a frame in Wireshark: Go > Go to Packet (Ctrl-G) and type its number.")
    return "\n".join(lines) + "\n"
