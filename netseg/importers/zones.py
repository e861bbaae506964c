"""``--zones RULES.yaml``: assigning imported guests and endpoints to zones while importing.

Exports know port groups, VLANs, folders and tags, not zones; the rules map those to zones,
first match wins, every key of one rule must match::

    zones:                      # optional: declarations written into the imported topology
      web: {description: public web tier}
    rules:
      - {zone: web, portgroup: "web-*"}        # glob on a port group, network or switch name
      - {zone: db, vlan: "30-39"}              # a VLAN set
      - {zone: admin, folder: "Infra/Jump*"}   # glob on the VM's folder
      - {zone: dmz, tag: dmz}                  # a tag, custom attribute or note
      - {zone: backup, name: "bkp-*"}          # glob on the VM or endpoint name

The file is checked with the topology format's own declarations, so a mistake is reported as
``FILE:LINE:COL: path: message`` like any topology problem.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netseg.errors import Problem, TopologyError
from netseg.importers.base import Document
from netseg.model.vlans import VlanSet
from netseg.topology.source import MDict, parse, read_text
from netseg.topology.spec import (
    NAME,
    VLAN_SET,
    ZONE,
    Field,
    ListOf,
    MapOf,
    Problems,
    Record,
    Where,
)

__all__ = ["ZoneRule", "ZoneRules", "load_zone_rules"]

ZONE_RULE = Record(
    "ZoneRule",
    {
        "zone": Field(NAME, "the zone a matching guest or endpoint is put in", required=True),
        "name": Field(NAME, "glob on the VM or endpoint name"),
        "portgroup": Field(NAME, "glob on a port group, network or virtual switch a NIC uses"),
        "vlan": Field(VLAN_SET, "VLANs one of its NICs is on"),
        "folder": Field(NAME, "glob on the VM's folder (vCenter, RVTools)"),
        "tag": Field(NAME, "glob on a tag, custom attribute or note"),
    },
    "a zone rule: every given key must match",
)
ZONE_RULES = Record(
    "ZoneRules",
    {
        "zones": Field(MapOf(ZONE), "zone declarations written into the imported topology"),
        "rules": Field(ListOf(ZONE_RULE), "the rules, first match wins", required=True),
    },
    "zone rules for netseg import --zones",
)


@dataclass(frozen=True, slots=True)
class ZoneRule:
    zone: str
    name: str | None = None
    portgroup: str | None = None
    vlan: VlanSet | None = None
    folder: str | None = None
    tag: str | None = None

    def matches(self, facts: Facts) -> bool:
        if self.name is not None and not fnmatch.fnmatchcase(facts.name, self.name):
            return False
        if self.portgroup is not None and not any(
            fnmatch.fnmatchcase(n, self.portgroup) for n in facts.networks
        ):
            return False
        if self.vlan is not None and not any(v in self.vlan for v in facts.vlans):
            return False
        if self.folder is not None and not fnmatch.fnmatchcase(facts.folder or "", self.folder):
            return False
        return self.tag is None or any(fnmatch.fnmatchcase(t, self.tag) for t in facts.tags)


@dataclass(frozen=True, slots=True)
class Facts:
    """What an export says about one guest or endpoint, for the rules to match."""

    name: str
    networks: tuple[str, ...] = ()
    vlans: tuple[int, ...] = ()
    folder: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ZoneRules:
    declarations: dict[str, dict[str, Any]]
    rules: tuple[ZoneRule, ...]

    def zone_of(self, facts: Facts) -> str | None:
        for rule in self.rules:
            if rule.matches(facts):
                return rule.zone
        return None

    def apply(self, document: Document) -> None:
        """Put every guest and endpoint of the document in the zone of its first matching
        rule (an explicit zone the importer already set is kept), and declare the zones."""
        used: set[str] = set()
        for entity, facts in _subjects(document):
            if entity.get("zone"):
                used.add(str(entity["zone"]))
                continue
            zone = self.zone_of(facts)
            if zone is not None:
                entity["zone"] = zone
                used.add(zone)
        zones: dict[str, Any] = dict(document.get("zones") or {})
        for name, body in self.declarations.items():
            zones.setdefault(name, body)
        for name in sorted(used - set(zones) - {"default", "management"}):
            zones[name] = {}
        if zones:
            document["zones"] = zones


def _subjects(document: Document) -> Iterator[tuple[dict[str, Any], Facts]]:
    # (host, vswitch or None, port group) -> VLAN: a NIC names the vswitch when two have the name
    vlan_of: dict[tuple[str, str | None, str], int] = {}
    for host in document.get("hosts", ()):
        for vswitch in host.get("vswitches", ()):
            for pg in vswitch.get("portgroups", ()):
                if isinstance(pg.get("vlan"), int):
                    vlan_of[(host["name"], vswitch["name"], pg["name"])] = pg["vlan"]
                    vlan_of.setdefault((host["name"], None, pg["name"]), pg["vlan"])
    for guest in document.get("guests", ()):
        extra = guest.get("_facts", {})
        networks: list[str] = list(extra.get("networks", ()))
        vlans: list[int] = list(extra.get("vlans", ()))
        for nic in guest.get("nics", ()):
            for key in ("portgroup", "vswitch"):
                if nic.get(key):
                    networks.append(str(nic[key]))
            if isinstance(nic.get("vlan"), int):
                vlans.append(nic["vlan"])
            elif nic.get("portgroup"):
                pg_key = (guest.get("host"), nic.get("vswitch"), nic["portgroup"])
                if pg_key in vlan_of:
                    vlans.append(vlan_of[pg_key])
        yield (
            guest,
            Facts(
                str(guest["name"]),
                tuple(networks),
                tuple(vlans),
                extra.get("folder"),
                tuple(extra.get("tags", ())),
            ),
        )
    for endpoint in document.get("endpoints", ()):
        extra = endpoint.get("_facts", {})
        vlans = [endpoint["vlan"]] if isinstance(endpoint.get("vlan"), int) else []
        yield (
            endpoint,
            Facts(
                str(endpoint["name"]),
                tuple(extra.get("networks", ())),
                tuple([*vlans, *extra.get("vlans", ())]),
                extra.get("folder"),
                tuple(extra.get("tags", ())),
            ),
        )


def load_zone_rules(path: str) -> ZoneRules:
    """Read and check a rules file; every problem raised at once as a TopologyError."""
    text = read_text(Path(path), path)
    raw = parse(text, path, path.lower().endswith(".json"))
    problems = Problems(path)
    if not isinstance(raw, MDict):
        raise TopologyError(
            [Problem(path, 1, 1, "", "expected a mapping with 'rules:' (and optionally 'zones:')")]
        )
    doc = ZONE_RULES.check(raw, Where(None, None, ""), problems)
    if problems:
        raise TopologyError(
            [Problem(*item) for item in sorted(set(problems.items), key=lambda t: t[:3])]
        )
    declarations = {
        str(name): {k: v for k, v in dict(body).items() if v is not None}
        for name, body in (doc.get("zones") or {}).items()
    }
    return ZoneRules(declarations, tuple(_rules(doc.get("rules") or ())))


def _rules(items: Iterable[Any]) -> Iterator[ZoneRule]:
    for item in items:
        yield ZoneRule(
            zone=str(item["zone"]),
            name=item.get("name"),
            portgroup=item.get("portgroup"),
            vlan=item.get("vlan"),
            folder=item.get("folder"),
            tag=item.get("tag"),
        )
