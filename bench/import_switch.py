"""Time ``netseg import switch`` on a generated fabric of 1,000-host scale.

50 leaf switches (IOS, NX-OS, EOS and Junos ``set`` style in turn) of 48 ports each: ports 1-40
are trunks to hypervisor NICs (1,000 hosts with two NICs each, on two neighbouring leaves),
41-46 access ports, 47-48 uplinks that link the leaves in a ring; four SVIs per switch with an
inbound ACL on the first. Each switch has its LLDP neighbour table, and ``--hosts-from`` names a
1,000-host / 50,000-guest estate whose NICs are cabled from those tables. The import is the
full pipeline: read, merge, cable, check with the topology loader, JSON text.

``python -m bench.import_switch [--switches 50 --hosts 1000 --guests 50000]`` prints the seconds
(and CPU seconds, steadier on a shared machine) and the peak RSS; the target is under 60 s and
2 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.imports import peak_rss_mib, timed_import

DIALECTS = ("ios", "nxos", "eos", "junos")
VLANS = (10, 20, 30, 40)


def port_name(dialect: str, n: int) -> str:
    return {"ios": f"GigabitEthernet1/0/{n}", "nxos": f"Ethernet1/{n}", "eos": f"Ethernet{n}"}.get(
        dialect, f"xe-0/0/{n}"
    )


def _svi_subnet(s: int, k: int) -> str:
    return f"10.{s}.{k}.1"


def config(s: int, dialect: str) -> str:
    name = f"leaf{s:02d}"
    if dialect == "junos":
        out = [f"set system host-name {name}"]
        out += [f"set vlans v{v} vlan-id {v}" for v in VLANS]
        for n in range(1, 49):
            p = port_name(dialect, n)
            if 41 <= n <= 46:
                out.append(f"set interfaces {p} unit 0 family ethernet-switching vlan members v10")
            else:
                out.append(
                    f"set interfaces {p} unit 0 family ethernet-switching interface-mode trunk"
                )
                out.append(f"set interfaces {p} unit 0 family ethernet-switching vlan members all")
        for k, v in enumerate(VLANS):
            out.append(f"set interfaces irb unit {v} family inet address {_svi_subnet(s, k)}/24")
            out.append(f"set vlans v{v} l3-interface irb.{v}")
        out.append("set interfaces irb unit 10 family inet filter input MGMT")
        out.append("set firewall family inet filter MGMT term a from destination-port 443")
        out.append("set firewall family inet filter MGMT term a from protocol tcp")
        out.append("set firewall family inet filter MGMT term a then accept")
        return "\n".join(out) + "\n"
    head = {
        "ios": ["version 15.2", f"hostname {name}", "vlan 10,20,30,40"],
        "nxos": ["!Command: show running-config", "feature lacp", f"hostname {name}",
                 "system default switchport", "vlan 1,10,20,30,40"],
        "eos": [f"! device: {name} (DCS-7050SX3, EOS-4.28.3M)", f"hostname {name}", "vlan 10,20,30,40"],
    }[dialect]  # fmt: skip
    out = [*head, "!"]
    for n in range(1, 49):
        out.append(f"interface {port_name(dialect, n)}")
        if 41 <= n <= 46:
            out += [" switchport mode access", " switchport access vlan 10"]
        else:
            out += [
                " switchport mode trunk",
                " switchport trunk allowed vlan 10,20,30",
                " switchport trunk allowed vlan add 40",
            ]
        out.append("!")
    for k, v in enumerate(VLANS):
        mask = " 255.255.255.0" if dialect == "ios" else "/24"
        out += [f"interface Vlan{v}", f" ip address {_svi_subnet(s, k)}{mask}"]
        if k == 0:
            out.append(" ip access-group MGMT in")
        out.append("!")
    acl = "ip access-list extended MGMT" if dialect == "ios" else "ip access-list MGMT"
    out += [acl, " permit tcp any any eq 443", " deny ip any any", "!", "end"]
    return "\n".join(out) + "\n"


def lldp(dialect: str, sightings: list[tuple[int, str, str]]) -> str:
    if dialect == "junos":
        out = [
            "Local Interface    Parent Interface    Chassis Id          Port info          System Name"
        ]
        out += [
            f"{port_name(dialect, n):<19}-                   00:50:56:00:00:01   {port:<18} {host}"
            for n, port, host in sightings
        ]
        return "\n".join(out) + "\n"
    out = []
    for n, port, host in sightings:
        out += [
            "------------------------------------------------",
            f"Local Intf: {port_name(dialect, n)}",
            "Chassis id: 0050.5600.0001",
            f"Port id: {port}",
            f"Port Description: {port}",
            f"System Name: {host}",
            "",
            "System Description:",
            "generated",
            "",
            "Time remaining: 100 seconds",
            "System Capabilities: B",
            "Enabled Capabilities: B",
            "Management Addresses - not advertised",
            "Vlan ID: - not advertised",
            "",
        ]
    return "\n".join(out) + "\n"


def estate(hosts: int, guests: int) -> dict[str, Any]:
    per_host = max(guests // max(hosts, 1), 0)
    doc: dict[str, Any] = {"netseg": 1, "name": "hosts", "hosts": [], "guests": []}
    for h in range(hosts):
        name = f"esx{h:04d}"
        doc["hosts"].append({
            "name": name, "hypervisor": "esxi",
            "nics": [{"name": "vmnic0"}, {"name": "vmnic1"}],
            "vswitches": [{"name": "vSwitch0", "uplinks": ["vmnic0"], "portgroups": [{"name": "pg20", "vlan": 20}]},
                          {"name": "vSwitch1", "uplinks": ["vmnic1"], "portgroups": [{"name": "mgmt", "vlan": 10}]}],
            "management": [{"name": "vmk0", "portgroup": "mgmt", "address": f"10.{h % 50}.0.{10 + h // 50}/24"}],
            "firewall": {"default": "deny", "allow": [{"from": "management"}]},
        })  # fmt: skip
        for g in range(per_host):
            n = h * per_host + g
            doc["guests"].append({
                "name": f"vm{n:06d}", "host": name,
                "nics": [{"portgroup": "pg20", "mac": f"02:00:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}:01"}],
            })  # fmt: skip
    return doc


def generate(folder: Path, switches: int, hosts: int, guests: int) -> tuple[list[str], Path]:
    sightings: dict[int, list[tuple[int, str, str]]] = {s: [] for s in range(switches)}
    for h in range(hosts):
        slot = (h // switches) * 2 + 1
        sightings[h % switches].append((slot, "vmnic0", f"esx{h:04d}.example.net"))
        sightings[(h + 1) % switches].append((slot + 1, "vmnic1", f"esx{h:04d}.example.net"))
    inputs = []
    for s in range(switches):
        dialect = DIALECTS[s % len(DIALECTS)]
        cfg = folder / f"leaf{s:02d}.cfg"
        cfg.write_text(config(s, dialect), encoding="utf-8")
        table = folder / f"leaf{s:02d}.lldp.txt"
        peer = (s + 1) % switches
        ring = [(48, port_name(DIALECTS[peer % len(DIALECTS)], 47), f"leaf{peer:02d}")]
        table.write_text(lldp(dialect, sorted(sightings[s]) + ring), encoding="utf-8")
        inputs += [str(cfg), str(table)]
    hosts_file = folder / "hosts.json"
    hosts_file.write_text(json.dumps(estate(hosts, guests)), encoding="utf-8")
    return inputs, hosts_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--guests", type=int, default=50000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        inputs, hosts_file = generate(Path(tmp), args.switches, args.hosts, args.guests)
        timed = timed_import("switch", inputs, {"hosts_from": str(hosts_file)}, name="fabric")
    result, seconds, cpu, rss_mb = timed.result, timed.seconds, timed.cpu, peak_rss_mib()
    document = json.loads(result.text)
    cabled = sum(1 for h in document["hosts"] for n in h["nics"] if n.get("port"))
    links = len(document.get("links", []))
    print(
        f"import_switch: {args.switches} switches x 48 ports, {args.hosts} hosts, {args.guests} guests: "
        f"{seconds:.2f} s ({cpu:.2f} s CPU), peak RSS {rss_mb:.0f} MB, {result.counts['switches']} switches, "
        f"{result.counts['routers']} routers, {cabled} NICs cabled, {links} links, "
        f"{len(result.warnings)} warnings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
