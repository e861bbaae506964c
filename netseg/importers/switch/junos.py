"""Juniper Junos configurations, hierarchical (``show configuration``) or ``set`` style
(``show configuration | display set``).

A hierarchical configuration is first flattened to the ``set`` statements it stands for, each
with the line it came from, so one interpreter reads both. ``inactive:`` statements and
``deactivate``d ones are left out, as the device does; ``delete`` statements remove what they
name. Configuration groups are not expanded: collect ``show configuration | display
inheritance | display set`` on devices that use ``apply-groups``.

Defaults, as Junos (ELS) applies them: a unit with ``family ethernet-switching`` and no
``interface-mode`` is an access port; an access port without ``vlan members`` is in the VLAN
``default`` (VLAN 1); a trunk carries its ``vlan members`` and, untagged, its
``native-vlan-id`` (none without one); ``members all`` is every VLAN of the ``vlans`` stanza
(every VLAN when the configuration declares none). ``disable`` shuts an interface down.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from netseg.errors import ImportSourceError
from netseg.importers.switch.acl import PORT_NAMES
from netseg.importers.switch.facts import Acl, AclEntry, Interface, Network, SwitchFacts
from netseg.model.vlans import VlanSet

Statement = tuple[int, list[str]]
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|/\*.*?\*/|#[^\n]*|[{};\[\]]|[^\s{};\[\]"#]+', re.DOTALL)


_NOISE = re.compile(
    r"^\s*(?:\S+@\S+[>#].*|\{(?:master|backup|linecard|primary)[^}]*\}|\[edit[^\]]*\])\s*$"
)


def flatten(text: str, file: str) -> list[Statement]:
    """The ``set`` statements of a configuration in either style, with their lines. The prompt
    line of a pasted session (``admin@leaf1> show configuration | display set``), ``{master:0}``
    and ``[edit]`` are blanked first (lines keep their numbers)."""
    text = "\n".join("" if _NOISE.match(ln) else ln for ln in text.splitlines())
    first = next(
        (ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")),
        "",
    )
    if first.split()[:1] in (["set"], ["deactivate"], ["delete"], ["activate"]):
        return _set_style(text, file)
    return _hierarchical(text, file)


def _words(line: str) -> list[str]:
    return [t[1:-1] if t.startswith('"') else t for t in re.findall(r'"(?:[^"\\]|\\.)*"|\S+', line)]


def _set_style(text: str, file: str) -> list[Statement]:
    out: list[Statement] = []
    inactive: list[list[str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        words = _words(s)
        verb, rest = words[0], words[1:]
        if verb == "set":
            out.append((number, rest))
        elif verb == "deactivate":
            inactive.append(rest)
        elif verb == "activate":
            inactive = [p for p in inactive if p != rest]
        elif verb == "delete":
            out = [st for st in out if st[1][: len(rest)] != rest]
        else:
            raise ImportSourceError(file, f"expected a Junos 'set' statement, got {verb!r}", number)
    return [st for st in out if not any(st[1][: len(p)] == p for p in inactive)]


def _hierarchical(text: str, file: str) -> list[Statement]:
    out: list[Statement] = []
    stack: list[tuple[list[str], bool]] = []  # (path words, inactive)
    words: list[tuple[int, str]] = []
    in_list: list[tuple[int, str]] | None = None
    pending: list[tuple[int, str]] | None = None
    line_starts = [0]
    for m in re.finditer("\n", text):
        line_starts.append(m.end())

    def line_of(pos: int) -> int:
        lo, hi = 0, len(line_starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid
        return lo + 1

    def path() -> list[str]:
        return [w for p, _ in stack for w in p]

    def inactive() -> bool:
        return any(flag for _, flag in stack)

    def statement(ws: list[tuple[int, str]]) -> tuple[list[str], bool, int]:
        flag = False
        texts = [w for _, w in ws]
        while texts and texts[0] in ("inactive:", "protect:", "replace:", "active:"):
            flag = flag or texts[0] == "inactive:"
            texts = texts[1:]
        return texts, flag, ws[0][0] if ws else 0

    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok.startswith("#") or tok.startswith("/*"):
            continue
        if tok.startswith('"'):
            tok = tok[1:-1]
            if in_list is not None:
                in_list.append((line_of(m.start()), tok))
            else:
                words.append((line_of(m.start()), tok))
            continue
        if tok == "[":
            in_list = []
        elif tok == "]":
            if in_list is None:
                raise ImportSourceError(file, "']' without '['", line_of(m.start()))
            pending = in_list
            in_list = None
        elif in_list is not None:
            in_list.append((line_of(m.start()), tok))
        elif tok == "{":
            texts, flag, _ = statement(words)
            stack.append((texts, flag))
            words = []
        elif tok == "}":
            if not stack:
                raise ImportSourceError(file, "'}' without a matching '{'", line_of(m.start()))
            stack.pop()
            words = []
        elif tok == ";":
            texts, flag, number = statement(words)
            if texts and not (flag or inactive()):
                if pending is not None:
                    out.extend((number, [*path(), *texts, item]) for _, item in pending)
                else:
                    out.append((number, [*path(), *texts]))
            words, pending = [], None
        else:
            words.append((line_of(m.start()), tok))
    if stack:
        raise ImportSourceError(
            file, f"{len(stack)} '{{' left open at the end of the file", line_of(len(text))
        )
    return out


# --- the interpreter -------------------------------------------------------------------------


@dataclass
class _Unit:
    line: int
    switching: bool = False
    mode: str | None = None
    members: list[tuple[str, int]] = field(default_factory=list)
    native: int | None = None
    addresses: list[tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, int]] = field(
        default_factory=list
    )
    filters: dict[str, tuple[str, int]] = field(default_factory=dict)  # "in4" -> (filter, line)
    disabled: bool = False
    description: str | None = None


@dataclass
class _Phys:
    name: str
    line: int
    disabled: bool = False
    description: str | None = None
    native: int | None = None
    lag: str | None = None
    units: dict[str, _Unit] = field(default_factory=dict)


def read(text: str, file: str, display: str) -> SwitchFacts:
    statements = flatten(text, file)
    facts = SwitchFacts(file, display, "junos", "", 0, None)
    vlan_ids: dict[str, int] = {}
    l3: dict[str, str] = {}  # irb.10 -> VLAN name
    phys: dict[str, _Phys] = {}
    ranges: dict[str, list[str]] = {}
    range_config: dict[str, list[Statement]] = {}
    vrf_of: dict[str, str] = {}
    filters: dict[tuple[int, str], dict[str, dict[str, list[tuple[int, list[str]]]]]] = {}
    filter_lines: dict[tuple[int, str], int] = {}
    for number, w in statements:
        if w[:2] == ["system", "host-name"] and len(w) > 2:
            facts.hostname, facts.hostname_line = w[2], number
        elif w[:1] == ["vlans"] and len(w) >= 4 and w[2] == "vlan-id" and w[3].isdigit():
            vlan_ids[w[1]] = int(w[3])
        elif w[:1] == ["vlans"] and len(w) >= 4 and w[2] == "l3-interface":
            l3[w[3]] = w[1]
        elif w[:1] == ["vlans"] and len(w) >= 4 and w[2] == "interface":
            # pre-ELS EX: membership declared under the VLAN (`vlans v10 interface ge-0/0/1.0`)
            iface, _, unit = w[3].partition(".")
            _interface_statement(
                phys,
                iface,
                ["unit", unit or "0", "family", "ethernet-switching", "vlan", "members", w[1]],
                number,
                facts,
            )
        elif w[:2] == ["interfaces", "interface-range"] and len(w) >= 4:
            rname = w[2]
            if w[3] == "member" and len(w) > 4:
                ranges.setdefault(rname, []).extend(_bracket(w[4]))
            elif w[3] == "member-range" and len(w) >= 7 and w[5] == "to":
                ranges.setdefault(rname, []).extend(_member_range(w[4], w[6]))
            else:
                range_config.setdefault(rname, []).append((number, ["interfaces", "RANGE", *w[3:]]))
        elif w[:1] == ["interfaces"] and len(w) >= 2:
            _interface_statement(phys, w[1], w[2:], number, facts)
        elif w[:1] == ["routing-instances"] and len(w) >= 4 and w[2] == "interface":
            vrf_of[w[3]] = w[1]
        elif w[:1] == ["firewall"]:
            family, rest = 4, w[1:]
            if rest[:1] == ["family"] and len(rest) > 1:
                family = {"inet": 4, "inet6": 6}.get(rest[1], 0)
                rest = rest[2:]
            if family and rest[:1] == ["filter"] and len(rest) >= 4 and rest[2] == "term":
                key = (family, rest[1])
                filter_lines.setdefault(key, number)
                filters.setdefault(key, {}).setdefault(rest[3], {}).setdefault(
                    rest[4] if len(rest) > 4 else "", []
                ).append((number, rest[5:]))
    for rname, members in ranges.items():
        for member in members:
            for number, w in range_config.get(rname, []):
                _interface_statement(phys, member, w[2:], number, facts)
    declared = VlanSet.of(vlan_ids.values()) if vlan_ids else None
    facts.declared_vlans = declared
    for (family, fname), terms in filters.items():
        facts.acls[(family, fname)] = _filter(
            fname, family, filter_lines[(family, fname)], terms, facts
        )
    for p in sorted(phys.values(), key=lambda ph: ph.line):  # configuration order
        _emit(p, facts, vlan_ids, l3, vrf_of, declared)
    return facts


def _bracket(text: str) -> list[str]:
    m = re.fullmatch(r"(.*)\[(\d+)-(\d+)\](.*)", text)
    if m is None:
        return [text]
    return [f"{m.group(1)}{n}{m.group(4)}" for n in range(int(m.group(2)), int(m.group(3)) + 1)]


def _member_range(lo: str, hi: str) -> list[str]:
    a, b = re.fullmatch(r"(.*?)(\d+)", lo), re.fullmatch(r"(.*?)(\d+)", hi)
    if a is None or b is None or a.group(1) != b.group(1):
        return [lo, hi]
    return [f"{a.group(1)}{n}" for n in range(int(a.group(2)), int(b.group(2)) + 1)]


def _interface_statement(
    phys: dict[str, _Phys], name: str, w: list[str], number: int, facts: SwitchFacts
) -> None:
    p = phys.get(name)
    if p is None:
        p = phys[name] = _Phys(name, number)
    if not w:
        return
    if w == ["disable"]:
        p.disabled = True
    elif w[0] == "description" and len(w) > 1:
        p.description = " ".join(w[1:])
    elif w[0] == "native-vlan-id" and len(w) > 1 and w[1].isdigit():
        p.native = int(w[1])
    elif (
        w[0] in ("ether-options", "gigether-options", "aggregated-ether-options")
        and w[1:2] == ["802.3ad"]
        and len(w) > 2
    ):
        p.lag = w[2]
    elif w[0] == "unit" and len(w) >= 2:
        unit = p.units.get(w[1])
        if unit is None:
            unit = p.units[w[1]] = _Unit(number)
        _unit_statement(unit, w[2:], number, f"{name}.{w[1]}", facts)


def _unit_statement(unit: _Unit, w: list[str], number: int, where: str, facts: SwitchFacts) -> None:
    if not w:
        return
    if w == ["disable"]:
        unit.disabled = True
    elif w[0] == "description" and len(w) > 1:
        unit.description = " ".join(w[1:])
    elif w[:2] == ["family", "ethernet-switching"]:
        unit.switching = True
        rest = w[2:]
        if rest[:1] in (["interface-mode"], ["port-mode"]) and len(rest) > 1:
            unit.mode = rest[1]
        elif rest[:2] == ["vlan", "members"] and len(rest) > 2:
            unit.members.append((rest[2], number))
        elif rest[:1] == ["native-vlan-id"] and len(rest) > 1 and rest[1].isdigit():
            unit.native = int(rest[1])
        elif rest[:2] == ["filter", "input"] or rest[:2] == ["filter", "output"]:
            facts.warn(
                number,
                f"{where}: port filter {rest[2] if len(rest) > 2 else ''} is not modelled (filters on irb interfaces only)",
            )
    elif w[:1] == ["family"] and len(w) >= 2 and w[1] in ("inet", "inet6"):
        rest = w[2:]
        if rest[:1] == ["address"] and len(rest) > 1:
            try:
                unit.addresses.append((ipaddress.ip_interface(rest[1]), number))
            except ValueError as exc:
                facts.warn(number, f"{where}: address not read: {exc}")
        elif rest[:1] == ["filter"] and len(rest) >= 3 and rest[1] in ("input", "output"):
            key = ("in" if rest[1] == "input" else "out") + ("4" if w[1] == "inet" else "6")
            unit.filters[key] = (rest[2], number)


def _emit(
    p: _Phys,
    facts: SwitchFacts,
    vlan_ids: dict[str, int],
    l3: dict[str, str],
    vrf_of: dict[str, str],
    declared: VlanSet | None,
) -> None:
    name = p.name
    if name in ("irb", "vlan"):
        for unit_name, l3unit in p.units.items():
            full = f"{name}.{unit_name}"
            iface = Interface(
                full,
                l3unit.line,
                shutdown=p.disabled or l3unit.disabled,
                description=l3unit.description,
            )
            vlan_name = l3.get(full)
            if vlan_name is not None and vlan_name in vlan_ids:
                iface.svi_vlan = vlan_ids[vlan_name]
            elif l3unit.addresses:
                facts.warn(
                    l3unit.line,
                    f"{full} is the l3-interface of no VLAN with a vlan-id: not a router interface",
                )
            iface.addresses = list(l3unit.addresses)
            iface.vrf = vrf_of.get(full)
            iface.acl_in, iface.acl_out = l3unit.filters.get("in4"), l3unit.filters.get("out4")
            iface.acl6_in, iface.acl6_out = l3unit.filters.get("in6"), l3unit.filters.get("out6")
            facts.interfaces[full] = iface
        return
    iface = Interface(name, p.line, shutdown=p.disabled, description=p.description)
    iface.is_lag = bool(re.fullmatch(r"ae\d+", name))
    iface.lag = p.lag
    unit = p.units.get("0")
    if unit is not None and unit.disabled:
        iface.shutdown = True
    if unit is None or not unit.switching:
        iface.mode = "routed"
        facts.interfaces[name] = iface
        return
    iface.switchport = True
    members = VlanSet.empty()
    for member, number in unit.members:
        members = members | _members(member, number, vlan_ids, declared, facts, name)
    mode = unit.mode or "access"
    native = p.native if p.native is not None else unit.native
    if mode == "access":
        iface.mode = "access"
        vids = list(members)
        if not unit.members:
            iface.access_vlan = 1
        elif len(vids) == 1:
            iface.access_vlan = vids[0]
        elif vids:
            iface.access_vlan = vids[0]
            facts.warn(
                unit.line,
                f"{name}: access port with several VLANs ({members}); read as VLAN {vids[0]}",
            )
        else:
            iface.mode = "unmodelled"
            iface.unmodelled = "an access port whose VLAN is not known"
    elif mode == "trunk":
        iface.mode = "trunk"
        iface.native = native
        iface.allowed = members | VlanSet.of([native]) if native is not None else members
    else:
        iface.mode = "unmodelled"
        iface.unmodelled = f"interface-mode {mode}"
    facts.interfaces[name] = iface


def _members(
    member: str,
    number: int,
    vlan_ids: dict[str, int],
    declared: VlanSet | None,
    facts: SwitchFacts,
    where: str,
) -> VlanSet:
    if member == "all":
        return declared if declared is not None else VlanSet.full()
    if member == "default":
        return VlanSet.of([vlan_ids.get("default", 1)])
    if member in vlan_ids:
        return VlanSet.of([vlan_ids[member]])
    try:
        return VlanSet.parse(member)
    except ValueError:
        facts.warn(
            number,
            f"{where}: VLAN {member!r} is not declared under 'vlans' with a vlan-id; left out",
        )
        return VlanSet.empty()


# --- firewall filters as access lists --------------------------------------------------------

_PROTO = {
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmp6": "icmp6",
    "icmpv6": "icmp6",
    "6": "tcp",
    "17": "udp",
    "1": "icmp",
}


def _filter(
    name: str,
    family: int,
    line: int,
    terms: dict[str, dict[str, list[tuple[int, list[str]]]]],
    facts: SwitchFacts,
) -> Acl:
    acl = Acl(name, line, family)  # type: ignore[arg-type]
    for term, parts in terms.items():
        froms = parts.get("from", [])
        thens = parts.get("then", [])
        number = min(n for lst in parts.values() for n, _ in lst)
        actions = {w[0] for _, w in thens if w}
        action: Literal["permit", "deny"]
        if "accept" in actions:
            action = "permit"
        elif actions & {"discard", "reject"}:
            action = "deny"
        else:
            facts.warn(
                number,
                f"filter {name} term {term}: no accept/discard/reject (next term, policer, routing instance): not read",
            )
            continue
        src: list[Network] = []
        dst: list[Network] = []
        protocols: list[str] = []
        ports: list[tuple[int, int]] = []
        why: list[str] = []
        for n, w in froms:
            if not w:
                continue
            key, value = w[0], w[1] if len(w) > 1 else ""
            try:
                if key in ("source-address", "destination-address", "address"):
                    if len(w) > 2 and w[2] == "except":
                        why.append(f"the {key} exception {value}")
                        continue
                    net = ipaddress.ip_network(value, strict=False)
                    (src if key == "source-address" else dst).append(net)
                    if key == "address":
                        why.append("'address' (source or destination)")
                elif key in ("protocol", "next-header"):
                    protocols.append(_PROTO.get(value, "other"))
                    if value not in _PROTO:
                        why.append(f"protocol {value!r}, which the format counts as 'other'")
                elif key in ("destination-port", "port"):
                    ports.extend(_port_range(value))
                    if key == "port":
                        why.append("'port' (source or destination)")
                elif key == "source-port":
                    why.append("a source-port match")
                else:
                    why.append(f"the match {' '.join(w)!r}")
            except ValueError as exc:
                facts.warn(n, f"filter {name} term {term}: {exc}; match not read")
                why.append(f"an unreadable {key}")
        for protocol in protocols or ["any"]:
            acl.entries.append(
                AclEntry(
                    number,
                    action,
                    protocol,
                    tuple(src) or None,
                    tuple(dst) or None,
                    tuple(ports) if ports and protocol in ("tcp", "udp") else None,
                    "; ".join(why),
                )
            )
    return acl


def _port_range(value: str) -> list[tuple[int, int]]:
    if value in PORT_NAMES:
        p = PORT_NAMES[value]
        return [(p, p)]
    lo, sep, hi = value.partition("-")
    if lo.isdigit() and (not sep or hi.isdigit()):
        a, b = int(lo), int(hi) if sep else int(lo)
        return [(min(a, b), max(a, b))]
    raise ValueError(f"{value!r} is not a port, range or known port name")
