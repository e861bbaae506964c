"""``netseg import ovs``: one host's Open vSwitch database as a topology.

Inputs are what ``ovs-vsctl --format=json list TABLE`` prints for the tables Open_vSwitch,
Bridge, Port and Interface (one file per table, or several tables in one file: ``ovs-vsctl``
prints one JSON object per command), ``ovs-vsctl show`` text, or, with ``--db unix:PATH``, a
running database read through ``ovs-vsctl``. Tables are recognised by their column headings.

The host is one Linux host (a Xen dom0 or a KVM host), written as ``hypervisor: xen`` (the
format's model of Linux bridges and Open vSwitch with a privileged host OS). It is named by
``--host``, else by the database's ``Open_vSwitch external_ids:hostname`` (domain suffix
dropped), else by the folder of its files (a warning). Bridges are ``ovs`` virtual switches;
ports are classified by their interfaces:

- ``internal`` interfaces are the host's own (management, with the port's access VLAN and MAC;
  OVSDB holds no IP addresses);
- several interfaces make a bond, one NIC named after the port (a NIC team counts as one NIC);
- ``patch`` ports join two bridges, and tunnels (vxlan, geneve, gre, ...) leave the host: both
  are warnings, since the format has no bridge-to-bridge or overlay link;
- guest ports (libvirt/Neutron ``external_ids`` attached-mac / vm-id / iface-id, XenServer
  ``xs-vm-uuid``, or the tap names ``vnetN``, ``vifD.N``, ``tap…``) become guest NICs;
- every other system interface is a physical uplink.

The reading (:func:`read_files`, :func:`read_live`) and the mapping to host parts
(:func:`host_parts`) are also used by the libvirt importer, which joins a host's OVS ports to
its domains' interfaces.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from netseg.errors import ImportSourceError
from netseg.importers.base import Imported, ImportRequest, merge
from netseg.model.vlans import VlanSet

__all__ = [
    "GuestPort",
    "HostParts",
    "OvsDatabase",
    "OvsImporter",
    "host_parts",
    "is_ovs_text",
    "read_files",
    "read_live",
    "short_hostname",
]

# a port with no tag and no trunks: Open vSwitch's trunk of every VLAN, written explicitly
OVS_DEFAULT = {"trunk": "all", "native": 0}
VSCTL_TIMEOUT = 20  # seconds: a database that does not answer is an error, not a hang
# What an administrator collects, and what --db asks: the four tables, one JSON object each.
COLLECT = (
    "--format=json",
    "list",
    "Open_vSwitch",
    "--",
    "list",
    "Bridge",
    "--",
    "list",
    "Port",
    "--",
    "list",
    "Interface",
)
TUNNEL_TYPES = frozenset(
    {"vxlan", "geneve", "gre", "ip6gre", "stt", "lisp", "erspan", "ip6erspan", "gtpu", "bareudp"}
)
GUEST_IDS = ("vm-id", "vm-uuid", "xs-vm-uuid", "attached-mac", "iface-id", "xs-vif-uuid")
_GUEST_NAME = re.compile(r"(?:vnet\d+|macvtap\d+|vif\d+\.\d+(?:-emu)?|tap.+|vhu.+)")
_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
_XEN_VIF = re.compile(r"vif(\d+)\.\d+(?:-emu)?")
_NEEDED = {
    "Bridge": ("_uuid", "name", "ports"),
    "Port": ("_uuid", "name", "interfaces"),
    "Interface": ("_uuid", "name"),
}


# --- what the database says ---------------------------------------------------------------------


@dataclass
class OvsInterface:
    name: str
    type: str
    source: str
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    mac_in_use: str | None = None


@dataclass
class OvsPort:
    name: str
    source: str
    interfaces: list[OvsInterface]
    tag: int | None = None
    trunks: tuple[int, ...] = ()
    vlan_mode: str | None = None
    bond_mode: str | None = None
    lacp: str | None = None


@dataclass
class OvsBridge:
    name: str
    source: str
    ports: list[OvsPort]


@dataclass
class OvsDatabase:
    """One host's switch: its bridges, and what the Open_vSwitch record says of the host."""

    origin: str  # the file or --db it was read from
    bridges: list[OvsBridge]
    hostname: str | None = None
    source: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (source, warning)


