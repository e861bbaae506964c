"""The topology format, schema version 1, declared once.

Every record and field of the format is declared here with its type, default and
documentation. The same declarations drive structural validation (:meth:`Type.check`) and the
JSON Schema that editors use (:func:`json_schema`), so the two cannot drift. Cross-references
and per-hypervisor rules live in :mod:`netseg.topology.build`.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netseg.model.services import ServiceSet
from netseg.model.topology import Peer
from netseg.model.vlans import VlanSet
from netseg.topology.source import MDict, MList

SCHEMA_VERSION = 1
INVALID: Any = object()  # a value that failed validation (a problem was already reported)


# --- where a value sits, and collecting problems -----------------------------------------


class Where:
    """A value's position: its container, its key or index there, and (lazily, since it is
    only needed for messages) its path text such as ``guests[3].nics[0].portgroup``."""

    __slots__ = ("_path", "container", "key", "parent")

    def __init__(self, container: Any, key: Any, path: str = "", parent: Where | None = None):
        self.container = container
        self.key = key
        self._path = path
        self.parent = parent

    @property
    def path(self) -> str:
        if self.parent is None:
            return self._path
        base = self.parent.path
        key = self.key
        if isinstance(key, int):
            return f"{base}[{key}]"
        sep = "." if base else ""
        name = key if _PLAIN_KEY.match(str(key)) else repr(key)
        return f"{base}{sep}{name}"

    def child(self, container: Any, key: Any) -> Where:
        return Where(container, key, parent=self)

    def mark(self, at_key: bool = False) -> tuple[str, int, int]:
        c = self.container
        if isinstance(c, MDict):
            marks = c.key_marks if at_key else c.value_marks
            line, col = marks.get(self.key, c.mark)
            return c.file, line, col
        if isinstance(c, MList):
            if isinstance(self.key, int) and self.key < len(c.item_marks):
                line, col = c.item_marks[self.key]
                files = c.item_files
                if files is not None and self.key in files:
                    return files[self.key], line, col
            else:
                line, col = c.mark
            return c.file, line, col
        return "", 0, 0


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Problems:
    """Collects every problem of a load; reported all at once."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.items: list[tuple[str, int, int, str, str]] = []

    def add(self, where: Where, message: str, at_key: bool = False) -> None:
        file, line, col = where.mark(at_key)
        self.items.append((file or self.display, line, col, where.path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def suggest(word: Any, options: Any) -> str:
    """`` (did you mean 'x'?)`` when a close option exists, else empty."""
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if value is None:
        return "nothing (null)"
    if isinstance(value, MDict | dict):
        return "a mapping"
    if isinstance(value, MList | list):
        return "a list"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return repr(value)


# --- types ---------------------------------------------------------------------------------


class Type:
    """A value type of the format: checks and converts a value, and describes itself."""

    doc = ""
    # True when every non-empty ``str`` passes :meth:`check` unchanged, so that records can
    # skip the call (and the position object it needs) for the most common field value
    plain_text = False

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        raise NotImplementedError

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class Str(Type):
    def __init__(self, pattern: str | None = None, hint: str = "") -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.hint = hint
        self.plain_text = self.pattern is None

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if type(value) is str and value and self.pattern is None:
            return value  # the common case, kept cheap for estates of 50,000 guests
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.add(where, f"expected text, got {describe(value)}")
            return INVALID
        text = str(value)
        if not text:
            problems.add(where, "must not be empty")
            return INVALID
        if self.pattern and not self.pattern.match(text):
            problems.add(where, f"{text!r} is not {self.hint}")
            return INVALID
        return text

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        s: dict[str, Any] = {"type": ["string", "integer"]}
        if self.pattern:
            s = {"type": "string", "pattern": self.pattern.pattern}
        return s


class Int(Type):
    def __init__(self, lo: int, hi: int, what: str = "a number") -> None:
        self.lo, self.hi, self.what = lo, hi, what

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(
                where, f"expected {self.what} ({self.lo}-{self.hi}), got {describe(value)}"
            )
            return INVALID
        if not self.lo <= value <= self.hi:
            problems.add(where, f"{value} is outside {self.lo}-{self.hi}")
            return INVALID
        return value

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}


class Bool(Type):
    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if not isinstance(value, bool):
            problems.add(where, f"expected true or false, got {describe(value)}")
            return INVALID
        return value

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}


