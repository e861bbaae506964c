"""The builder's shared state and helpers: problems, positions, uniqueness, MACs, zones.

:class:`BuilderBase` is what every part of the builder (:mod:`netseg.topology.build` and its
per-hypervisor parts ``build_esxi``, ``build_hyperv``, ``build_xen``) reads and reports through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netseg.model.services import ServiceSet
from netseg.model.topology import (
    DEFAULT_ZONE,
    Guards,
    Location,
    Peer,
    PortGroup,
    VSwitch,
    Zone,
)
from netseg.topology.source import MDict, MList
from netseg.topology.spec import INVALID, Problems, Record, Where, suggest

# immutable, so one instance serves every NIC declared without guards (50,000 of them)
_NO_GUARDS = Guards()


def _ok(value: Any) -> bool:
    return value is not INVALID and value is not None


def _loc(node: Any, file: str) -> Location:
    if isinstance(node, MDict | MList):
        return Location(node.file, node.mark[0], node.mark[1])
    return Location(file, 0, 0)


def _list(item: MDict, key: str) -> list[Any]:
    """A list field's value, or nothing when it is absent or invalid (already reported)."""
    value = item.get(key)
    return value if isinstance(value, list) else []


def _items(doc: MDict, key: str) -> list[tuple[int, MDict]]:
    """The valid mapping items of a list field, with their indexes."""
    value = doc.get(key)
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, MDict)]


class BuilderBase:
    def __init__(self, doc: MDict, raw: MDict, file: str, problems: Problems) -> None:
        self.doc = doc
        self.raw = raw
        self.file = file
        self.p = problems
        self.zones: dict[str, Zone] = {}
        self.macs: dict[str, tuple[str, int]] = {}
        self.pg_index: dict[str, tuple[Any, dict[str, list[tuple[VSwitch, PortGroup]]]]] = {}
        self.pos: dict[int, int] = {}
        self.vswitch_maps: dict[
            str, dict[str, VSwitch]
        ] = {}  # id(item) -> its index in its list, for paths
        # hosts declared with problems of their own: no cascade of "no host" errors
        self.declared_hosts = {
            h.get("name") for _, h in _items(doc, "hosts") if isinstance(h.get("name"), str)
        }

    # --- helpers ---------------------------------------------------------------------------
    def where(self, container: Any, key: Any, path: str) -> Where:
        return Where(container, key, path)

    def err(self, container: Any, key: Any, path: str, message: str, at_key: bool = False) -> None:
        self.p.add(Where(container, key, path), message, at_key)

    def check_applies(self, record: Record, value: MDict, hypervisor: str, path: str) -> None:
        """Keys given on a host whose hypervisor they do not apply to, as the format declares
        (``Field.hypervisors`` in spec.py)."""
        for key, message in record.misplaced(value, hypervisor):
            self.err(value, key, f"{path}.{key}", message, at_key=True)

    def unique(
        self, items: Iterable[tuple[int, MDict]], path: str, what: str, scope: str = ""
    ) -> dict[str, MDict]:
        """Names unique in a scope; a duplicate is reported at each later occurrence."""
        seen: dict[str, MDict] = {}
        for i, item in items:
            self.pos[id(item)] = i
            name = item.get("name")
            if not _ok(name):
                continue
            if name in seen:
                first = seen[name].mark[0]
                where = f" {scope}" if scope else ""
                self.err(
                    item,
                    "name",
                    f"{path}[{i}].name",
                    f"duplicate {what} name {name!r}{where} (first declared at line {first})",
                )
                continue
            seen[name] = item
        return seen

    def claim_mac(self, item: MDict, path: str, owner: str) -> str | None:
        mac = item.get("mac")
        if not _ok(mac):
            return None
        if mac in self.macs:
            other, line = self.macs[mac]
            self.err(
                item, "mac", f"{path}.mac", f"MAC {mac} is already used by {other} (line {line})"
            )
        else:
            self.macs[mac] = (owner, item.value_marks.get("mac", item.mark)[0])
        return str(mac)

    def zone_ref(self, item: MDict, key: str, path: str, default: str = DEFAULT_ZONE) -> str:
        name = item.get(key, default)
        if not _ok(name):
            return default
        if name not in self.zones:
            self.err(
                item, key, f"{path}.{key}", f"unknown zone {name!r}{suggest(name, self.zones)}"
            )
        return str(name)

    def peer(self, item: MDict, key: str, path: str) -> Peer:
        value = item.get(key, Peer())
        if not isinstance(value, Peer):
            return Peer()
        if value.zone is not None and value.zone not in self.zones:
            self.err(
                item,
                key,
                f"{path}.{key}",
                f"unknown zone {value.zone!r}{suggest(value.zone, self.zones)} "
                "(a peer is a zone, a prefix or 'any')",
            )
        return value

    def services(self, item: MDict) -> ServiceSet:
        value = item.get("services", ServiceSet.any())
        return value if isinstance(value, ServiceSet) else ServiceSet.any()

    def addresses(self, item: MDict) -> tuple[Any, ...]:
        value = item.get("address")
        return value if isinstance(value, tuple) else ()

    def loc(self, item: Any) -> Location:
        return _loc(item, self.file)