def _decode(value: Any) -> Any:
    """An OVSDB JSON value: ["uuid", u], ["set", [...]], ["map", [[k, v], ...]] or a scalar."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        kind, body = value
        if kind in ("uuid", "named-uuid"):
            return str(body)
        if kind == "set":
            return [_decode(v) for v in body]
        if kind == "map":
            return {str(_decode(k)): _decode(v) for k, v in body}
    return value


def _set(value: Any) -> list[Any]:
    # a one-element set is written as the bare element
    if isinstance(value, list):
        return value
    return [value]


def _one(value: Any) -> Any:
    items = _set(value)
    return items[0] if items else None


def _table_of(headings: list[str]) -> str | None:
    cols = set(headings)
    if "bridges" in cols or "ovs_version" in cols or "db_version" in cols:
        return "Open_vSwitch"
    if "ports" in cols or "datapath_type" in cols or "fail_mode" in cols:
        return "Bridge"
    if "interfaces" in cols or "vlan_mode" in cols or "trunks" in cols or "bond_mode" in cols:
        return "Port"
    if "ofport" in cols or "mac_in_use" in cols or ("type" in cols and "options" in cols):
        return "Interface"
    return None


def _json_objects(text: str, origin: str) -> Iterator[tuple[int, Any]]:
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ImportSourceError(
                origin, f"not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno
            ) from None
        yield line, value


Rows = dict[str, list[tuple[dict[str, Any], str]]]  # table -> [(row, source)]


def _add_table(
    tables: Rows,
    headings: list[str],
    records: Iterable[dict[str, Any]],
    origin: str,
    line: int,
    label: str,
) -> None:
    table = _table_of(headings)
    if table is None:
        raise ImportSourceError(
            origin,
            "this is not a list of the Open_vSwitch, Bridge, Port or Interface table "
            f"(columns {', '.join(headings[:6])}…)",
            line,
        )
    missing = [c for c in _NEEDED.get(table, ()) if c not in headings]
    if missing:
        raise ImportSourceError(
            origin,
            f"the {table} list lacks the column(s) {', '.join(missing)} "
            f"(run `ovs-vsctl --format=json list {table}` without --columns)",
            line,
        )
    rows = tables.setdefault(table, [])
    for record in records:
        rows.append((record, f"{label} {table} {record.get('name', record.get('_uuid'))}"))


def _tables(text: str, origin: str, label: str) -> Rows:
    tables: Rows = {}
    for line, value in _json_objects(text, origin):
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("headings"), list)
            or not isinstance(value.get("data"), list)
        ):
            raise ImportSourceError(
                origin,
                "expected the output of `ovs-vsctl --format=json list TABLE` "
                '(an object with "headings" and "data"), or `ovs-vsctl show`',
                line,
            )
        headings = [str(h) for h in value["headings"]]
        records = []
        for row in value["data"]:
            if not isinstance(row, list) or len(row) != len(headings):
                raise ImportSourceError(
                    origin, f"a row does not match its {len(headings)} headings", line
                )
            records.append({h: _decode(v) for h, v in zip(headings, row, strict=True)})
        _add_table(tables, headings, records, origin, line, label)
    return tables


# --- `ovs-vsctl list TABLE` in its default text format ------------------------------------------------

_TEXT_LINE = re.compile(r"([A-Za-z_][\w-]*)\s*: ?(.*)")
_TEXT_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([\[\]{},=])|([^\s,=\[\]{}"]+))')


def _text_value(text: str) -> Any:
    """An OVSDB value as ovs-vsctl prints it: [a, b], {k=v, ...}, "quoted", 10, true, bare."""
    tokens: list[tuple[str, str]] = []  # (kind, text): kind q (quoted), p (punctuation), w (word)
    pos = 0
    while pos < len(text):
        match = _TEXT_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        quoted, punct, word = match.groups()
        if quoted is not None:
            tokens.append(("q", bytes(quoted, "utf-8").decode("unicode_escape")))
        elif punct is not None:
            tokens.append(("p", punct))
        elif word is not None:
            tokens.append(("w", word))

    def atom(kind: str, value: str) -> Any:
        if kind == "q":
            return value
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        return {"true": True, "false": False}.get(value, value)

    def items(i: int, close: str) -> tuple[Any, int]:
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        while i < len(tokens) and tokens[i] != ("p", close):
            if tokens[i] == ("p", ","):
                i += 1
            elif close == "}" and i + 2 < len(tokens) and tokens[i + 1] == ("p", "="):
                out_map[str(atom(*tokens[i]))] = atom(*tokens[i + 2])
                i += 3
            else:
                out_list.append(atom(*tokens[i]))
                i += 1
        return (out_map if close == "}" else out_list), i + 1

    if not tokens:
        return ""
    if tokens[0] == ("p", "["):
        return items(1, "]")[0]
    if tokens[0] == ("p", "{"):
        return items(1, "}")[0]
    return atom(*tokens[0])


def _text_tables(text: str, origin: str, label: str) -> Rows:
    tables: Rows = {}
    record: dict[str, Any] = {}
    first = 0

    def flush() -> None:
        if record:
            _add_table(tables, list(record), [dict(record)], origin, first, label)
            record.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            flush()
            continue
        match = _TEXT_LINE.fullmatch(raw.rstrip())
        if match is None:
            raise ImportSourceError(
                origin,
                "expected `ovs-vsctl list TABLE` output (`column : value` lines); "
                "prefer `ovs-vsctl --format=json list TABLE`",
                number,
            )
        if not record:
            first = number
        record[match.group(1)] = _text_value(match.group(2))
    flush()
    return tables


def _int(value: Any) -> int | None:
    value = _one(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _database(tables: Rows, origin: str) -> OvsDatabase:
    db = OvsDatabase(origin, [])
    for record, source in tables.get("Open_vSwitch", ()):
        ids = _str_map(record.get("external_ids"))
        db.hostname = db.hostname or ids.get("hostname") or None
        db.source = db.source or source.rsplit(" ", 1)[0]  # one record: no UUID needed
    interfaces: dict[str, OvsInterface] = {}
    for record, source in tables.get("Interface", ()):
        interfaces[str(record["_uuid"])] = OvsInterface(
            str(record["name"]),
            str(_one(record.get("type")) or ""),
            source,
            _str_map(record.get("options")),
            _str_map(record.get("external_ids")),
            str(_one(record.get("mac_in_use")) or "").lower() or None,
        )
    ports: dict[str, OvsPort] = {}
    have_interfaces = "Interface" in tables
    for record, source in tables.get("Port", ()):
        members = []
        for ref in _set(record.get("interfaces")):
            found = interfaces.get(str(ref))
            if found is not None:
                members.append(found)
            elif have_interfaces:
                db.problems.append((source, f"interface {ref} is not in the Interface list"))
        if not members and not have_interfaces:
            # without the Interface table a port stands for its one interface of the same name
            members = [OvsInterface(str(record["name"]), "", source)]
        members.sort(key=lambda i: i.name)
        trunks = tuple(sorted(t for t in _set(record.get("trunks")) if isinstance(t, int)))
        ports[str(record["_uuid"])] = OvsPort(
            str(record["name"]),
            source,
            members,
            tag=_int(record.get("tag")),
            trunks=trunks,
            vlan_mode=_one(record.get("vlan_mode")) or None,
            bond_mode=_one(record.get("bond_mode")) or None,
            lacp=_one(record.get("lacp")) or None,
        )
    have_ports = "Port" in tables
    for record, source in tables.get("Bridge", ()):
        refs = _set(record.get("ports"))
        bridge_ports = [ports[str(r)] for r in refs if str(r) in ports]
        if len(bridge_ports) < len(refs):
            db.problems.append(
                (
                    source,
                    f"{len(refs) - len(bridge_ports)} of its {len(refs)} ports are not in "
                    + (
                        "the Port list"
                        if have_ports
                        else "the input (add `ovs-vsctl --format=json list Port` and "
                        "`list Interface` output)"
                    ),
                )
            )
        bridge_ports.sort(key=lambda p: p.name)
        if have_ports and not have_interfaces:
            for port in bridge_ports:
                if port.name == record["name"]:
                    port.interfaces[0].type = "internal"  # OVS's bridge-local port
        db.bridges.append(OvsBridge(str(record["name"]), source, bridge_ports))
    if have_ports and not have_interfaces and tables["Port"]:
        db.problems.append(
            (
                tables["Port"][0][1],
                "no Interface list: interface types are unknown, so each port is read as a "
                "physical NIC or (by its name) a guest tap (add `ovs-vsctl --format=json list "
                "Interface`)",
            )
        )
    if not db.bridges and ports:
        raise ImportSourceError(
            origin, "Port and Interface lists without the Bridge list: add `list Bridge` output"
        )
    db.bridges.sort(key=lambda b: b.name)
    return db


# --- `ovs-vsctl show` text ------------------------------------------------------------------------

_SHOW_KV = re.compile(r"(\w+): (.*)")


def _show_value(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _show_map(text: str) -> dict[str, str]:
    body = text.strip().removeprefix("{").removesuffix("}")
    out = {}
    for part in re.findall(r'[\w:.-]+=(?:"[^"]*"|[^,]*)', body):
        key, _, value = part.partition("=")
        out[key.strip()] = _show_value(value)
    return out


def _show_ints(text: str) -> tuple[int, ...]:
    return tuple(sorted(int(v) for v in re.findall(r"\d+", text)))


def _parse_show(text: str, origin: str, label: str) -> OvsDatabase:
    db = OvsDatabase(origin, [])
    bridge: OvsBridge | None = None
    port: OvsPort | None = None
    iface: OvsInterface | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        source = f"{label}:{number}"
        indent = len(raw) - len(raw.lstrip())
        if number == 1 and indent == 0 and re.fullmatch(r"[0-9a-f-]{36}", line):
            db.source = source
            continue
        if line.startswith("Bridge "):
            bridge = OvsBridge(_show_value(line[7:]), source, [])
            db.bridges.append(bridge)
            port = iface = None
        elif line.startswith("Port ") and bridge is not None:
            port = OvsPort(_show_value(line[5:]), source, [])
            bridge.ports.append(port)
            iface = None
        elif line.startswith("Interface ") and port is not None:
            iface = OvsInterface(_show_value(line[10:]), "", source)
            port.interfaces.append(iface)
        elif (match := _SHOW_KV.fullmatch(line)) is not None:
            key, value = match.groups()
            if iface is not None and indent > 12:
                if key == "type":
                    iface.type = _show_value(value)
                elif key == "options":
                    iface.options = _show_map(value)
                elif key == "external_ids":
                    iface.external_ids = _show_map(value)
            elif port is not None and indent > 8:
                if key == "tag":
                    port.tag = int(value) if value.isdigit() else None
                elif key == "trunks":
                    port.trunks = _show_ints(value)
                elif key == "vlan_mode":
                    port.vlan_mode = _show_value(value)
                elif key == "bond_mode":
                    port.bond_mode = _show_value(value)
                elif key == "lacp":
                    port.lacp = _show_value(value)
        elif bridge is None:
            raise ImportSourceError(
                origin,
                "expected `ovs-vsctl show` output (a database UUID, then `Bridge NAME` blocks)",
                number,
            )
    if not db.bridges:
        raise ImportSourceError(origin, "no `Bridge` in this `ovs-vsctl show` output")
    for b in db.bridges:
        b.ports.sort(key=lambda p: p.name)
        for p in b.ports:
            p.interfaces.sort(key=lambda i: i.name)
            if p.tag is not None and p.trunks and p.vlan_mode is None:
                # `show` prints no vlan_mode: the conservative reading of tag + trunks
                p.vlan_mode = "native-untagged"
                db.problems.append(
                    (
                        p.source,
                        f"`ovs-vsctl show` does not print vlan_mode: port {p.name} (tag {p.tag}, "
                        f"trunks {_vlan_text(p.trunks)}) read as native-untagged, a trunk with "
                        "its tag untagged; the JSON lists say for certain",
                    )
                )
    db.bridges.sort(key=lambda b: b.name)
    return db


def is_ovs_text(text: str) -> bool:
    """Whether a file's text is OVS output (JSON lists, text lists or `show`), not libvirt's."""
    head = text[:512].lstrip()
    if head[:1] in ("{", "["):
        return True
    first = head.split("\n", 1)[0].strip()
    return (
        re.fullmatch(r"[0-9a-f-]{36}", first) is not None
        or first.startswith("Bridge ")
        or re.match(r"_uuid\s*: ", first) is not None
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportSourceError(str(path), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ImportSourceError(str(path), "not UTF-8 text") from None


def read_files(paths: Iterable[Path]) -> OvsDatabase:
    """The files of one host as one database (tables may be split over several files)."""
    paths = list(paths)
    origin = str(paths[0]) if paths else "<ovs>"
    tables: Rows = {}
    shown: list[OvsDatabase] = []
    for path in paths:
        text = _read_text(path)
        stripped = text.lstrip()
        if not stripped:
            raise ImportSourceError(str(path), "empty file")
        if stripped[0] == "<":  # a host folder also holds its libvirt XML (libvirt section)
            raise ImportSourceError(
                str(path),
                "is XML, not ovs-vsctl output: a folder with libvirt's XML and the OVS lists is "
                "read by `netseg import libvirt`, which joins them",
                1,
            )
        if stripped[0] in "{[":
            for table, rows in _tables(text, str(path), path.name).items():
                tables.setdefault(table, []).extend(rows)
        elif _TEXT_LINE.fullmatch(stripped.split("\n", 1)[0].rstrip()):
            for table, rows in _text_tables(text, str(path), path.name).items():
                tables.setdefault(table, []).extend(rows)
        else:
            shown.append(_parse_show(text, str(path), path.name))
    if tables:
        if "Bridge" not in tables and "Port" not in tables and "Interface" not in tables:
            raise ImportSourceError(origin, "only the Open_vSwitch record: add `list Bridge`")
        db = _database(tables, origin)
        for other in shown:
            db.bridges.extend(other.bridges)
    else:
        db = shown[0]
        for other in shown[1:]:
            db.bridges.extend(other.bridges)
    db.source = db.source or paths[0].name
    return db


def read_live(db_address: str) -> OvsDatabase:
    """Read a running database through ``ovs-vsctl --db=ADDRESS`` (unix:PATH, tcp:HOST:PORT)."""
    where = f"--db {db_address}"
    if shutil.which("ovs-vsctl") is None:
        raise ImportSourceError(
            where, "ovs-vsctl is not installed (Debian package openvswitch-switch)"
        )
    if db_address.startswith("unix:") and not Path(db_address[5:]).exists():
        raise ImportSourceError(
            where, f"no OVS database socket at {db_address[5:]} (is ovsdb-server running?)"
        )
    argv = ["ovs-vsctl", f"--db={db_address}", f"--timeout={VSCTL_TIMEOUT}", *COLLECT]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=VSCTL_TIMEOUT + 10, check=False
        )
    except subprocess.TimeoutExpired:
        raise ImportSourceError(where, "the OVS database did not answer in time") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ImportSourceError(where, f"the OVS database did not answer: {reason[0]}")
    label = f"ovs {db_address}"
    return _database(_tables(done.stdout, where, label), where)


def short_hostname(name: str) -> str:
    """A host's name without its domain suffix (kvm01.example.com -> kvm01); an address stays."""
    name = name.strip()
    if re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", name):
        return name
    return name.split(".", 1)[0]


