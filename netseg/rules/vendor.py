"""The vendor's own commands for an edit of the topology, for the system where it is applied.

Pure text generation from model values (no I/O): esxcli for standard vSwitch port groups,
PowerCLI for distributed switches, Hyper-V PowerShell, Cisco IOS/NX-OS/EOS interface
configuration, and the privileged domain's firewall as an nftables ruleset (Xen dom0),
``esxcli network firewall`` (ESXi) or ``New-NetFirewallRule`` (Hyper-V).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netseg.model.services import ServiceSet
from netseg.model.topology import Network

#: The table the generated dom0 ruleset owns (flushed and redefined on every load).
NFT_TABLE = "netseg_dom0"


@dataclass(frozen=True, slots=True)
class Command:
    """Commands for one system: ``where`` names it (``esx01 (esxcli)``), ``language`` is one
    of ``esxcli``, ``powercli``, ``powershell``, ``ios``, ``nft``, ``shell``."""

    where: str
    language: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"where": self.where, "language": self.language, "text": self.text}


@dataclass(frozen=True, slots=True)
class FirewallAllow:
    """One allow line of a generated management firewall: where from (the zone's name for
    people, its prefixes for the device) and on which services."""

    label: str
    prefixes: tuple[Network, ...]
    services: ServiceSet
    why: str = ""


def _q(text: str) -> str:
    """A PowerShell/esxcli single-quoted string."""
    return "'" + text.replace("'", "''") + "'"


# --- ESXi ---------------------------------------------------------------------------------

_ESXCLI_SECURITY = {
    "promiscuous": "--allow-promiscuous",
    "mac_changes": "--allow-mac-change",
    "forged_transmits": "--allow-forged-transmits",
}
_POWERCLI_SECURITY = {
    "promiscuous": "-AllowPromiscuous",
    "mac_changes": "-MacChanges",
    "forged_transmits": "-ForgedTransmits",
}


def esxi_portgroup_security(
    host: str, vswitch: str, vswitch_type: str, portgroup: str, setting: str, value: bool
) -> Command:
    if vswitch_type == "distributed":
        flag = _POWERCLI_SECURITY[setting]
        text = (
            f"Get-VDPortgroup -Name {_q(portgroup)} -VDSwitch {_q(vswitch)} | "
            f"Get-VDSecurityPolicy | Set-VDSecurityPolicy {flag} ${str(value).lower()}"
        )
        return Command(f"vCenter, distributed switch {vswitch} (PowerCLI)", "powercli", text)
    text = (
        f"esxcli network vswitch standard portgroup policy security set "
        f"--portgroup-name={_q(portgroup)} {_ESXCLI_SECURITY[setting]}={str(value).lower()}"
    )
    return Command(f"{host} (esxcli)", "esxcli", text)


def esxi_portgroup_vlan(
    host: str, vswitch: str, vswitch_type: str, portgroup: str, vlan: int | str
) -> Command:
    """Set a port group's VLAN: an access VLAN (int), or a trunk range (text, distributed)."""
    if vswitch_type == "distributed":
        how = f"-VlanId {vlan}" if isinstance(vlan, int) else f"-VlanTrunkRange {_q(vlan)}"
        text = f"Get-VDPortgroup -Name {_q(portgroup)} -VDSwitch {_q(vswitch)} | Set-VDVlanConfiguration {how}"
        return Command(f"vCenter, distributed switch {vswitch} (PowerCLI)", "powercli", text)
    vid = 4095 if not isinstance(vlan, int) else vlan
    text = f"esxcli network vswitch standard portgroup set --portgroup-name={_q(portgroup)} --vlan-id={vid}"
    return Command(f"{host} (esxcli)", "esxcli", text)


def esxi_new_portgroup(
    host: str, vswitch: str, vswitch_type: str, portgroup: str, vlan: int
) -> list[Command]:
    if vswitch_type == "distributed":
        text = (
            f"Get-VDSwitch -Name {_q(vswitch)} | New-VDPortgroup -Name {_q(portgroup)} "
            f"-VlanId {vlan}"
        )
        return [Command(f"vCenter, distributed switch {vswitch} (PowerCLI)", "powercli", text)]
    return [
        Command(
            f"{host} (esxcli)",
            "esxcli",
            f"esxcli network vswitch standard portgroup add --portgroup-name={_q(portgroup)} "
            f"--vswitch-name={_q(vswitch)}\n"
            f"esxcli network vswitch standard portgroup set --portgroup-name={_q(portgroup)} "
            f"--vlan-id={vlan}",
        )
    ]