class Enum(Type):
    def __init__(self, *values: str) -> None:
        self.values = values

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if value not in self.values or isinstance(value, bool):
            choices = " | ".join(self.values)
            problems.add(
                where,
                f"{describe(value)} is not one of {choices}"
                + (suggest(value, self.values) if isinstance(value, str) else ""),
            )
            return INVALID
        return value

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"enum": list(self.values)}


class Parsed(Type):
    """A text value parsed by a function that raises ValueError with the reason."""

    def __init__(
        self,
        parse: Callable[[Any], Any],
        json_schema: dict[str, Any],
        accept: tuple[type, ...] = (str,),
    ) -> None:
        self.parse = parse
        self.json_schema = json_schema
        self.accept = accept

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, self.accept):
            problems.add(
                where,
                f"expected {self.json_schema.get('description', 'text')}, got {describe(value)}",
            )
            return INVALID
        try:
            return self.parse(value)
        except ValueError as exc:
            problems.add(where, str(exc))
            return INVALID

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return dict(self.json_schema)


_DOTTED = re.compile(
    r"(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})/(\d{1,2})"
)


def parse_address(value: Any) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    text = str(value).strip()
    m = _DOTTED.fullmatch(text)
    if m is not None:
        # The common plain form, parsed here: ipaddress's string parser is most of the cost
        # of loading 50,000 guests. Anything else (out of range, netmask forms, IPv6) takes
        # the general path below, with its messages.
        a, b, c, d, plen = map(int, m.groups())
        if a <= 255 and b <= 255 and c <= 255 and d <= 255 and plen <= 32:
            return ipaddress.IPv4Interface(((a << 24) | (b << 16) | (c << 8) | d, plen))
    if "/" not in text:
        raise ValueError(f"address {text!r} needs a prefix length, e.g. {text}/24")
    try:
        if ":" in text:
            return ipaddress.IPv6Interface(text)
        return ipaddress.IPv4Interface(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address with prefix") from None


def parse_prefix(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    text = str(value).strip()
    if text == "any":
        return None
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a prefix such as 192.0.2.0/24") from None
        raise ValueError(
            f"prefix {text!r} has host bits set (did you mean {iface.network}?)"
        ) from None


_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")


def parse_mac(value: Any) -> str:
    text = str(value).strip()
    if not _MAC.match(text):
        raise ValueError(f"{text!r} is not a MAC address such as '00:50:56:aa:bb:01'")
    return text.lower().replace("-", ":")


_PCI = re.compile(r"^(?:([0-9A-Fa-f]{4}):)?([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})\.([0-7])$")


def parse_pci(value: Any) -> str:
    text = str(value).strip()
    m = _PCI.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a PCI address such as '0000:03:00.0'")
    domain = m.group(1) or "0000"
    return f"{domain}:{m.group(2)}:{m.group(3)}.{m.group(4)}".lower()


def parse_peer(value: Any) -> Peer:
    text = str(value).strip()
    if text == "any":
        return Peer()
    if "/" in text or _looks_like_ip(text):
        if "/" not in text:
            addr = ipaddress.ip_address(text)
            return Peer(prefix=ipaddress.ip_network(f"{addr}/{addr.max_prefixlen}"))
        prefix = parse_prefix(text)
        return Peer(prefix=prefix)
    if not text:
        raise ValueError("empty peer")
    return Peer(zone=text)


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def parse_native(value: Any) -> int | None:
    if value == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"native VLAN must be 1-4094 or 'none', got {describe(value)}")
    if not 1 <= value <= 4094:
        raise ValueError(f"native VLAN {value} is outside 1-4094")
    return value


def _address_list(value: Any) -> tuple[Any, ...]:
    if isinstance(value, MList | list):
        if not value:
            raise ValueError("empty address list")
        return tuple(parse_address(v) for v in value)
    return (parse_address(value),)


class AddressList(Type):
    """An address or a list of addresses."""

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        items = value if isinstance(value, MList) else [value]
        out = []
        ok = True
        for i, item in enumerate(items):
            w = where.child(value, i) if isinstance(value, MList) else where
            if isinstance(item, bool) or not isinstance(item, str):
                problems.add(
                    w, f"expected an address such as '192.0.2.10/24', got {describe(item)}"
                )
                ok = False
                continue
            try:
                out.append(parse_address(item))
            except ValueError as exc:
                problems.add(w, str(exc))
                ok = False
        if isinstance(value, MList) and not value:
            problems.add(where, "empty address list")
            return INVALID
        return tuple(out) if ok else INVALID

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        one = {"type": "string", "description": "address with prefix, e.g. 192.0.2.10/24"}
        return {"oneOf": [one, {"type": "array", "items": one, "minItems": 1}]}


class ListOf(Type):
    def __init__(self, item: Type, min_items: int = 0) -> None:
        self.item = item
        self.min_items = min_items

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if not isinstance(value, MList):
            problems.add(where, f"expected a list, got {describe(value)}")
            return INVALID
        if len(value) < self.min_items:
            problems.add(where, f"needs at least {self.min_items} item(s)")
        check = self.item.check
        for i, v in enumerate(value):
            value[i] = check(v, Where(value, i, parent=where), problems)
        return value

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "array", "items": self.item.schema(defs)}
        if self.min_items:
            s["minItems"] = self.min_items
        return s


