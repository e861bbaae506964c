"""Cisco IOS, Cisco NX-OS and Arista EOS running configurations.

The three share one syntax (top-level commands, indented sub-commands, ``!`` comments) and
differ in their defaults, which :func:`read` applies per dialect:

* IOS (Catalyst): Ethernet ports and port-channels are switchports; a switchport without
  ``switchport mode`` negotiates with DTP (``dynamic auto``) and is read as an access port with
  a warning. Shut down only when ``shutdown`` is written.
* NX-OS: Ethernet ports and port-channels are routed unless ``system default switchport`` is
  configured (the Nexus 9000 default); switchports start shut down when ``system default
  switchport shutdown`` is configured; subinterfaces start shut down; mode access by default.
* EOS: Ethernet ports and port-channels are access switchports in VLAN 1 by default.

Everywhere: access VLAN 1, a trunk carries every VLAN with native VLAN 1 unless configured
otherwise, ``vlan dot1q tag native`` (IOS, NX-OS) or ``switchport trunk native vlan tag``
(EOS) tags the native VLAN. When the configuration declares its VLANs, a trunk carries only
declared VLANs (a switch forwards no VLAN it does not have; VLAN 1 always exists), as NX-OS
reports "all active VLANs".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from netseg.importers.switch.acl import AclSyntaxError, parse_entry
from netseg.importers.switch.facts import Acl, Dialect, Interface, SwitchFacts
from netseg.model.vlans import VlanSet

_SVI = re.compile(r"^vlan(\d+)$", re.IGNORECASE)
_LAG = re.compile(r"^port-channel(\d+)$", re.IGNORECASE)
_ETHERNET = re.compile(r"^[a-z-]*(ethernet|gige|gigabit)[a-z]*\d", re.IGNORECASE)
_NOT_SWITCHPORT = re.compile(r"^(mgmt|management|loopback|tunnel|nve|vxlan|null)", re.IGNORECASE)
_LAG_NAME = {"ios": "Port-channel{}", "nxos": "port-channel{}", "eos": "Port-Channel{}"}


@dataclass
class _Raw:
    """An interface's sub-commands in configuration order (ranges add to each member)."""

    name: str
    line: int
    commands: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Globals:
    dialect: Dialect
    default_switchport: bool
    default_switchport_shutdown: bool = False
    tag_native: bool = False


def split_blocks(lines: list[str]) -> Iterator[tuple[int, str, list[tuple[int, str]]]]:
    """(line number, top-level command, [(line, sub-command), …]) for each top-level command.

    ``interface`` always starts a new block, even when indented (an old IOS bug writes some
    ``interface`` lines with a leading space); banners are skipped whole.
    """
    header: tuple[int, str] | None = None
    children: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        number = i + 1
        i += 1
        text = raw.strip()
        if not text or text.startswith("!") or text == "end":
            continue
        top = not raw[:1].isspace() or text.startswith("interface ")
        if top and text.startswith("banner "):
            i = _skip_banner(lines, i, text)
            continue
        if top:
            if header is not None:
                yield header[0], header[1], children
            header, children = (number, text), []
        elif header is not None:
            children.append((number, text))
    if header is not None:
        yield header[0], header[1], children


def _skip_banner(lines: list[str], i: int, text: str) -> int:
    words = text.split(None, 2)
    if len(words) < 3:
        return i
    body = words[2]
    delim = body[:2] if body.startswith("^C") else body[:1]
    if body[len(delim) :].find(delim) >= 0:
        return i  # opened and closed on one line
    while i < len(lines):
        if delim in lines[i]:
            return i + 1
        i += 1
    return i


def expand_names(spec: str) -> list[str]:
    """Interface names of ``interface`` / ``interface range``: ``Gi1/0/1 - 4, Gi1/0/7``,
    ``Ethernet1/1-4``, ``Ethernet1-2``; a single name is itself."""
    names: list[str] = []
    prefix = ""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"([A-Za-z][A-Za-z-]*)?\s*((?:\d+/)*)(\d+)\s*(?:-\s*(\d+))?", item)
        if m is None:
            names.append(item)
            continue
        if m.group(1):
            prefix = m.group(1)
        base, lo = m.group(2), int(m.group(3))
        hi = int(m.group(4)) if m.group(4) else lo
        if hi < lo or hi - lo > 4096:
            names.append(item)
            continue
        names.extend(f"{prefix}{base}{n}" for n in range(lo, hi + 1))
    return names