# --- the database as host parts -------------------------------------------------------------------


@dataclass
class GuestPort:
    """An OVS port a guest's NIC is plugged into."""

    bridge: str
    port: str
    interface: str
    vlan: Any  # an int, {"trunk": ..., "native": ...}, or None (a vlan_mode not understood)
    mac: str | None
    vm: str | None  # the VM it belongs to, when OVS knows: "vm UUID" or "dom D"
    source: str
    iface_id: str | None = None  # external_ids:iface-id (libvirt's <parameters interfaceid>)


@dataclass
class HostParts:
    """What OVS says of a host, in the format's terms."""

    nics: dict[str, dict[str, Any]] = field(default_factory=dict)
    vswitches: dict[str, dict[str, Any]] = field(default_factory=dict)
    management: list[dict[str, Any]] = field(default_factory=list)
    guest_ports: list[GuestPort] = field(default_factory=list)


def _vlan_text(ids: Iterable[int]) -> str:
    return str(VlanSet.of(v for v in ids if 1 <= v <= 4094))


def port_vlan(port: OvsPort, imported: Imported) -> Any:
    """The port's VLAN in the format's terms, as OVS resolves tag, trunks and vlan_mode."""
    mode = port.vlan_mode or ("access" if port.tag is not None else "trunk")
    if mode == "access":
        return port.tag or 0
    if mode == "dot1q-tunnel":
        imported.warn(
            port.source,
            f"port {port.name} is a dot1q-tunnel (QinQ) port: modelled as access VLAN "
            f"{port.tag or 0}, the guest's own tags stay inside it",
        )
        return port.tag or 0
    trunks = [t for t in port.trunks if 1 <= t <= 4094]
    if mode == "trunk":
        return {"trunk": _vlan_text(trunks), "native": 0} if trunks else dict(OVS_DEFAULT)
    if mode in ("native-tagged", "native-untagged"):
        return {"trunk": _vlan_text(trunks) if trunks else "all", "native": port.tag or 0}
    imported.warn(port.source, f"port {port.name} has an unknown vlan_mode {mode!r}; not guessed")
    return None


