"""The naming convention every importer follows, so that links line up across sources.

A physical switch is named by its configured hostname without the domain suffix (``tor1``, not
``tor1.example.com``); a port by the interface name as the switch's own configuration spells it,
in full (``Ethernet1/1``, ``GigabitEthernet1/0/1``, ``xe-0/0/1``). CDP and LLDP often report the
short form (``Eth1/1``, ``Gi1/0/1``), which is expanded here.
"""

from __future__ import annotations

import re

__all__ = ["natural_key", "port_name", "switch_name"]

# short interface prefixes (as CDP/LLDP and `show` output print them) -> the configuration's
# full name; the longest prefix that matches wins, case-insensitively
_FULL = {
    "eth": "Ethernet",
    "et": "Ethernet",
    "fa": "FastEthernet",
    "gi": "GigabitEthernet",
    "gig": "GigabitEthernet",
    "tw": "TwoGigabitEthernet",
    "fi": "FiveGigabitEthernet",
    "te": "TenGigabitEthernet",
    "ten": "TenGigabitEthernet",
    "twe": "TwentyFiveGigE",
    "fo": "FortyGigabitEthernet",
    "hu": "HundredGigE",
    "po": "Port-channel",
    "mgmt": "mgmt",
    "ma": "Management",
}
_FULL_NAMES = {v.lower(): v for v in _FULL.values()}
_INTERFACE = re.compile(r"^([A-Za-z][A-Za-z-]*?)\s*(\d+(?:[/:.]\d+)*)$")
_JUNOS = re.compile(r"^[a-z]{2,3}-\d+/\d+/\d+(?:[:.]\d+)?$")
_SERIAL = re.compile(r"\([^)]*\)$")


def switch_name(reported: str) -> str:
    """``tor1.example.com`` -> ``tor1``; NX-OS's ``tor1(FDO21120U8N)`` -> ``tor1``."""
    name = _SERIAL.sub("", reported.strip()).strip()
    if not _looks_like_address(name):
        name = name.split(".", 1)[0]
    return name


def port_name(reported: str) -> str | None:
    """The full interface name of a port id CDP/LLDP reported, or None when the id is not an
    interface name (a MAC address, an ifIndex, a locally assigned number)."""
    text = reported.strip()
    if _JUNOS.match(text):
        return text
    m = _INTERFACE.match(text)
    if m is None:
        return None
    prefix, number = m.group(1), m.group(2)
    full = _FULL_NAMES.get(prefix.lower()) or _FULL.get(prefix.lower())
    if full is None:
        return None if len(prefix) < 2 else prefix + number
    return full + number


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort ``vmnic2`` before ``vmnic10``, ``Ethernet1/2`` before ``Ethernet1/11``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )


def _looks_like_address(name: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+", name)) or ":" in name
