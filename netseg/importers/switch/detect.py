"""Which kind of input a file is: a configuration (and its dialect) or a neighbour table.

Detection reads markers each platform prints in its running configuration (RANCID's content
type line, the boot image, the banner ``show running-config`` prints, interface naming); the
highest score wins, and a tie between the Cisco-like dialects is decided by interface names.
"""

from __future__ import annotations

import re

from netseg.errors import ImportSourceError
from netseg.importers.switch.facts import DIALECT_NAMES, DIALECTS, Dialect

_RANCID = {
    "cisco-nx": "nxos",
    "cisco_nx": "nxos",
    "arista": "eos",
    "juniper": "junos",
    "cisco": "ios",
}
_MARKERS: dict[Dialect, list[tuple[str, int]]] = {
    "nxos": [
        (r"^!Command: show running-config", 5),
        (r"^feature \S+", 3),
        (r"^boot nxos ", 5),
        (r"^version \d+\.\d+\(\d+\)[A-Z]?\d*\s*$", 1),
        (r"^interface mgmt0\b", 4),
        (r"^vrf context ", 4),
        (r"^system default switchport", 5),
        (r"^\s+vrf member ", 3),
        (r"^interface port-channel\d", 2),
        (r"^hostname \S+\s*$", 0),
    ],
    "eos": [
        (r"^! device: .*\(.*EOS", 8),
        (r"EOS-\d", 5),
        (r"^interface Management\d", 4),
        (r"^interface Port-Channel\d", 3),
        (r"^interface Ethernet\d+(/\d+)?\s*$", 1),
        (r"^transceiver qsfp default-mode", 5),
        (r"^service routing protocols model", 5),
        (r"^management api http-commands", 5),
        (r"^interface Vxlan\d", 4),
    ],
    "ios": [
        (r"^version 1\d\.\d+\s*$", 4),
        (r"^Current configuration : \d+ bytes", 4),
        (r"^Building configuration", 3),
        (r"^interface (Fast|Gigabit|TenGigabit|TwentyFiveGig|FortyGigabit|HundredGig)", 4),
        (r"^service timestamps ", 2),
        (r"^ip access-list (extended|standard) ", 2),
        (r"^interface Port-channel\d", 3),
        (r"^ip subnet-zero", 3),
        (r"^spanning-tree mode ", 1),
        (r"^interface Ethernet\d+/\d+\s*$", 1),
        (r"^line vty ", 1),
        (r"^\s+switchport trunk encapsulation ", 4),
        (r"^\s+ip address \d+\.\d+\.\d+\.\d+ \d+\.", 2),
    ],
    "junos": [
        (r"^set (system|interfaces|vlans|protocols) ", 5),
        (r"^(system|interfaces|vlans) \{", 6),
        (r"^version \d+\.\d+[A-Z]\d", 5),
        (r"family ethernet-switching", 5),
    ],
}
_COMPILED = {d: [(re.compile(p, re.MULTILINE), s) for p, s in ms] for d, ms in _MARKERS.items()}
_OTHERS = [
    (re.compile(r"^sysname ", re.MULTILINE), "HP Comware / H3C (sysname, port link-type)"),
    (re.compile(r"^(hostname|\s+)?\s*nameif ", re.MULTILINE), "Cisco ASA"),
    (re.compile(r"^config system ", re.MULTILINE), "FortiOS"),
    (re.compile(r"^/interface ", re.MULTILINE), "MikroTik RouterOS"),
]

NEIGHBOUR_MARKERS = re.compile(
    r"^(Local Intf:|Local Port id:|Device ID:|Interface \S+ detected \d+ LLDP neighbors|"
    r"Local Interface\s+Parent Interface\s+Chassis Id|Chassis id:)",
    re.MULTILINE,
)


def is_neighbour_table(text: str) -> bool:
    return bool(NEIGHBOUR_MARKERS.search(text))


_CISCO_LIKE = re.compile(r"^hostname \S+", re.MULTILINE)
_INTERFACE = re.compile(r"^interface \S+", re.MULTILINE)


def dialect_of(text: str, file: str, forced: str | None = None) -> tuple[Dialect, str]:
    """The dialect of a configuration and, when it was a guess, why; ImportSourceError naming
    the file when it is none netseg reads."""
    if forced:
        if forced not in DIALECTS:
            raise ImportSourceError(
                "--dialect", f"unknown dialect {forced!r} (known: {', '.join(DIALECTS)})"
            )
        return forced, ""  # type: ignore[return-value,unused-ignore]
    head = text[:4096]
    m = re.search(r"RANCID-CONTENT-TYPE:\s*(\S+)", head)
    if m and m.group(1).lower() in _RANCID:
        return _RANCID[m.group(1).lower()], ""  # type: ignore[return-value]
    scores = {d: sum(s for rx, s in _COMPILED[d] if rx.search(text)) for d in DIALECTS}
    best = max(scores.values())
    named = _CISCO_LIKE.search(text) or "host-name" in text
    if best < 3 and named and _INTERFACE.search(text):
        return "ios", "no platform marker found: read as Cisco IOS (force another with --dialect)"
    if best < 3 or not named:
        for rx, what in _OTHERS:
            if rx.search(text) and (best < 3 or not named):
                raise ImportSourceError(
                    file,
                    f"this looks like a {what} configuration, which netseg does not read "
                    f"(it reads {', '.join(DIALECT_NAMES.values())})",
                    1,
                )
    if best < 3:
        raise ImportSourceError(
            file,
            "not a switch configuration netseg reads: expected a running configuration of "
            f"{', '.join(DIALECT_NAMES.values())} (force one with --dialect "
            f"{'|'.join(DIALECTS)}), or a 'show lldp/cdp neighbors detail' output",
            1,
        )
    order: list[Dialect] = ["junos", "nxos", "eos", "ios"]
    return max(order, key=lambda d: (scores[d], -order.index(d))), ""