class OneOrList(Type):
    """A single value or a list of them (services, VLAN sets use their own parsers)."""

    def __init__(self, item: Type) -> None:
        self.item = item

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if isinstance(value, MList):
            return [
                self.item.check(v, where.child(value, i), problems) for i, v in enumerate(value)
            ]
        return [self.item.check(value, where, problems)]

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        one = self.item.schema(defs)
        return {"oneOf": [one, {"type": "array", "items": one}]}


@dataclass(frozen=True)
class Field:
    """One key of a record. ``hypervisors`` lists the hypervisors the key applies to (empty:
    every one); given on another host it is an error worded by ``elsewhere`` (``{key}`` the
    key, ``{hv}`` the host's hypervisor). The same declaration writes the schema's text."""

    type: Type
    doc: str
    required: bool = False
    default: Any = None
    hypervisors: tuple[str, ...] = ()
    elsewhere: str = "{key!r} does not apply to {hv}"

    @property
    def description(self) -> str:
        """The key's text in the JSON Schema (editors show it on hover)."""
        if not self.hypervisors:
            return self.doc
        names = ", ".join(HYPERVISOR_NAMES[h] for h in self.hypervisors)
        return f"{self.doc} ({names} only)"


#: How the documentation writes each hypervisor of the format.
HYPERVISOR_NAMES = {"esxi": "ESXi", "hyperv": "Hyper-V", "xen": "Xen"}