def read(text: str, file: str, display: str, dialect: Dialect) -> SwitchFacts:
    lines = text.splitlines()
    hostname, hostname_line = "", 0
    declared: VlanSet | None = None
    raws: dict[str, _Raw] = {}
    acls: dict[tuple[int, str], Acl] = {}
    facts = SwitchFacts(file, display, dialect, "", 0, None)
    g = _Globals(dialect, default_switchport=dialect in ("ios", "eos"))
    for number, header, children in split_blocks(lines):
        words = header.split()
        key = words[0].lower()
        if key == "hostname" and len(words) > 1:
            hostname, hostname_line = words[1].strip("\"'"), number
        elif key == "vlan" and len(words) == 2 and re.fullmatch(r"[\d,\-]+", words[1]):
            try:
                vlans = VlanSet.parse(words[1])
            except ValueError as exc:
                facts.warn(number, f"VLAN declaration ignored: {exc}")
                continue
            declared = vlans if declared is None else declared | vlans
        elif header.lower() == "vlan dot1q tag native":
            g.tag_native = True
        elif header == "system default switchport":
            g.default_switchport = True
        elif header == "no system default switchport":
            g.default_switchport = False
        elif header == "system default switchport shutdown":
            g.default_switchport_shutdown = True
        elif header == "no system default switchport shutdown":
            g.default_switchport_shutdown = False
        elif key == "interface" and len(words) > 1:
            spec = header.split(None, 1)[1]
            if spec.lower().startswith("range "):
                spec = spec[6:]
            for name in expand_names(spec):
                raw = raws.get(name)
                if raw is None:
                    raw = raws[name] = _Raw(name, number)
                raw.commands.extend(children)
        elif key in ("ip", "ipv6") and len(words) >= 3 and words[1] == "access-list":
            _read_acl(words, number, children, acls, facts)
        elif key == "access-list" and len(words) >= 3:
            _read_numbered(words, number, acls, facts)
    facts.hostname, facts.hostname_line = hostname, hostname_line
    if declared is not None:
        declared = declared | VlanSet.of([1])
    facts.declared_vlans = declared
    facts.acls = acls
    for raw in raws.values():
        facts.interfaces[raw.name] = _resolve(raw, g, facts)
    return facts


def _read_acl(
    words: list[str],
    number: int,
    children: list[tuple[int, str]],
    acls: dict[tuple[int, str], Acl],
    facts: SwitchFacts,
) -> None:
    family = 6 if words[0].lower() == "ipv6" else 4
    rest = words[2:]
    standard = False
    if rest[0] in ("standard", "extended"):
        standard = rest[0] == "standard"
        rest = rest[1:]
    if not rest:
        return
    acl = Acl(rest[0], number, family)  # type: ignore[arg-type]
    acls[(family, rest[0])] = acl
    for line, command in children:
        try:
            entry = parse_entry(command.split(), line, family, standard)
        except AclSyntaxError as exc:
            facts.warn(line, f"access-list {acl.name} line not read: {exc}")
            continue
        if entry is not None:
            acl.entries.append(entry)


def _read_numbered(
    words: list[str], number: int, acls: dict[tuple[int, str], Acl], facts: SwitchFacts
) -> None:
    name = words[1]
    if not name.isdigit():
        return
    n = int(name)
    standard = 1 <= n <= 99 or 1300 <= n <= 1999
    acl = acls.setdefault((4, name), Acl(name, number, 4))
    try:
        entry = parse_entry(words[2:], number, 4, standard)
    except AclSyntaxError as exc:
        facts.warn(number, f"access-list {name} line not read: {exc}")
        return
    if entry is not None:
        acl.entries.append(entry)


