"""Change review: what a new version of a topology opens and closes.

::

    change = netseg.diff(netseg.load("git:origin/main:prod.yaml"), netseg.load("prod.yaml"))
    for pair in change.added:          # reachability that did not exist before
        print(pair.source, "->", pair.destination, pair.services)
    change.new_findings                # findings matched by (rule, subject, object), not by line

Reachable pairs are compared by (source, destination); a pair present in both versions whose
services differ is *changed* (before → after). Findings are compared by their key, so moving a
block of YAML or reformatting the file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netseg.analysis import Analysis, analyse
from netseg.model.services import ServiceSet
from netseg.model.topology import Severity, Topology
from netseg.rules.finding import Finding


@dataclass(frozen=True, slots=True)
class PairChange:
    """A pair reachable in both versions whose services differ."""

    source: str
    destination: str
    before: ServiceSet
    after: ServiceSet
    old: Any  # the pair in the old version
    new: Any  # the pair in the new version

    @property
    def opened(self) -> ServiceSet:
        return self.after - self.before

    @property
    def closed(self) -> ServiceSet:
        return self.before - self.after


@dataclass(frozen=True)
class TopologyDiff:
    """The difference between two versions of a design, in reachability and in findings."""

    old: Topology
    new: Topology
    added: tuple[Any, ...]
    removed: tuple[Any, ...]
    changed: tuple[PairChange, ...]
    new_findings: tuple[Finding, ...]
    fixed_findings: tuple[Finding, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.new_findings or self.fixed_findings
        )

    def failing(self, threshold: Severity | str = Severity.HIGH) -> tuple[Finding, ...]:
        """New, unwaived findings at or above ``threshold`` (what ``--fail-on`` fails on)."""
        level = Severity(threshold).rank
        return tuple(f for f in self.new_findings if not f.waived and f.severity.rank >= level)

    def summary(self) -> dict[str, int]:
        return {
            "pairs_added": len(self.added),
            "pairs_removed": len(self.removed),
            "pairs_changed": len(self.changed),
            "findings_new": len(self.new_findings),
            "findings_fixed": len(self.fixed_findings),
        }

    def __str__(self) -> str:
        s = self.summary()
        return (
            f"{self.old.name} -> {self.new.name}: {s['pairs_added']} pairs opened, "
            f"{s['pairs_removed']} closed, {s['pairs_changed']} changed; "
            f"{s['findings_new']} new findings, {s['findings_fixed']} fixed"
        )


def _pairs(
    analysis: Analysis, from_sel: str | None, to_sel: str | None
) -> dict[tuple[str, str], Any]:
    reach = analysis.reachability
    if reach is None:
        return {}
    pairs = reach.pairs(from_sel or "guests", to_sel or "management")
    return {(p.source, p.destination): p for p in pairs}


def diff(
    old: Topology,
    new: Topology,
    from_sel: str | None = None,
    to_sel: str | None = None,
) -> TopologyDiff:
    """Compare two versions. ``from_sel``/``to_sel`` choose the pairs as ``netseg reach`` does
    (default: every guest to every management interface)."""
    old_analysis, new_analysis = analyse(old), analyse(new)
    before = _pairs(old_analysis, from_sel, to_sel)
    after = _pairs(new_analysis, from_sel, to_sel)
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    changed = tuple(
        PairChange(k[0], k[1], before[k].services, after[k].services, before[k], after[k])
        for k in sorted(before.keys() & after.keys())
        if before[k].services != after[k].services
    )
    # A finding is the same in both versions when its identity is (rule and classes for a
    # finding made per class: stable when members join or leave), or, when the class itself
    # changed (a VLAN added to its segments), when rule, subject and object are.
    old_keys = {k for f in old_analysis.findings for k in f.identities}
    new_keys = {k for f in new_analysis.findings for k in f.identities}
    new_findings = tuple(f for f in new_analysis.findings if old_keys.isdisjoint(f.identities))
    fixed_findings = tuple(f for f in old_analysis.findings if new_keys.isdisjoint(f.identities))
    return TopologyDiff(old, new, added, removed, changed, new_findings, fixed_findings)
