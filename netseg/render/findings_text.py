"""Findings as text for people: grouped by severity, worst first, each with its place in the
topology as ``FILE:LINE:COL`` so an editor or terminal can jump there.

Colours are ANSI escapes and only when the caller asks (the CLI asks on a terminal without
``NO_COLOR``). Waived findings come last, in their own group, with the waiver's reason.
Written line by line (:func:`iter_text`) in chunks of about a megabyte.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from netseg.model.topology import Severity, Topology
from netseg.render import severity_counts
from netseg.render.findings_json import chunked
from netseg.rules.finding import Finding

_COLOURS = {
    Severity.CRITICAL: "1;31",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
_DIM = "2"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _entry(f: Finding, colour: bool, show_severity: bool = False) -> list[str]:
    target = f"{f.subject} -> {f.object}" if f.object else f.subject
    sev = f" [{f.severity}]" if show_severity else ""
    lines = [
        f"  {_paint(f.rule, _COLOURS[f.severity], colour)}{sev}  {target}",
        f"    {f.message}",
        f"    {_paint('at ' + str(f.location), _DIM, colour)}",
    ]
    path = f.evidence.get("path") if f.evidence else None
    if isinstance(path, list | tuple) and path:
        lines.append(f"    path: {' -> '.join(str(p) for p in path)}")
    if f.waived:
        lines.append(f"    waived: {f.waiver_why}")
    return lines


def iter_text(
    topology: Topology,
    findings: Sequence[Finding],
    *,
    colour: bool = False,
    fail_on: Severity | None = None,
) -> Iterator[str]:
    """``netseg check`` for a terminal, in chunks of about a megabyte. ``fail_on`` adds what
    the run's verdict is."""
    return chunked(line + "\n" for line in _lines(topology, findings, colour, fail_on))


def render_text(
    topology: Topology,
    findings: Sequence[Finding],
    *,
    colour: bool = False,
    fail_on: Severity | None = None,
) -> str:
    """The whole text of :func:`iter_text` as one string."""
    return "".join(iter_text(topology, findings, colour=colour, fail_on=fail_on))


def _lines(
    topology: Topology, findings: Sequence[Finding], colour: bool, fail_on: Severity | None
) -> Iterator[str]:
    yield f"netseg check: {topology.name} ({topology.file})"
    yield ""
    active = [f for f in findings if not f.waived]
    waived = [f for f in findings if f.waived]
    if not findings:
        yield "No findings."
    for sev in Severity:
        group = [f for f in active if f.severity is sev]
        if not group:
            continue
        yield _paint(f"{sev.value.upper()} ({len(group)})", _COLOURS[sev], colour)
        for f in group:
            yield from _entry(f, colour)
        yield ""
    if waived:
        yield _paint(f"WAIVED ({len(waived)})", _DIM, colour)
        for f in waived:
            yield from _entry(f, colour, show_severity=True)
        yield ""
    counts = severity_counts(findings)
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    line = f"Summary: {summary}"
    if waived:
        line += f"; {len(waived)} waived"
    if fail_on is not None:
        failing = [f for f in active if f.severity.rank >= fail_on.rank]
        verdict = (
            f"{len(failing)} at or above --fail-on {fail_on}: FAIL"
            if failing
            else f"nothing at or above --fail-on {fail_on}: PASS"
        )
        line += f". {verdict}"
    yield line


__all__ = ["iter_text", "render_text"]