def _guest_key(port: OvsPort, iface: OvsInterface) -> str | None:
    ids = iface.external_ids
    for key in ("vm-id", "vm-uuid", "xs-vm-uuid"):
        if ids.get(key):
            return f"vm {ids[key].lower()}"
    match = _XEN_VIF.fullmatch(iface.name)
    return f"dom {match.group(1)}" if match else None


def _is_guest(iface: OvsInterface) -> bool:
    if iface.type.startswith("dpdkvhostuser"):
        return True
    if any(iface.external_ids.get(k) for k in GUEST_IDS):
        return True
    return iface.type in ("", "system", "tap") and _GUEST_NAME.fullmatch(iface.name) is not None


def host_parts(db: OvsDatabase, imported: Imported) -> HostParts:
    """Bridges as ``ovs`` virtual switches with their uplinks, internal interfaces as the host's
    management interfaces, guest ports for the caller to attach to guests."""
    parts = HostParts()
    for source, message in db.problems:
        imported.warn(source, message)
    for bridge in db.bridges:
        uplinks: list[str] = []
        notes: list[str] = []
        for port in bridge.ports:
            ifaces = port.interfaces
            if not ifaces:
                imported.warn(port.source, f"port {port.name} has no interface; skipped")
                continue
            if len(ifaces) > 1:
                members = ", ".join(i.name for i in ifaces)
                detail = ", ".join(
                    x
                    for x in (
                        port.bond_mode and f"bond_mode {port.bond_mode}",
                        port.lacp and f"lacp {port.lacp}",
                    )
                    if x
                )
                # a Nic takes no description: the membership goes with its provenance
                parts.nics[port.name] = {
                    "name": port.name,
                    "source": f"{port.source} (OVS bond of {members}"
                    + (f"; {detail})" if detail else ")"),
                }
                _uplink(port, uplinks, imported)
                continue
            iface = ifaces[0]
            if iface.type == "internal":
                entry: dict[str, Any] = {
                    "name": iface.name,
                    "source": port.source,
                    "vswitch": bridge.name,
                }
                vlan = port_vlan(port, imported)
                if isinstance(vlan, int) and vlan:
                    entry["vlan"] = vlan
                if iface.mac_in_use and _MAC.fullmatch(iface.mac_in_use):
                    entry["mac"] = iface.mac_in_use  # the host's own MAC on that interface
                parts.management.append(entry)
            elif iface.type == "patch":
                peer = iface.options.get("peer", "?")
                notes.append(f"patch port {iface.name} to {peer}")
                imported.warn(
                    port.source,
                    f"patch port {iface.name} joins bridge {bridge.name} to the bridge of "
                    f"{peer}; the format has no bridge-to-bridge link, so traffic across it is "
                    "not analysed",
                )
            elif iface.type in TUNNEL_TYPES:
                remote = iface.options.get("remote_ip", "?")
                notes.append(f"{iface.type} tunnel {iface.name} to {remote}")
                imported.warn(
                    port.source,
                    f"{iface.type} tunnel {iface.name} to {remote}: overlay traffic leaving the "
                    "host is not modelled",
                )
            elif _is_guest(iface):
                parts.guest_ports.append(
                    GuestPort(
                        bridge.name,
                        port.name,
                        iface.name,
                        port_vlan(port, imported),
                        iface.external_ids.get("attached-mac") or None,
                        _guest_key(port, iface),
                        port.source,
                        iface.external_ids.get("iface-id") or None,
                    )
                )
            elif iface.type in ("", "system", "dpdk", "afxdp"):
                parts.nics[iface.name] = {"name": iface.name, "source": port.source}
                _uplink(port, uplinks, imported)
            else:
                imported.warn(
                    port.source,
                    f"interface {iface.name} of type {iface.type!r} is not modelled",
                )
        vswitch: dict[str, Any] = {
            "name": bridge.name,
            "source": bridge.source,
            "type": "ovs",
            "uplinks": uplinks,
        }
        if notes:
            vswitch["description"] = "; ".join(notes)
        parts.vswitches[bridge.name] = vswitch
    return parts