def _vlan_list(text: str) -> VlanSet:
    text = text.replace(" ", "")
    return VlanSet.parse(text)


def _resolve(raw: _Raw, g: _Globals, facts: SwitchFacts) -> Interface:
    name = raw.name
    iface = Interface(name, raw.line)
    svi = _SVI.match(name)
    lag = _LAG.match(name)
    sub = "." in name
    if svi:
        iface.svi_vlan = int(svi.group(1))
    iface.is_lag = bool(lag) and not sub
    l2_capable = (
        not sub
        and not svi
        and not _NOT_SWITCHPORT.match(name)
        and (bool(lag) or bool(_ETHERNET.match(name)))
    )
    switchport = l2_capable and g.default_switchport
    shutdown: bool | None = None
    mode: str | None = None
    has_address = False
    native_tagged = g.tag_native
    allowed = VlanSet.full()
    listed: VlanSet | None = None  # the allowed set when last written as a list, to warn on
    listed_line = raw.line
    for line, command in raw.commands:
        words = command.split()
        low = [w.lower() for w in words]
        n = len(words)
        try:
            if low == ["shutdown"]:
                shutdown = True
            elif low == ["no", "shutdown"]:
                shutdown = False
            elif low[0] == "description":
                iface.description = command[len(words[0]) :].strip().strip('"') or None
            elif low == ["switchport"]:
                switchport = True
            elif low == ["no", "switchport"]:
                switchport = False
            elif low[0] == "switchport" and n >= 3 and low[1] == "mode":
                switchport = True
                mode = " ".join(low[2:4]) if low[2] == "dynamic" else low[2]
            elif low[:3] == ["switchport", "access", "vlan"] and n == 4:
                switchport = True
                iface.access_vlan = int(words[3])
                if not 1 <= iface.access_vlan <= 4094:
                    raise ValueError(f"VLAN {iface.access_vlan} is outside 1-4094")
            elif low[:4] == ["switchport", "trunk", "allowed", "vlan"] and n >= 5:
                switchport = True
                allowed = _allowed(allowed, low[4:])
                listed = (
                    allowed if low[4] not in ("all", "except") and not allowed.is_full() else None
                )
                listed_line = line
            elif low[:5] == ["no", "switchport", "trunk", "allowed", "vlan"]:
                allowed, listed = VlanSet.full(), None
            elif low[:4] == ["switchport", "trunk", "native", "vlan"] and n == 5:
                switchport = True
                if low[4] == "tag":
                    native_tagged = True
                else:
                    iface.native = int(words[4])
                    if not 1 <= iface.native <= 4094:
                        raise ValueError(f"VLAN {iface.native} is outside 1-4094")
            elif low[:5] == ["no", "switchport", "trunk", "native", "vlan"]:
                iface.native = 1
                native_tagged = g.tag_native
            elif low[:3] == ["switchport", "voice", "vlan"] and n == 4:
                iface.voice_vlan = int(words[3]) if words[3].isdigit() else None
                if iface.voice_vlan is not None and not 1 <= iface.voice_vlan <= 4094:
                    raise ValueError(f"VLAN {iface.voice_vlan} is outside 1-4094")
            elif low[:3] == ["switchport", "trunk", "group"]:
                facts.warn(
                    line,
                    f"{name}: trunk group {' '.join(words[3:])} is not modelled: the port is read as carrying every allowed VLAN, whatever the groups restrict",
                )
            elif low[0] == "channel-group" and n >= 2 and words[1].isdigit():
                iface.lag = words[1]  # resolved to the LAG's name below
            elif low[:2] == ["ip", "address"] or low[:2] == ["ipv6", "address"]:
                has_address = True
                _address(iface, words, line, facts)
            elif low[:3] == ["no", "ip", "address"]:
                iface.addresses = [a for a in iface.addresses if a[0].version != 4]
            elif (
                low[:2] == ["vrf", "forwarding"]
                or low[:3] == ["ip", "vrf", "forwarding"]
                or low[:2] == ["vrf", "member"]
            ):
                iface.vrf = words[-1]
            elif low[0] == "vrf" and n == 2:
                iface.vrf = words[1]
            elif (
                low[:2]
                in (["ip", "access-group"], ["ipv6", "traffic-filter"], ["ipv6", "access-group"])
                and n >= 4
            ):
                family6 = low[0] == "ipv6"
                ref = (words[2], line)
                if low[3] == "in":
                    if family6:
                        iface.acl6_in = ref
                    else:
                        iface.acl_in = ref
                elif low[3] == "out":
                    if family6:
                        iface.acl6_out = ref
                    else:
                        iface.acl_out = ref
            elif low[:3] == ["ip", "port", "access-group"]:
                facts.warn(
                    line,
                    f"port ACL {words[3] if n > 3 else ''} on {name} is not modelled (router ACLs on SVIs only): traffic it drops is counted as reachable",
                )
        except ValueError as exc:
            facts.warn(line, f"{command!r} ignored: {exc}")
    if has_address and not svi and all(c[1].lower() != "switchport" for c in raw.commands):
        switchport = False  # an interface with an IP address is routed (the CLI refuses both)
    iface.switchport = switchport
    if shutdown is None:
        if (sub and g.dialect == "nxos") or (switchport and g.default_switchport_shutdown):
            shutdown = True
        else:
            shutdown = False
    iface.shutdown = shutdown
    if iface.lag is not None:
        iface.lag = _lag_name(iface.lag, g.dialect)
    if not switchport:
        iface.mode = "routed"
        return iface
    if mode is None:
        mode = "dynamic auto" if g.dialect == "ios" else "access"
    if mode == "access":
        iface.mode = "access"
    elif mode == "trunk":
        iface.mode = "trunk"
    elif mode.startswith("dynamic"):
        iface.mode = "dynamic"
        iface.unmodelled = mode
    elif mode == "dot1q-tunnel":
        iface.mode = "tunnel"
    else:
        iface.mode = "unmodelled"
        iface.unmodelled = f"switchport mode {mode}"
    if facts.declared_vlans is not None:
        missing = listed - facts.declared_vlans if listed is not None else None
        if missing and iface.mode == "trunk":
            facts.warn(
                listed_line,
                f"{name} allows VLAN(s) {missing}, which the configuration does not declare: not carried until they are created",
            )
        allowed = allowed & facts.declared_vlans
    iface.allowed = allowed
    if native_tagged:
        iface.native = None
    return iface