def esxi_move_vm_nic(vm: str, nic_index: int, portgroup: str) -> Command:
    text = (
        f"Get-VM -Name {_q(vm)} | Get-NetworkAdapter | Select-Object -Index {nic_index} | "
        f"Set-NetworkAdapter -NetworkName {_q(portgroup)} -Confirm:$false"
    )
    return Command(f"vCenter, VM {vm} (PowerCLI)", "powercli", text)


# ESXi firewall rulesets by the services they open (the built-in ruleset ids).
_ESXI_RULESETS = (
    ("sshServer", "tcp/22"),
    ("vSphereClient", "tcp/443,tcp/902"),
    ("webAccess", "tcp/80"),
    ("CIMHttpsServer", "tcp/5989"),
    ("vMotion", "tcp/8000"),
)


def esxi_firewall(host: str, allows: Sequence[FirewallAllow]) -> Command:
    """Default deny, then per built-in ruleset the allowed prefixes (only the rulesets whose
    services an allow line names; ``--allowed-all=false`` restricts a ruleset to its list)."""
    lines = ["esxcli network firewall set --default-action=false --enabled=true"]
    for ruleset, services in _ESXI_RULESETS:
        wanted = ServiceSet.parse(services.split(","))
        prefixes = [
            p for a in allows if not (a.services & wanted).isdisjoint(wanted) for p in a.prefixes
        ]
        if not prefixes:
            continue
        lines.append(
            f"esxcli network firewall ruleset set --ruleset-id={ruleset} --enabled=true "
            f"--allowed-all=false"
        )
        for p in dict.fromkeys(prefixes):
            lines.append(
                f"esxcli network firewall ruleset allowedip add --ruleset-id={ruleset} "
                f"--ip-address={p}"
            )
    lines.append("esxcli network firewall refresh")
    return Command(f"{host} (esxcli)", "esxcli", "\n".join(lines))


# --- Hyper-V ------------------------------------------------------------------------------


def hyperv_adapter(host: str, vm: str, nic: str, setting: str) -> Command:
    """``setting`` is the Set-VMNetworkAdapter parameter and value (``-DhcpGuard On``)."""
    text = f"Set-VMNetworkAdapter -VMName {_q(vm)} -Name {_q(nic)} {setting}"
    return Command(f"{host} (Hyper-V PowerShell)", "powershell", text)


def hyperv_switch(host: str, switch: str, setting: str) -> Command:
    text = f"Set-VMSwitch -Name {_q(switch)} {setting}"
    return Command(f"{host} (Hyper-V PowerShell)", "powershell", text)


def hyperv_vlan(host: str, vm: str, nic: str, how: str) -> Command:
    text = f"Set-VMNetworkAdapterVlan -VMName {_q(vm)} -VMNetworkAdapterName {_q(nic)} {how}"
    return Command(f"{host} (Hyper-V PowerShell)", "powershell", text)


def hyperv_firewall(host: str, allows: Sequence[FirewallAllow]) -> Command:
    lines = [
        "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True "
        "-DefaultInboundAction Block"
    ]
    for k, a in enumerate(allows, 1):
        if not a.prefixes:
            continue
        remote = ",".join(str(p) for p in a.prefixes)
        for proto, ports in _by_protocol(a.services):
            name = f"netseg {k} {a.label} {proto}{' ' + ports if ports else ''}".strip()
            cmd = (
                f"New-NetFirewallRule -DisplayName {_q(name)} -Direction Inbound -Action Allow "
                f"-RemoteAddress {remote}"
            )
            if proto != "any":
                cmd += f" -Protocol {proto.upper() if proto in ('tcp', 'udp') else proto}"
            if ports:
                cmd += f" -LocalPort {ports}"
            lines.append(cmd)
    return Command(f"{host} (Hyper-V PowerShell)", "powershell", "\n".join(lines))


# --- physical switches ----------------------------------------------------------------------


def switch_interface(switch: str, port: str, lines: Iterable[str]) -> Command:
    body = "\n".join(f" {line}" for line in lines)
    return Command(f"switch {switch} (Cisco IOS / NX-OS / EOS)", "ios", f"interface {port}\n{body}")