def _uplink(port: OvsPort, uplinks: list[str], imported: Imported) -> None:
    uplinks.append(port.name)
    vlan = port_vlan(port, imported) if (port.tag is not None or port.trunks) else None
    if isinstance(vlan, int):
        imported.warn(
            port.source,
            f"uplink {port.name} is an access port of VLAN {vlan}: the format cannot say that "
            "the bridge's VLAN leaves untagged; modelled as carrying every VLAN",
        )
    elif isinstance(vlan, dict) and vlan["trunk"] != "all":
        imported.warn(
            port.source,
            f"uplink {port.name} carries only VLANs {vlan['trunk']}; modelled as carrying every "
            "VLAN",
        )


def guests_of(host: str, ports: Iterable[GuestPort]) -> list[dict[str, Any]]:
    """Guests for OVS ports no domain definition claims: one per VM OVS knows of (libvirt's
    vm-id, XenServer's xs-vm-uuid, Xen's vifD.N), else one per port."""
    groups: dict[str, list[GuestPort]] = {}
    for gp in ports:
        if gp.vm and gp.vm.startswith("vm "):
            name = f"vm-{gp.vm[3:]}"
        elif gp.vm:
            name = f"{host}-dom{gp.vm[4:]}"
        else:
            name = f"{host}-{gp.port}"
        groups.setdefault(name, []).append(gp)
    guests = []
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda g: g.port)
        nics = []
        for gp in members:
            nic: dict[str, Any] = {"name": gp.port, "source": gp.source, "vswitch": gp.bridge}
            if gp.vlan is not None:
                nic["vlan"] = gp.vlan
            if gp.mac:
                nic["mac"] = gp.mac
            nics.append(nic)
        guests.append(
            {
                "name": name,
                "source": members[0].source,
                "host": host,
                "description": "known to OVS only (no domain definition)",
                "nics": nics,
            }
        )
    return guests