@dataclass
class Record(Type):
    """A mapping with a fixed set of keys. Unknown keys are errors, with a suggestion."""

    name: str
    fields: dict[str, Field]
    doc: str = ""
    skip_required: bool = field(default=False)
    # the fields' types by key, and the required keys: looked up for every record checked
    _types: dict[str, Type] = field(init=False, repr=False, compare=False)
    _required: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _restricted: tuple[tuple[str, Field], ...] = field(init=False, repr=False, compare=False)
    _restricted_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._types = {key: spec.type for key, spec in self.fields.items()}
        self._required = tuple(key for key, spec in self.fields.items() if spec.required)
        self._restricted = tuple(
            (key, spec) for key, spec in self.fields.items() if spec.hypervisors
        )
        self._restricted_keys = frozenset(key for key, _ in self._restricted)

    def misplaced(self, value: MDict, hypervisor: str) -> list[tuple[str, str]]:
        """(key, message) for every key of ``value`` that does not apply to ``hypervisor``,
        as the fields declare it."""
        if self._restricted_keys.isdisjoint(value):
            return []  # most records name no hypervisor-specific key (one C-level pass)
        return [
            (key, spec.elsewhere.format(key=key, hv=hypervisor))
            for key, spec in self._restricted
            if key in value and hypervisor not in spec.hypervisors
        ]

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if not isinstance(value, MDict):
            problems.add(
                where, f"expected a mapping ({self.doc or self.name}), got {describe(value)}"
            )
            return INVALID
        # converted in place: the tree is netseg's own parse product, never the user's data
        out = value
        unknown = []
        types = self._types
        for key, item in value.items():
            t = types.get(key) if isinstance(key, str) else None
            if t is None:
                problems.add(
                    Where(value, key, parent=where),
                    f"unknown key {key!r} in {self.name}{suggest(key, self.fields)}",
                    at_key=True,
                )
                unknown.append(key)
                continue
            if type(item) is str and item and t.plain_text:
                continue  # valid and unchanged (names, most text)
            out[key] = t.check(item, Where(value, key, parent=where), problems)
        for key in unknown:
            del out[key]
        if not self.skip_required:
            for key in self._required:
                if key not in value:
                    problems.add(Where(value, None, where.path), f"missing required key {key!r}")
        return out

    def optional(self) -> Record:
        """The same record with nothing required (an included fragment)."""
        return Record(self.name, self.fields, self.doc, skip_required=True)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        if self.name not in defs:
            defs[self.name] = {}  # placeholder against recursion
            props = {}
            for key, spec in self.fields.items():
                s = spec.type.schema(defs)
                s = dict(s)
                s["description"] = spec.description
                if spec.default is not None:
                    s["default"] = spec.default
                props[key] = s
            body: dict[str, Any] = {
                "type": "object",
                "description": self.doc,
                "additionalProperties": False,
                "properties": props,
            }
            required = [k for k, f in self.fields.items() if f.required]
            if required:
                body["required"] = required
            defs[self.name] = body
        return {"$ref": f"#/definitions/{self.name}"}


class MapOf(Type):
    """A mapping from names to records (zones)."""

    def __init__(self, item: Type, key_pattern: str | None = None) -> None:
        self.item = item

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        if not isinstance(value, MDict):
            problems.add(where, f"expected a mapping of names, got {describe(value)}")
            return INVALID
        out = MDict(value.file, value.mark)
        out.key_marks = value.key_marks
        out.value_marks = value.value_marks
        for key, item in value.items():
            w = where.child(value, key)
            if isinstance(key, bool) or not isinstance(key, str | int):
                problems.add(w, f"a name must be text, got {describe(key)}", at_key=True)
                continue
            if item is None:
                item = MDict(value.file, value.value_marks.get(key, value.mark))
            out[str(key)] = self.item.check(item, w, problems)
        return out

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.item.schema(defs)}


class Choice(Type):
    """The first alternative whose shape fits (a number or a mapping, say)."""

    def __init__(self, *alternatives: tuple[Callable[[Any], bool], Type], what: str) -> None:
        self.alternatives = alternatives
        self.what = what

    def check(self, value: Any, where: Where, problems: Problems) -> Any:
        for fits, t in self.alternatives:
            if fits(value):
                return t.check(value, where, problems)
        problems.add(where, f"expected {self.what}, got {describe(value)}")
        return INVALID

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"oneOf": [t.schema(defs) for _, t in self.alternatives]}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_map(v: Any) -> bool:
    return isinstance(v, MDict)


# --- value types of the format ---------------------------------------------------------------