def acl_deny(
    router: str,
    sequence: int,
    sources: Sequence[Network],
    destinations: Sequence[Network],
    services: ServiceSet,
) -> Command:
    """An IOS extended ACL entry per (source, destination, protocol) inserted at ``sequence``:
    the ACL is first renumbered 10, 20, … in its order (the model's order), so the entry lands
    between the model's neighbours whatever edits came before."""
    lines = [f"ip access-list resequence {router} 10 10", f"ip access-list extended {router}"]
    seq = sequence
    for s in sources or (None,):
        for d in destinations or (None,):
            for proto, ports in _by_protocol(services):
                p = "ip" if proto == "any" else proto
                entry = f" {seq} deny {p} {_ios_net(s)} {_ios_net(d)}"
                if ports:
                    entry += f" range {ports.replace(',', ' ')}" if "-" in ports else ""
                    if "-" not in ports:
                        entry += " eq " + ports.replace(",", " ")
                lines.append(entry)
                seq += 1
    return Command(f"router {router} (Cisco IOS)", "ios", "\n".join(lines))


def _ios_net(net: Network | None) -> str:
    if net is None or net.prefixlen == 0:
        return "any"
    if net.num_addresses == 1:
        return f"host {net.network_address}"
    return f"{net.network_address} {net.hostmask}"


# --- Xen dom0 -----------------------------------------------------------------------------


def _by_protocol(services: ServiceSet) -> list[tuple[str, str]]:
    """(protocol, ports as ``22,443,8000-8100`` or empty for the whole protocol)."""
    if services.is_any():
        return [("any", "")]
    grouped: dict[str, list[str]] = {}
    for item in services.items():
        proto, _, ports = item.partition("/")
        grouped.setdefault(proto, [])
        if ports:
            grouped[proto].append(ports)
    return [(proto, ",".join(ports)) for proto, ports in grouped.items()]


def nft_ruleset(host: str, allows: Sequence[FirewallAllow], *, why: str = "") -> str:
    """dom0's inbound firewall as an nftables ruleset (``nft -f FILE``): default drop,
    replies and loopback accepted, IPv6 neighbour discovery accepted (without it no IPv6
    address works), then one line per allow. Loading it twice gives the same rules."""
    out = [
        "#!/usr/sbin/nft -f",
        f"# dom0 firewall of {host}, generated by netseg fix{': ' + why if why else ''}",
        f"table inet {NFT_TABLE}",
        f"flush table inet {NFT_TABLE}",
        f"table inet {NFT_TABLE} {{",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        '\t\tiifname "lo" accept',
        "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept",
    ]
    for a in allows:
        if not a.prefixes:
            out.append(f"\t\t# {a.label}: no addresses declared in the topology, nothing allowed")
            continue
        comment = f' comment "{a.label}"'
        for family, nets in (
            ("ip", [p for p in a.prefixes if isinstance(p, ipaddress.IPv4Network)]),
            ("ip6", [p for p in a.prefixes if isinstance(p, ipaddress.IPv6Network)]),
        ):
            if not nets:
                continue
            match = f"{family} saddr {_nft_set(str(n) for n in nets)}"
            for proto, ports in _by_protocol(a.services):
                if proto == "any":
                    out.append(f"\t\t{match} accept{comment}")
                elif proto in ("tcp", "udp") and ports:
                    ports_nft = _nft_set(p.replace(",", ", ") for p in ports.split(","))
                    out.append(f"\t\t{match} {proto} dport {ports_nft} accept{comment}")
                elif proto in ("tcp", "udp", "sctp"):
                    out.append(f"\t\t{match} meta l4proto {proto} accept{comment}")
                elif proto == "icmp" and family == "ip":
                    out.append(f"\t\t{match} meta l4proto icmp accept{comment}")
                elif proto == "icmp6" and family == "ip6":
                    out.append(f"\t\t{match} meta l4proto ipv6-icmp accept{comment}")
    out += ["\t}", "}", ""]
    return "\n".join(out)


def _nft_set(items: Iterable[str]) -> str:
    values = list(items)
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"


def xen_firewall(host: str, allows: Sequence[FirewallAllow]) -> Command:
    return Command(f"{host} dom0 (nftables: nft -f FILE)", "nft", nft_ruleset(host, allows))
