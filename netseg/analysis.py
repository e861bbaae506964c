"""Design analysis: every design finding of a topology, as one typed, printable result.

::

    import netseg
    from netseg.analysis import analyse

    analysis = analyse(netseg.load("topologies/esxi-cluster.yaml"))
    print(analysis)                      # summary by severity, then one line per finding
    for finding in analysis.failing(netseg.Severity.HIGH):
        print(finding.location, finding)

:func:`analyse` runs the configuration-hardening rules and the segmentation rules (from
:func:`netseg.graph.analyse_reachability`), then applies the topology's ``policy.severity``
overrides and ``policy.waivers``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from netseg import topology as _format
from netseg.collector import collector_paused
from netseg.graph import Reachability, analyse_reachability
from netseg.model.topology import Severity, Topology
from netseg.rules.catalogue import check_policy_rules
from netseg.rules.engine import apply_policy, failing, severity_counts
from netseg.rules.finding import Finding
from netseg.rules.hardening import hardening_findings
from netseg.rules.segmentation import segmentation_findings

#: What :func:`load` checks beyond the format: the rule ids the policy names.
DOCUMENT_CHECKS: tuple[_format.DocumentCheck, ...] = (check_policy_rules,)


def load(path: str | os.PathLike[str], display: str | None = None) -> Topology:
    """Load and check a topology file, its policy's rule ids included (``netseg.load``).

    :func:`netseg.topology.load` checks the format alone; this is the loader every command
    uses. Raises :class:`~netseg.errors.TopologyError` with every problem of the file.
    """
    return _format.load(path, display, checks=DOCUMENT_CHECKS)


def loads(text: str | bytes, file: str = "<string>", json_form: bool = False) -> Topology:
    """:func:`load` for text (``netseg.loads``)."""
    return _format.loads(text, file, json_form, checks=DOCUMENT_CHECKS)


@dataclass(frozen=True)
class Analysis:
    """The design findings of one topology, sorted worst first.

    ``reachability`` is the result the segmentation rules were computed from.
    """

    topology: Topology
    findings: tuple[Finding, ...]
    reachability: Reachability

    @property
    def waived(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived)

    @property
    def active(self) -> tuple[Finding, ...]:
        """The findings not waived."""
        return tuple(f for f in self.findings if not f.waived)

    def summary(self) -> dict[str, int]:
        """Count of unwaived findings per severity, every severity present, worst first."""
        return severity_counts(self.findings)

    def failing(self, threshold: Severity | str = Severity.HIGH) -> tuple[Finding, ...]:
        """Unwaived findings at or above ``threshold`` (what ``--fail-on`` fails on)."""
        return tuple(failing(self.findings, Severity(threshold)))

    def by_rule(self, rule: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rule == rule)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {sev}" for sev, n in self.summary().items() if n)
        head = f"{self.topology.name}: {len(self.active)} finding{'s' if len(self.active) != 1 else ''}"
        if counts:
            head += f" ({counts})"
        if self.waived:
            head += f", {len(self.waived)} waived"
        lines = [head]
        lines += [f"  {f.location}: {f}" for f in self.findings]
        return "\n".join(lines)


def analyse(topology: Topology, reachability: Reachability | None = None) -> Analysis:
    """Every design finding of ``topology`` with the topology's policy applied.

    Pass ``reachability`` (from :func:`netseg.graph.analyse_reachability`) to reuse one that
    was already computed.
    """
    # paused throughout, policy and sorting included (see collector_paused)
    with collector_paused():
        findings = hardening_findings(topology)
        if reachability is None:
            reachability = analyse_reachability(topology)
        findings.extend(segmentation_findings(topology, reachability))
        return Analysis(topology, tuple(apply_policy(topology, findings)), reachability)