NAME = Str()
TEXT = Str()
VLAN_ID = Int(0, 4095, "a VLAN id")
VLAN_TAG = Int(1, 4094, "a VLAN id")
VLAN_SET = Parsed(
    VlanSet.parse,
    {
        "description": "a VLAN set: 10, '10-20', '10,99', a list of these, or 'all'",
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 4094},
            {"type": "string", "pattern": r"^(all|\d+(-\d+)?(\s*,\s*\d+(-\d+)?)*)$"},
            {"type": "array", "items": {"type": ["integer", "string"]}},
        ],
    },
    accept=(str, int, MList),
)
ADDRESSES = AddressList()
ADDRESS = Parsed(
    parse_address, {"type": "string", "description": "an address with prefix, e.g. 192.0.2.1/24"}
)
MAC = Parsed(
    parse_mac,
    {
        "type": "string",
        "description": "a MAC address, e.g. '00:50:56:aa:bb:01'",
        "pattern": _MAC.pattern,
    },
)
PCI = Parsed(
    parse_pci,
    {
        "type": "string",
        "description": "a PCI address, e.g. '0000:03:00.0'",
        "pattern": _PCI.pattern,
    },
)
PEER = Parsed(parse_peer, {"type": "string", "description": "a zone name, a prefix, or 'any'"})
SERVICE_PATTERN = r"^(any|icmp|icmp6|other|(tcp|udp)(/\d+(-\d+)?)?)$"
SERVICES = Parsed(
    ServiceSet.parse,
    {
        "description": "a service (tcp/443, tcp/8000-8100, udp/53, icmp, icmp6, any) or a list",
        "oneOf": [
            {"type": "string", "pattern": SERVICE_PATTERN},
            {
                "type": "array",
                "items": {"type": "string", "pattern": SERVICE_PATTERN},
                "minItems": 1,
            },
        ],
    },
    accept=(str, MList),
)
NATIVE = Parsed(
    parse_native,
    {
        "description": "native VLAN 1-4094, or 'none' (untagged frames dropped)",
        "oneOf": [{"type": "integer", "minimum": 1, "maximum": 4094}, {"const": "none"}],
    },
    accept=(str, int),
)
ROLES = ListOf(Enum("dhcp-server", "router", "dns"))
SEVERITY = Enum("critical", "high", "medium", "low", "info")
VMK_SERVICES = (
    "management",
    "vmotion",
    "vsan",
    "provisioning",
    "ft",
    "replication",
    "iscsi",
    "nfs",
)

TRUNK_VLAN = Record(
    "TrunkVlan",
    {
        "trunk": Field(VLAN_SET, "VLANs the guest tags itself (VGT)", required=True),
        "native": Field(
            Int(0, 4094, "a VLAN id"),
            "VLAN for the guest's untagged frames (0 = the switch's untagged domain)",
        ),
    },
    "trunk mode: {trunk: SET, native: N}",
)
PORTGROUP_TRUNK = Record(
    "PortGroupTrunk",
    {
        "trunk": Field(
            VLAN_SET,
            "VLANs the guest tags itself (distributed switch VLAN trunking)",
            required=True,
        )
    },
    "VLAN trunking: {trunk: SET}",
)
PORTGROUP_VLAN = Choice(
    (_is_int, VLAN_ID), (_is_map, PORTGROUP_TRUNK), what="a VLAN id 0-4095 or {trunk: SET}"
)
NIC_VLAN = Choice(
    (_is_int, Int(0, 4094, "a VLAN id")),
    (_is_map, TRUNK_VLAN),
    what="a VLAN id or {trunk: SET, native: N}",
)

# Provenance written by `netseg import` (JSON form; YAML carries it as a comment instead):
# informational, never interpreted, so an imported file validates and analyses as written.
SOURCE = Field(TEXT, "where an importer read this entity: export row or configuration line")

# --- records -----------------------------------------------------------------------------------

