"""Runs every design rule and applies the topology's own policy to the result.

Order of work: the hardening rules (configuration alone) and the segmentation rules (from
reachability) produce findings at their catalogue severity; then ``policy.severity`` overrides
change severities, ``policy.waivers`` mark accepted risks (still listed, never failing a run),
and the findings are sorted so that the same topology always prints the same report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from netseg.model import refs
from netseg.model.topology import Severity, Topology, Waiver
from netseg.rules.finding import Finding


def sort_key(f: Finding) -> tuple[int, str, str, str, str]:
    """Worst first, then by rule, subject and object; the message breaks the last ties."""
    return (-f.severity.rank, f.rule, f.subject, f.object or "", f.message)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=sort_key)


def containing_selectors(topology: Topology) -> Mapping[str, frozenset[str]]:
    """For every entity reference, the wider selectors that contain it.

    ``host:H`` holds everything declared on host H and its guests; ``zone:Z`` the guests,
    endpoints and management interfaces of zone Z (with their NICs); ``guest:G`` its NICs;
    ``switch:S`` its ports; ``router:R`` its interfaces. Built from the model rather than by
    splitting references, because names may contain ``/``.
    """
    inside: dict[str, set[str]] = defaultdict(set)
    for sw in topology.switches:
        for port in sw.ports:
            inside[refs.switch(sw.name, port.name)].add(refs.switch(sw.name))
    for host in topology.hosts:
        h = host.ref
        for nic in host.nics:
            inside[refs.nic(host.name, nic.name)].add(h)
        for vs in host.vswitches:
            inside[refs.vswitch(host.name, vs.name)].add(h)
            for pg in vs.portgroups:
                inside[refs.portgroup(host.name, vs.name, pg.name)].add(h)
        for m in host.management:
            inside[m.ref].update((h, refs.zone(m.zone)))
    for g in topology.guests:
        owners = {refs.host(g.host), refs.zone(g.zone)}
        inside[refs.guest(g.name)].update(owners)
        for n in g.nics:
            inside[n.ref].update(owners | {refs.guest(g.name)})
    for e in topology.endpoints:
        inside[e.ref].add(refs.zone(e.zone))
    for r in topology.routers:
        for i in r.interfaces:
            inside[i.ref].add(r.ref)
            if i.host is not None:
                inside[i.ref].add(refs.host(i.host))
    return {ref: frozenset(s) for ref, s in inside.items()}


def apply_policy(topology: Topology, findings: Iterable[Finding]) -> list[Finding]:
    """Apply ``policy.severity`` and ``policy.waivers``; the result is sorted."""
    overrides: Mapping[str, Severity] = topology.policy.severity
    waivers: Sequence[Waiver] = topology.policy.waivers
    by_rule: dict[str, list[Waiver]] = defaultdict(list)
    for w in waivers:
        by_rule[w.rule].append(w)
    selectors = containing_selectors(topology) if waivers else {}
    out: list[Finding] = []
    for f in findings:
        if f.rule in overrides and overrides[f.rule] is not f.severity:
            f = replace(f, severity=overrides[f.rule])
        rule_waivers = by_rule.get(f.rule, ())
        if rule_waivers:
            # a finding made per class is waived when its waivers cover every member of the
            # source class (rules.md, "Grain"); naming one member leaves the others reported
            members = f.classes.get(f.identity[0], (f.subject,)) if f.identity else (f.subject,)
            why = ""
            for m in members:
                covering = next(
                    (
                        w
                        for w in rule_waivers
                        if w.subject == m or w.subject in selectors.get(m, ())
                    ),
                    None,
                )
                if covering is None:
                    why = ""
                    break
                why = why or covering.why or "waived"
            if why:
                f = replace(f, waived=True, waiver_why=why)
        out.append(f)
    return sort_findings(out)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Unwaived findings per severity, every severity present, worst first: the one count
    behind every summary (check's text and JSON, replay's, the report's cards).

    Waived findings are accepted risks: they are listed, but they are not counted here, so a
    summary says what still needs attention (the number waived is reported beside it).
    """
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        if not f.waived:
            counts[f.severity.value] += 1
    return counts


def failing(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    """Findings that fail a run at ``--fail-on threshold``: unwaived and at least as severe."""
    return [f for f in findings if not f.waived and f.severity.rank >= threshold.rank]
