"""Findings: what a rule reports, as typed values that print as a reviewer would write them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from netseg.model.topology import NOWHERE, Location, Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One entry of the finding catalogue (rules.md): everything said about a rule, once.

    ``help`` is what to change so that the finding goes away. ``netseg rules``,
    ``docs/rules.md``, SARIF's rule metadata and every finding (through
    :func:`netseg.rules.catalogue.finding`) read these fields and nothing else.
    """

    id: str
    severity: Severity
    title: str
    fires_when: str
    references: tuple[str, ...] = ()
    kind: Literal["design", "capture"] = "design"
    help: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding. ``subject``/``object`` are entity references (``guest:web01/nic0``).

    ``evidence`` holds JSON-ready values: for design findings ``services``, ``mode`` and
    ``path``; for capture findings the conversation and frame numbers.
    """

    rule: str
    severity: Severity
    message: str
    subject: str
    object: str | None = None
    location: Location = NOWHERE
    references: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    waived: bool = False
    waiver_why: str = ""
    #: A finding made per class (rules.md, "Grain"): the classes' stable names, which are its
    #: identity, and every member of each (the JSON output's top-level ``classes`` table).
    identity: tuple[str, ...] = ()
    classes: Mapping[str, Sequence[str]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, ...]:
        """Identity across versions of a topology (diff, SARIF fingerprints), never the line:
        rule and classes for a finding made per class (stable when members join or leave),
        else rule, subject and object."""
        if self.identity:
            return (self.rule, *self.identity)
        return (self.rule, self.subject, self.object or "")

    @property
    def identities(self) -> tuple[tuple[str, ...], ...]:
        """Every key under which two versions' findings are the same finding: its identity,
        or, when its class itself changed (a VLAN added to its segments), rule, subject and
        object. ``diff`` and ``fix`` match findings through these."""
        return (self.key, ("subject", self.rule, self.subject, self.object or ""))

    def __str__(self) -> str:
        waived = " (waived)" if self.waived else ""
        return f"[{self.severity}] {self.rule}: {self.message}{waived}"