def host_name(requested: str | None, db: OvsDatabase, fallback: str, imported: Imported) -> str:
    if requested:
        return requested
    if db.hostname:
        return short_hostname(db.hostname)
    imported.warn(
        db.source or db.origin,
        f"the input does not name its host (no Open_vSwitch external_ids:hostname; add "
        f"`ovs-vsctl --format=json list Open_vSwitch` output or give --host): named {fallback!r}",
    )
    return fallback


def warn_duplicate_macs(imported: Imported) -> None:
    """A MAC on two interfaces (hosts' management interfaces, then guest NICs): the later one is
    kept without it (a topology takes a MAC once, and whose frames carry it is not known)."""
    seen: dict[str, str] = {}
    owners = [(host, m) for host in imported.entities("hosts") for m in host.get("management", ())]
    owners += [(guest, nic) for guest in imported.entities("guests") for nic in guest["nics"]]
    for owner, entry in owners:
        mac = str(entry.get("mac") or "").lower()
        if not mac:
            continue
        source = str(entry.get("source") or owner.get("source") or owner["name"])
        if mac in seen:
            imported.warn(source, f"MAC {mac} is also on {seen[mac]}; left out here")
            del entry["mac"]
        else:
            seen[mac] = source


HOST_DESCRIPTION = (
    "Linux host with Open vSwitch, modelled as hypervisor xen (Linux bridges and OVS, the host "
    "OS as the privileged domain)"
)