def _allowed(current: VlanSet, words: list[str]) -> VlanSet:
    op = words[0]
    if op == "none":
        return VlanSet.empty()
    if op == "all":
        return VlanSet.full()
    if op in ("add", "remove", "except"):
        vlans = _vlan_list("".join(words[1:]))
        if op == "add":
            return current | vlans
        if op == "remove":
            return current - vlans
        return VlanSet.full() - vlans
    return _vlan_list("".join(words))


def _lag_name(number: str, dialect: Dialect) -> str:
    """The LAG a ``channel-group N`` joins, as the dialect names it (matched by number later)."""
    return _LAG_NAME.get(dialect, "Port-channel{}").format(number)


def _address(iface: Interface, words: list[str], line: int, facts: SwitchFacts) -> None:
    low = [w.lower() for w in words]
    if len(words) < 3:
        return
    if low[2] in ("dhcp", "negotiated", "unnumbered"):
        facts.warn(line, f"{iface.name}: address by {low[2]} is not known from the configuration")
        return
    if "link-local" in low or low[2].startswith("fe80"):
        return
    try:
        if "/" in words[2]:
            addr = ipaddress.ip_interface(words[2])
        elif len(words) >= 4 and low[0] == "ip":
            addr = ipaddress.ip_interface(f"{words[2]}/{words[3]}")
        else:
            raise ValueError(f"{words[2]!r} has no prefix length")
    except ValueError as exc:
        facts.warn(line, f"{iface.name}: address not read: {exc}")
        return
    if low[0] == "ip" and "secondary" not in low:
        iface.addresses = [a for a in iface.addresses if a[0].version != 4]
    iface.addresses.append((addr, line))
