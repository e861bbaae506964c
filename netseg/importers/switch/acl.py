"""Access-list lines of the Cisco-like dialects (IOS, NX-OS, EOS) in shared terms.

``permit tcp 192.0.2.0 0.0.0.255 any eq 443``, ``10 deny ip 198.51.100.0/24 any log``,
``permit 192.0.2.7`` (standard): one :class:`~.facts.AclEntry` each. What the topology format
cannot say exactly (a source port, ``established``, an ICMP type, a protocol other than
TCP/UDP/ICMP, a non-contiguous wildcard, an object group) is kept as the nearest wider line with
the reason in ``inexact``; :mod:`.build` decides what a wider line may mean (a permit may be
wider, a deny may not).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from netseg.importers.switch.facts import AclEntry, Network

# IANA port names as IOS, NX-OS and EOS print them in ACLs
PORT_NAMES = {
    "bgp": 179,
    "biff": 512,
    "bootpc": 68,
    "bootps": 67,
    "chargen": 19,
    "cmd": 514,
    "daytime": 13,
    "discard": 9,
    "domain": 53,
    "echo": 7,
    "exec": 512,
    "finger": 79,
    "ftp": 21,
    "ftp-data": 20,
    "gopher": 70,
    "hostname": 101,
    "http": 80,
    "https": 443,
    "ident": 113,
    "imap": 143,
    "imap4": 143,
    "irc": 194,
    "isakmp": 500,
    "kerberos": 88,
    "klogin": 543,
    "kshell": 544,
    "ldap": 389,
    "ldaps": 636,
    "login": 513,
    "lpd": 515,
    "mobile-ip": 434,
    "nameserver": 42,
    "netbios-dgm": 138,
    "netbios-ns": 137,
    "netbios-ss": 139,
    "netbios-ssn": 139,
    "nntp": 119,
    "ntp": 123,
    "pim-auto-rp": 496,
    "pop2": 109,
    "pop3": 110,
    "radius": 1812,
    "radius-acct": 1813,
    "rip": 520,
    "smtp": 25,
    "snmp": 161,
    "snmptrap": 162,
    "ssh": 22,
    "sunrpc": 111,
    "syslog": 514,
    "tacacs": 49,
    "tacacs-ds": 65,
    "talk": 517,
    "telnet": 23,
    "tftp": 69,
    "time": 37,
    "uucp": 540,
    "who": 513,
    "whois": 43,
    "www": 80,
    "xdmcp": 177,
}
_PROTOCOLS = {"ip": "any", "ipv6": "any", "tcp": "tcp", "udp": "udp", "6": "tcp", "17": "udp"}
_QUIET = {"log", "log-input"}  # keywords that change nothing the analysis sees


class AclSyntaxError(ValueError):
    """A line that is not an access-list entry of the dialect."""


def parse_entry(words: list[str], line: int, family: int, standard: bool) -> AclEntry | None:
    """One ACL line (its words after the ACL name or sequence number); None for a remark."""
    if words and words[0].isdigit():
        words = words[1:]  # sequence number
    if not words or words[0] in ("remark", "statistics", "description"):
        return None
    action: Literal["permit", "deny"]
    if words[0] == "permit":
        action = "permit"
    elif words[0] == "deny":
        action = "deny"
    else:
        raise AclSyntaxError(f"expected permit, deny or remark, got {words[0]!r}")
    rest = words[1:]
    why: list[str] = []
    if standard:
        src, rest = _address(rest, family, why, standard=True)
        _trailer(rest, "ip", why)
        return AclEntry(line, action, "any", src, None, None, "; ".join(why))
    if not rest:
        raise AclSyntaxError("expected a protocol after the action")
    protocol = _protocol(rest[0], family, why)
    rest = rest[1:]
    src, rest = _address(rest, family, why)
    src_ports, rest = _ports(rest, protocol)
    if src_ports is not None:
        why.append("a source-port match")
    dst, rest = _address(rest, family, why)
    ports, rest = _ports(rest, protocol)
    _trailer(rest, protocol, why)
    return AclEntry(line, action, protocol, src, dst, ports, "; ".join(why))


def _protocol(word: str, family: int, why: list[str]) -> str:
    word = word.lower()
    if word in _PROTOCOLS:
        return _PROTOCOLS[word]
    if word in ("icmp", "1") and family == 4:
        return "icmp"
    if word in ("icmp", "icmpv6", "ipv6-icmp", "58"):
        return "icmp6"
    why.append(
        f"protocol {word!r}, which the format counts as 'other' with every non-TCP/UDP/ICMP protocol"
    )
    return "other"


def _address(
    words: list[str], family: int, why: list[str], standard: bool = False
) -> tuple[tuple[Network, ...] | None, list[str]]:
    if not words:
        raise AclSyntaxError("expected an address (any, host A, A WILDCARD or A/LEN)")
    first = words[0].lower()
    if first in ("any", "any4", "any6"):
        return None, words[1:]
    if first == "host":
        if len(words) < 2:
            raise AclSyntaxError("expected an address after 'host'")
        return (_host(words[1]),), words[2:]
    if first in ("addrgroup", "object-group", "net-group", "object"):
        why.append(f"the {first} {words[1] if len(words) > 1 else ''} (object groups are not read)")
        return None, words[2:]
    if "/" in first:
        try:
            return (ipaddress.ip_network(words[0], strict=False),), words[1:]
        except ValueError:
            raise AclSyntaxError(f"{words[0]!r} is not a prefix") from None
    try:
        addr = ipaddress.ip_address(words[0])
    except ValueError:
        raise AclSyntaxError(
            f"{words[0]!r} is not an address (any, host A, A WILDCARD, A/LEN)"
        ) from None
    if addr.version == 4 and len(words) > 1 and _is_dotted(words[1]):
        return (_wildcard(addr, words[1], why),), words[2:]
    if standard or addr.version == 6:
        return (_host(words[0]),), words[1:]
    raise AclSyntaxError(f"expected a wildcard mask after {words[0]}")


def _host(text: str) -> Network:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise AclSyntaxError(f"{text!r} is not an address") from None
    return ipaddress.ip_network(f"{addr}/{addr.max_prefixlen}")


def _is_dotted(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def _wildcard(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, mask: str, why: list[str]
) -> Network:
    wild = int(ipaddress.IPv4Address(mask))
    host_bits = wild.bit_length()
    if wild != (1 << host_bits) - 1:
        why.append(f"the non-contiguous wildcard {mask} (read as the /{32 - host_bits} around it)")
    return ipaddress.ip_network(f"{addr}/{32 - host_bits}", strict=False)


def _port(word: str) -> int:
    if word.isdigit() and 0 <= int(word) <= 65535:
        return int(word)
    if word.lower() in PORT_NAMES:
        return PORT_NAMES[word.lower()]
    raise AclSyntaxError(f"{word!r} is not a port number or a known port name")


def _ports(words: list[str], protocol: str) -> tuple[tuple[tuple[int, int], ...] | None, list[str]]:
    if not words or protocol not in ("tcp", "udp"):
        return None, words
    op = words[0]
    if op == "eq":
        ports = []
        rest = words[1:]
        while rest and (rest[0].isdigit() or rest[0].lower() in PORT_NAMES):
            ports.append(_port(rest[0]))
            rest = rest[1:]
        if not ports:
            raise AclSyntaxError("expected a port after 'eq'")
        return tuple((p, p) for p in sorted(set(ports))), rest
    if op == "range" and len(words) >= 3:
        lo, hi = _port(words[1]), _port(words[2])
        return ((min(lo, hi), max(lo, hi)),), words[3:]
    if op in ("gt", "lt", "neq") and len(words) >= 2:
        p = _port(words[1])
        if op == "gt":
            return (((p + 1, 65535),) if p < 65535 else ()), words[2:]
        if op == "lt":
            return (((0, p - 1),) if p > 0 else ()), words[2:]
        parts = [r for r in ((0, p - 1), (p + 1, 65535)) if r[0] <= r[1]]
        return tuple(parts), words[2:]
    return None, words


def _trailer(words: list[str], protocol: str, why: list[str]) -> None:
    left = [w for w in words if w.lower() not in _QUIET]
    if not left:
        return
    if protocol in ("icmp", "icmp6"):
        why.append(f"the ICMP match {' '.join(left)!r}")
    else:
        why.append(f"the match {' '.join(left)!r}")