class OvsImporter:
    """``netseg import ovs``: ovs-vsctl JSON lists or show text, or a live database."""

    name: ClassVar[str] = "ovs"
    options: ClassVar[frozenset[str]] = frozenset({"db", "host"})

    def read(self, request: ImportRequest) -> Imported:
        databases: list[tuple[OvsDatabase, str]] = []
        db_address = request.option("db")
        if db_address:
            databases.append((read_live(str(db_address)), "ovs"))
        groups: dict[Path, list[Path]] = {}
        for name in request.inputs:
            path = Path(name)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file())
                if not files:
                    raise ImportSourceError(name, "an empty folder")
                groups.setdefault(path, []).extend(files)
            elif not path.exists():
                raise ImportSourceError(name, "cannot read: No such file or directory")
            else:
                groups.setdefault(path.parent, []).append(path)
        for folder, files in groups.items():
            databases.append((read_files(files), folder.resolve().name or "ovs"))
        if not databases:
            raise ImportSourceError("netseg import ovs", "give ovs-vsctl output files or --db")
        requested = request.option("host")
        if requested and len(databases) > 1:
            raise ImportSourceError(
                "--host", "names one host, but the inputs are several hosts (folders or --db)"
            )
        parts_read = []
        for db, fallback in databases:
            one = Imported()
            name = host_name(requested, db, fallback, one)
            parts = host_parts(db, one)
            host: dict[str, Any] = {
                "name": name,
                "source": db.source or db.origin,
                "hypervisor": "xen",
                "description": HOST_DESCRIPTION,
            }
            if parts.nics:
                host["nics"] = [parts.nics[n] for n in sorted(parts.nics)]
            if parts.vswitches:
                host["vswitches"] = [parts.vswitches[n] for n in sorted(parts.vswitches)]
            if parts.management:
                host["management"] = parts.management
            one.entities("hosts").append(host)
            one.entities("guests").extend(guests_of(name, parts.guest_ports))
            parts_read.append(one)
        out = merge(parts_read)
        out.entities("hosts").sort(key=lambda h: str(h["name"]))
        out.entities("guests").sort(key=lambda g: str(g["name"]))
        warn_duplicate_macs(out)
        return out
