"""The importer extension point: what every source of ``netseg import`` implements.

An importer turns what administrators already export (an RVTools workbook, a vCenter, switch
configurations, …) into a schema-1 topology document: plain mappings, lists and scalars in the
format's own terms, one mapping per entity. Each entity mapping carries ``source``, the export
row or configuration line it was read from; keys starting with ``_`` are facts for zone rules
(folder, tags, network names) and are never written out. The document is then checked by the
same loader as a hand-written file, so validation has one home.

In the style of nornir's inventory plugins the extension point is one small Protocol::

    class MyImporter:
        name = "mysource"
        options = frozenset({"server"})

        def read(self, request: ImportRequest) -> Imported: ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from netseg.errors import ImportSourceError

__all__ = [
    "ENTITY_LISTS",
    "ImportRequest",
    "ImportSourceError",
    "ImportWarning",
    "Imported",
    "Importer",
    "merge",
    "unique_macs",
]

# The top-level lists an import fills, in the order they are written.
ENTITY_LISTS = ("switches", "links", "routers", "endpoints", "hosts", "guests")

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """A fact the importer could not resolve; the entity was kept with what is certain."""

    source: str  # the export row or configuration line, e.g. "rvtools.xlsx vPort row 14"
    message: str

    def __str__(self) -> str:
        return f"{self.source}: warning: {self.message}"


@dataclass(frozen=True)
class ImportRequest:
    """What the user asked for: the inputs of one source and its options.

    ``options`` holds only the source-specific options the user gave (``server``, ``user``,
    ``password``, ``insecure``, ``dialect``, ``connect``, ``db``, ``url``, ``token``); secrets
    are never written to the output or to a message.
    """

    inputs: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass
class Imported:
    """An importer's result: the estate as a topology document, and its warnings."""

    document: Document = field(default_factory=dict)
    warnings: list[ImportWarning] = field(default_factory=list)

    def warn(self, source: str, message: str) -> None:
        self.warnings.append(ImportWarning(source, message))

    def entities(self, key: str) -> list[dict[str, Any]]:
        """The list ``key`` of the document, created when absent."""
        found: list[dict[str, Any]] = self.document.setdefault(key, [])
        return found


class Importer(Protocol):
    """One source of ``netseg import``."""

    #: the SOURCE word on the command line
    name: ClassVar[str]
    #: the source-specific options this importer reads (others are refused by the CLI)
    options: ClassVar[frozenset[str]]

    def read(self, request: ImportRequest) -> Imported:
        """Read every input of the request into one document.

        Raises :class:`~netseg.errors.ImportSourceError` naming the file, the sheet/row or line
        and what was expected when an input is not what this source reads.
        """
        ...


def merge(parts: Iterable[Imported]) -> Imported:
    """Several inputs of one source as one estate (every switch of a fabric, every host of a
    pool). An entity named twice keeps its first reading, and the second is a warning; switches
    named twice are one switch whose ports are the union (a configuration and a neighbour table
    of the same switch)."""
    out = Imported()
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for part in parts:
        out.warnings.extend(part.warnings)
        for key in ENTITY_LISTS:
            for entity in part.document.get(key, ()):
                if key == "links" or not isinstance(entity, dict) or "name" not in entity:
                    out.entities(key).append(entity)
                    continue
                ident = (key, str(entity["name"]))
                first = seen.get(ident)
                if first is None:
                    seen[ident] = entity
                    out.entities(key).append(entity)
                elif key == "switches":
                    _merge_ports(first, entity, out)
                else:
                    out.warn(
                        str(entity.get("source", "?")),
                        f"{key[:-1]} {entity['name']!r} was already read from "
                        f"{first.get('source', '?')}; keeping that one",
                    )
        for key, value in part.document.items():
            if key == "zones" and isinstance(value, dict):
                # every part's zones: a guest of the second part may be in a zone only it declares
                zones = out.document.setdefault("zones", {})
                for zone, body in value.items():
                    zones.setdefault(zone, body)
            elif key not in ENTITY_LISTS:
                out.document.setdefault(key, value)
    return out


def _merge_ports(first: dict[str, Any], other: dict[str, Any], out: Imported) -> None:
    ports = first.setdefault("ports", [])
    names = {p.get("name"): p for p in ports}
    for port in other.get("ports", ()):
        if port.get("name") in names:
            kept = names[port.get("name")]
            out.warn(
                str(port.get("source") or other.get("source", "?")),
                f"port {first['name']}:{port.get('name')} was already read from "
                f"{kept.get('source') or first.get('source', '?')}; keeping that one",
            )
            continue
        ports.append(port)
        names[port.get("name")] = port


def unique_macs(imported: Imported) -> None:
    """A MAC address claimed twice (two guests, a guest and a management interface: cloned VMs,
    overlapping dynamic MAC pools of two hosts) keeps its first claimant; each later one loses
    its ``mac`` with a warning naming both, since the topology format refuses a MAC used twice."""
    first: dict[str, str] = {}

    def claim(entity: dict[str, Any], who: str) -> None:
        mac = entity.get("mac")
        if not isinstance(mac, str):
            return
        key = mac.lower().replace("-", ":")
        if key in first:
            imported.warn(
                str(entity.get("source", who)),
                f"MAC {mac} of {who} is already {first[key]}'s; left out here",
            )
            del entity["mac"]
        else:
            first[key] = who

    for host in imported.document.get("hosts", ()):
        for m in host.get("management", ()):
            claim(m, f"management interface {host.get('name')}/{m.get('name')}")
    for guest in imported.document.get("guests", ()):
        for n, nic in enumerate(guest.get("nics", ())):
            claim(nic, f"guest {guest.get('name')}/{nic.get('name', f'nic{n}')}")
    for endpoint in imported.document.get("endpoints", ()):
        claim(endpoint, f"endpoint {endpoint.get('name')}")
    for router in imported.document.get("routers", ()):
        for iface in router.get("interfaces", ()):
            claim(iface, f"router interface {router.get('name')}/{iface.get('name')}")
