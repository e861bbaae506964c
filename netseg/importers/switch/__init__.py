"""``netseg import switch``: physical switches from their running configurations.

Inputs are running configurations of Cisco IOS, Cisco NX-OS, Arista EOS and Juniper Junos
(hierarchical or ``set`` style; the dialect is detected per file, ``--dialect`` forces one),
folders of them, and LLDP/CDP neighbour tables of the same switches. Each configuration gives
a switch with its ports and a router per switch (and VRF) holding its SVIs; neighbour tables
give the links between switches, and with ``--hosts-from FILE`` (the topology another source's
import wrote) the switch port of each hypervisor NIC the switches saw.

Configurations are read by netseg's own line readers (:mod:`.cisco`, :mod:`.junos`): the
provenance of every entity is a configuration line, and the meaning of ``switchport trunk
allowed vlan add/remove`` depends on the order of lines, neither of which ttp's or hier_config's
results keep. Neighbour tables are read with TextFSM and ntc-templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import orjson

from netseg.errors import ImportSourceError
from netseg.importers.base import ENTITY_LISTS, Imported, ImportRequest, merge
from netseg.importers.switch import cisco, junos, state
from netseg.importers.switch.build import (
    BuiltSwitch,
    apply_neighbours,
    build_switch,
    cable_hosts,
    switch_name,
)
from netseg.importers.switch.detect import dialect_of, is_neighbour_table
from netseg.importers.switch.facts import SwitchFacts
from netseg.importers.switch.neighbours import parse as parse_neighbours
from netseg.importers.switch.neighbours import prompt_host
from netseg.importers.switch.state import is_switchport_state

__all__ = ["SwitchImporter", "read_config"]

_MAX_BYTES = 64 * 1024 * 1024


def read_text(path: Path, display: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportSourceError(display, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > _MAX_BYTES:
        raise ImportSourceError(display, "is over 64 MiB: not a switch configuration")
    if b"\0" in data[:8192]:
        raise ImportSourceError(
            display, "is a binary file, not a switch configuration or neighbour table", 1
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # banners and descriptions in a legacy code page


def read_config(text: str, file: str, dialect: str | None = None) -> SwitchFacts:
    """The facts of one configuration (dialect detected unless given)."""
    display = Path(file).name
    chosen, guessed = dialect_of(text, file, dialect)
    if chosen == "junos":
        facts = junos.read(text, file, display)
    else:
        facts = cisco.read(text, file, display, chosen)
    if guessed:
        facts.warn(1, guessed)
    return facts


def _expand(inputs: tuple[str, ...]) -> list[Path]:
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            paths.extend(
                sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith("."))
            )
        else:
            paths.append(p)
    return paths


class SwitchImporter:
    name: ClassVar[str] = "switch"
    options: ClassVar[frozenset[str]] = frozenset({"dialect", "hosts_from"})

    def read(self, request: ImportRequest) -> Imported:
        if not request.inputs:
            raise ImportSourceError(
                "netseg import switch", "give the running configurations (files or folders) to read"
            )
        forced = request.option("dialect")
        configs: list[SwitchFacts] = []
        tables: list[tuple[Path, str]] = []
        states: list[SwitchFacts] = []
        for path in _expand(request.inputs):
            text = read_text(path, str(path))
            if is_switchport_state(text):
                states.append(state.read(text, str(path)))
            elif is_neighbour_table(text):
                tables.append((path, text))
            else:
                configs.append(read_config(text, str(path), forced))
        built: dict[str, BuiltSwitch] = {}
        parts: list[Imported] = []
        for facts in configs:
            name = switch_name(facts)
            if not name:
                name = Path(facts.file).name.split(".")[0]
                facts.warn(
                    1,
                    f"no hostname in the configuration: the switch is named {name!r} after the file",
                )
            b = build_switch(facts, name)
            parts.append(b.part)
            if name in built:
                continue  # merge() warns that the second reading is not kept
            built[name] = b
        configured = {n.lower() for n in built}
        for facts in states:
            if facts.hostname.lower() in configured:
                parts.append(Imported())
                parts[-1].warn(
                    facts.where(1),
                    f"the running configuration of {facts.hostname} is among the inputs: "
                    "its switchport state is not read",
                )
                continue
            b = build_switch(facts, facts.hostname)
            parts.append(b.part)
            built.setdefault(facts.hostname, b)
        out = merge(parts)
        neighbour_tables = [
            (owner, parse_neighbours(text, str(path), built[owner].facts.dialect))
            for path, text, owner in ((p, t, _owner(p, t, built)) for p, t in tables)
        ]
        sightings = apply_neighbours(built, neighbour_tables, out)
        for key in ("switches", "routers"):
            if key in out.document:
                out.document[key].sort(key=lambda e: str(e["name"]))
        hosts_files = request.option("hosts_from") or []
        if isinstance(hosts_files, str):
            hosts_files = [hosts_files]
        carried: list[Imported] = []
        for hosts_file in hosts_files:  # one per source of a mixed estate (Hyper-V, libvirt, ...)
            other = _hosts_document(str(hosts_file))
            cable_hosts(sightings, other.get("hosts", []), Path(str(hosts_file)).name, out)
            carried.append(
                Imported({k: v for k, v in other.items() if k in ENTITY_LISTS or k == "zones"})
            )
        if carried:
            out = merge([out, *carried])
        return out


def _owner(path: Path, text: str, built: dict[str, BuiltSwitch]) -> str:
    """Which switch a neighbour table was taken on: its prompt line, else its file name."""
    host = prompt_host(text)
    where = "its prompt line"
    if host is None:
        stem = path.name.lower()
        candidates = [
            n
            for n in built
            if stem.startswith(n.lower()) and not stem[len(n) : len(n) + 1].isalnum()
        ]
        if candidates:
            return max(candidates, key=len)
        raise ImportSourceError(
            str(path),
            "a neighbour table must say which switch it was taken on: keep the prompt line "
            "(tor1#show lldp neighbors detail) or name the file after the switch (tor1.lldp.txt)",
            1,
        )
    name = host.split(".")[0]
    for n in built:
        if n.lower() == name.lower():
            return n
    raise ImportSourceError(
        str(path),
        f"neighbour table of {name} ({where}), whose configuration is not among the inputs "
        f"(read: {', '.join(sorted(built)) or 'none'})",
        1,
    )


def _hosts_document(file: str) -> dict[str, Any]:
    """The entities of a topology another import wrote (``--hosts-from``), as plain data. It is not
    checked on its own (its NICs may name this import's switches); the combined output is, with
    each problem traced to the entity's source."""
    from netseg.errors import TopologyError
    from netseg.topology.source import parse

    path = Path(file)
    text = read_text(path, file)
    json_form = path.suffix.lower() == ".json"
    try:
        # plain data is all that is needed (no positions), so JSON takes the fast reader
        raw = orjson.loads(text) if json_form else _plain(parse(text, file, json_form=False))
    except orjson.JSONDecodeError as exc:
        raise ImportSourceError(file, f"not JSON: {exc}") from None
    except TopologyError as exc:
        raise ImportSourceError(file, f"not a topology: {exc}") from None
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k, []), list) and all(isinstance(e, dict) for e in raw.get(k, []))
        for k in ENTITY_LISTS
        if k != "links"
    ):
        raise ImportSourceError(
            file, "expected a topology: a mapping whose hosts, guests, ... are lists of mappings"
        )
    if not raw.get("hosts"):
        # most likely the export itself (a Hyper-V collection JSON, ovs-vsctl lists) given
        # instead of what its import wrote: nothing would be cabled, silently
        raise ImportSourceError(
            file,
            "holds no hosts: --hosts-from takes the topology another import wrote "
            "(netseg import hyperv|libvirt|... -o FILE), not the export itself",
        )
    if raw.get("include"):
        raise ImportSourceError(
            file, "--hosts-from takes the file an import wrote, without 'include'"
        )
    for key in ENTITY_LISTS:
        for i, entity in enumerate(raw.get(key, []) or []):
            if isinstance(entity, dict):
                entity.setdefault("source", f"{path.name} {key}[{i}]")
    return raw


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