ZONE = Record(
    "Zone",
    {
        "privileged": Field(
            Bool(),
            "holds privileged-domain interfaces (management is always privileged)",
            default=False,
        ),
        "description": Field(TEXT, "free text"),
    },
    "a security zone",
)
POLICY_RULE = Record(
    "PolicyRule",
    {
        "from": Field(PEER, "source: zone, prefix or any", required=True),
        "to": Field(PEER, "destination: zone, prefix or any", required=True),
        "services": Field(SERVICES, "allowed services", default="any"),
        "why": Field(TEXT, "the reason, carried into findings and reports"),
    },
    "a flow the design intends",
)
WAIVER = Record(
    "Waiver",
    {
        "rule": Field(NAME, "rule id", required=True),
        "subject": Field(NAME, "entity reference, or zone:NAME / host:NAME", required=True),
        "why": Field(TEXT, "the reason (and ticket)", required=True),
    },
    "an accepted risk",
)
POLICY = Record(
    "Policy",
    {
        "intra_zone": Field(Enum("allow", "deny"), "traffic inside one zone", default="allow"),
        "allow": Field(
            ListOf(POLICY_RULE), "allowed flows across zones; everything else is denied"
        ),
        "severity": Field(MapOf(SEVERITY), "rule id -> severity override"),
        "waivers": Field(ListOf(WAIVER), "accepted risks"),
    },
    "the intended flows",
)
PORT = Record(
    "SwitchPort",
    {
        "name": Field(NAME, "port name, unique per switch", required=True),
        "mode": Field(
            Enum("access", "trunk"), "access (one VLAN, untagged) or trunk", required=True
        ),
        "vlan": Field(VLAN_TAG, "access VLAN"),
        "allowed": Field(VLAN_SET, "VLANs tagged on a trunk", default="all"),
        "native": Field(NATIVE, "native (untagged) VLAN of a trunk", default=1),
        "qinq": Field(
            Bool(), "a provider (802.1ad) link where stacked tags are expected", default=False
        ),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a physical switch port",
)
SWITCH = Record(
    "Switch",
    {
        "name": Field(NAME, "switch name", required=True),
        "ports": Field(ListOf(PORT), "ports"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a physical switch",
)
LINK = Parsed(
    lambda v: v,
    {
        "type": "array",
        "description": "two switch ports, e.g. [tor1:Eth1/48, tor2:Eth1/48]",
        "items": {"type": "string"},
        "minItems": 2,
        "maxItems": 2,
    },
    accept=(MList,),
)
ACL_LINE = Record(
    "AclLine",
    {
        "action": Field(Enum("permit", "deny"), "permit or deny", required=True),
        "from": Field(PEER, "source peer", default="any"),
        "to": Field(PEER, "destination peer", default="any"),
        "services": Field(SERVICES, "services matched", default="any"),
        "why": Field(TEXT, "free text"),
    },
    "an ACL line (first match wins)",
)
ROUTER_INTERFACE = Record(
    "RouterInterface",
    {
        "name": Field(NAME, "interface name, unique per router", required=True),
        "switch": Field(NAME, "physical switch (SVI with vlan, or with port)"),
        "vlan": Field(Int(0, 4094, "a VLAN id"), "VLAN of the SVI, or of a virtual appliance NIC"),
        "port": Field(NAME, "physical switch port the interface is cabled to"),
        "host": Field(NAME, "host of a virtual router appliance"),
        "vswitch": Field(NAME, "virtual switch of a virtual appliance"),
        "portgroup": Field(NAME, "ESXi port group of a virtual appliance"),
        "address": Field(ADDRESS, "interface address with prefix"),
        "mac": Field(MAC, "MAC, to attribute captured frames as routed"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a router interface",
)
ROUTER = Record(
    "Router",
    {
        "name": Field(NAME, "router name", required=True),
        "interfaces": Field(ListOf(ROUTER_INTERFACE, 1), "interfaces", required=True),
        "acl": Field(ListOf(ACL_LINE), "ordered ACL, first match wins"),
        "default": Field(Enum("permit", "deny"), "when no ACL line matches", default="deny"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "an L3 gateway or firewall",
)
ENDPOINT = Record(
    "Endpoint",
    {
        "name": Field(NAME, "endpoint name", required=True),
        "zone": Field(NAME, "zone", default="default"),
        "switch": Field(NAME, "physical switch", required=True),
        "port": Field(NAME, "switch port (its access VLAN)"),
        "vlan": Field(VLAN_TAG, "VLAN, when no port is named"),
        "mac": Field(MAC, "MAC address"),
        "address": Field(ADDRESSES, "address(es) with prefix"),
        "roles": Field(ROLES, "legitimate infrastructure roles"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a physical machine on a switch port",
)
NIC = Record(
    "Nic",
    {
        "name": Field(NAME, "adapter name, unique per host", required=True),
        "switch": Field(NAME, "physical switch (absent: the implicit upstream switch)"),
        "port": Field(NAME, "switch port"),
        "pci": Field(PCI, "the adapter's PCI address (netseg extension)"),
        "source": SOURCE,
    },
    "a physical adapter",
)
ESXI, HYPERV, XEN = ("esxi",), ("hyperv",), ("xen",)
_NOT_ON_VS = "{key!r} does not apply to {hv} virtual switches"

SECURITY = Record(
    "Security",
    {
        "promiscuous": Field(Bool(), "promiscuous mode allowed"),
        "mac_changes": Field(Bool(), "MAC address changes allowed"),
        "forged_transmits": Field(Bool(), "forged transmits allowed"),
    },
    "ESXi layer 2 security policy",
)
PORTGROUP = Record(
    "PortGroup",
    {
        "name": Field(NAME, "port group name, unique per vswitch", required=True),
        "vlan": Field(
            PORTGROUP_VLAN, "0 untagged, 1-4094 tagged, 4095 guest tagging, {trunk: SET}", default=0
        ),
        "security": Field(SECURITY, "overrides of the vSwitch's security policy"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "an ESXi port group",
)
VSWITCH = Record(
    "VSwitch",
    {
        "name": Field(NAME, "virtual switch name, unique per host", required=True),
        "type": Field(
            Enum("standard", "distributed", "external", "internal", "private", "bridge", "ovs"),
            "ESXi standard|distributed; Hyper-V external|internal|private; Xen bridge|ovs",
        ),
        "uplinks": Field(ListOf(NAME), "physical NICs, or NIC.VLAN subinterfaces"),
        "security": Field(SECURITY, "security policy", hypervisors=ESXI, elsewhere=_NOT_ON_VS),
        "portgroups": Field(
            ListOf(PORTGROUP), "port groups", hypervisors=ESXI, elsewhere=_NOT_ON_VS
        ),
        "allow_management_os": Field(
            Bool(),
            "the management OS shares this switch",
            default=False,
            hypervisors=HYPERV,
            elsewhere=_NOT_ON_VS,
        ),
        "vlan_filtering": Field(
            Bool(),
            "Linux bridge VLAN filtering",
            default=False,
            hypervisors=XEN,
            elsewhere=_NOT_ON_VS,
        ),
        "domain": Field(
            NAME,
            "the domain running the switch",
            default="dom0",
            hypervisors=XEN,
            elsewhere=_NOT_ON_VS,
        ),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a virtual switch",
)
MANAGEMENT = Record(
    "ManagementInterface",
    {
        "name": Field(NAME, "interface name, unique per host", required=True),
        "portgroup": Field(NAME, "ESXi port group"),
        "vswitch": Field(NAME, "virtual switch (Hyper-V, Xen)"),
        "vlan": Field(Int(0, 4094, "a VLAN id"), "VLAN on the vswitch (0 untagged)"),
        "nic": Field(NAME, "dedicated physical adapter"),
        "address": Field(ADDRESSES, "address(es) with prefix"),
        "mac": Field(MAC, "MAC, to attribute captured frames"),
        "services": Field(
            ListOf(Enum(*VMK_SERVICES)),
            "vmkernel roles",
            default=["management"],
            hypervisors=ESXI,
            elsewhere="'services' (vmkernel roles) applies to ESXi hosts",
        ),
        "zone": Field(NAME, "privileged zone", default="management"),
        "domain": Field(
            NAME,
            "the domain owning the interface",
            default="dom0",
            hypervisors=XEN,
            elsewhere="'domain' applies to Xen hosts, not {hv}",
        ),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "an interface of the privileged domain",
)
FIREWALL_RULE = Record(
    "FirewallRule",
    {
        "from": Field(PEER, "source peer", required=True),
        "services": Field(SERVICES, "services allowed", default="any"),
        "why": Field(TEXT, "free text"),
    },
    "an allow rule of the privileged domain's firewall",
)
FIREWALL = Record(
    "Firewall",
    {
        "default": Field(Enum("deny", "allow"), "when no rule matches", default="deny"),
        "allow": Field(ListOf(FIREWALL_RULE), "allowed sources and services"),
    },
    "the privileged domain's inbound firewall",
)
DRIVER_DOMAIN = Record(
    "DriverDomain",
    {
        "name": Field(NAME, "domain name", required=True),
        "nics": Field(ListOf(NAME), "NICs passed through to it"),
        "passthrough": Field(ListOf(PCI), "PCI devices passed through (netseg extension)"),
        "source": SOURCE,
    },
    "a Xen driver domain",
)
HOST = Record(
    "Host",
    {
        "name": Field(NAME, "host name", required=True),
        "hypervisor": Field(Enum("esxi", "xen", "hyperv"), "hypervisor", required=True),
        "iommu": Field(Bool(), "DMA remapping enabled", default=True),
        "nics": Field(ListOf(NIC), "physical adapters"),
        "vswitches": Field(ListOf(VSWITCH), "virtual switches"),
        "management": Field(ListOf(MANAGEMENT), "the privileged domain's interfaces"),
        "firewall": Field(FIREWALL, "the privileged domain's inbound firewall"),
        "driver_domains": Field(
            ListOf(DRIVER_DOMAIN),
            "driver domains",
            hypervisors=XEN,
            elsewhere="driver domains are a Xen feature, not {hv}",
        ),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a hypervisor host",
)
GUARDS = Record(
    "Guards",
    {
        "dhcp_guard": Field(Bool(), "drop DHCP server messages from the guest", default=False),
        "router_guard": Field(Bool(), "drop router advertisements and redirects", default=False),
        "mac_spoofing": Field(Bool(), "allow the guest to change its MAC", default=False),
    },
    "Hyper-V per-NIC guards",
)
GUEST_NIC = Record(
    "GuestNic",
    {
        "name": Field(NAME, "NIC name (default nic0, nic1, …)"),
        "portgroup": Field(NAME, "ESXi port group"),
        "vswitch": Field(NAME, "virtual switch (Hyper-V, Xen)"),
        "vlan": Field(NIC_VLAN, "access VLAN (0 untagged) or {trunk: SET, native: N}"),
        "mac": Field(MAC, "MAC address"),
        "address": Field(ADDRESSES, "address(es) with prefix"),
        "guards": Field(
            GUARDS,
            "DHCP and router guards, MAC spoofing",
            hypervisors=HYPERV,
            elsewhere="'guards' are Hyper-V settings, not {hv}",
        ),
        "source": SOURCE,
    },
    "a guest's virtual NIC",
)
GUEST = Record(
    "Guest",
    {
        "name": Field(NAME, "guest name", required=True),
        "host": Field(NAME, "hypervisor host", required=True),
        "zone": Field(NAME, "zone", default="default"),
        "roles": Field(ROLES, "legitimate infrastructure roles"),
        "passthrough": Field(ListOf(PCI), "PCI devices given to the guest"),
        "nics": Field(ListOf(GUEST_NIC), "virtual NICs"),
        "description": Field(TEXT, "free text"),
        "source": SOURCE,
    },
    "a virtual machine",
)
TOPOLOGY = Record(
    "Topology",
    {
        "netseg": Field(Int(1, 1, "the schema version"), "schema version (1)", required=True),
        "name": Field(NAME, "topology name", required=True),
        "description": Field(TEXT, "free text"),
        "include": Field(ListOf(NAME), "files whose lists are merged in (relative paths)"),
        "zones": Field(MapOf(ZONE), "security zones"),
        "policy": Field(POLICY, "intended flows, severity overrides and waivers"),
        "switches": Field(ListOf(SWITCH), "physical switches"),
        "links": Field(ListOf(LINK), "switch-to-switch cables"),
        "routers": Field(ListOf(ROUTER), "routers and firewalls"),
        "endpoints": Field(ListOf(ENDPOINT), "physical machines"),
        "hosts": Field(ListOf(HOST), "hypervisor hosts", required=True),
        "guests": Field(ListOf(GUEST), "virtual machines"),
    },
    "a netseg topology (schema version 1)",
)
MERGED_LISTS = ("switches", "links", "routers", "endpoints", "hosts", "guests")


def json_schema() -> dict[str, Any]:
    """The draft-07 JSON Schema of the topology format, generated from the declarations above."""
    defs: dict[str, Any] = {}
    root = TOPOLOGY.schema(defs)
    body = dict(defs["Topology"])
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://netseg.invalid/schemas/netseg.schema.json",
        "title": "netseg topology (schema version 1)",
        **body,
        "definitions": {k: v for k, v in sorted(defs.items()) if k != "Topology"},
        "$comment": f"generated by `netseg schema` from netseg/topology/spec.py; root {root['$ref']}",
    }


def field_defaults(record: Record) -> Mapping[str, Any]:
    return {k: f.default for k, f in record.fields.items() if f.default is not None}
