"""Topologies for the diagram and report tests: every hypervisor, hostile names, crowds."""

from __future__ import annotations

import functools

import netseg
from netseg.model.topology import Topology

MIXED = """\
netseg: 1
name: mixed "lab" <&>
zones:
  admin: {}
  web: {}
  db: {}
policy:
  allow:
    - {from: admin, to: management, services: [tcp/443]}
    - {from: web, to: db, services: tcp/5432}
  waivers:
    - {rule: guest-reaches-management, subject: "guest:waived-vm/nic0", why: "lab, ticket LAB-1"}
switches:
  - name: tor1
    ports:
      - {name: Eth1/1, mode: trunk, allowed: "10-99", native: 1}
      - {name: Eth1/2, mode: access, vlan: 99}
      - {name: Eth1/3, mode: trunk, allowed: "10,20,99"}
      - {name: Eth1/10, mode: access, vlan: 5}
      - {name: Eth1/48, mode: trunk, allowed: "5-99"}
  - name: core
    ports:
      - {name: Eth1/48, mode: trunk, allowed: "5-99"}
links:
  - [tor1:Eth1/48, core:Eth1/48]
routers:
  - name: core-fw
    interfaces:
      - {name: vlan10, switch: core, vlan: 10, address: 198.51.100.1/26}
      - {name: vlan5, switch: core, vlan: 5, address: 192.0.2.1/26}
      - {name: vlan99, switch: core, vlan: 99, address: 203.0.113.1/26}
    acl:
      - {action: permit, from: admin, to: management, services: tcp/443}
      - {action: permit, from: any, to: any}
endpoints:
  - {name: jump1, zone: admin, switch: tor1, port: Eth1/10, address: 192.0.2.10/26}
hosts:
  - name: esx01
    hypervisor: esxi
    nics:
      - {name: vmnic0, switch: tor1, port: Eth1/1}
      - {name: vmnic1, switch: tor1, port: Eth1/2}
    vswitches:
      - name: vSwitch0
        type: standard
        uplinks: [vmnic1]
        portgroups:
          - {name: Management Network, vlan: 0}
      - name: vSwitch1
        type: standard
        uplinks: [vmnic0]
        portgroups:
          - {name: prod, vlan: 10}
          - {name: db, vlan: 20}
          - {name: sniffer, vlan: 4095}
    management:
      - {name: vmk0, portgroup: Management Network, address: 203.0.113.11/26}
  - name: xen1
    hypervisor: xen
    nics:
      - {name: eth0, switch: tor1, port: Eth1/3}
    vswitches:
      - {name: xenbr0, type: bridge, uplinks: [eth0]}
      - {name: xenbr10, type: bridge, uplinks: [eth0.10]}
    management:
      - {name: xenbr0, vswitch: xenbr0, address: 203.0.113.12/26}
  - name: hv01
    hypervisor: hyperv
    nics:
      - {name: NIC1}
    vswitches:
      - {name: External, type: external, uplinks: [NIC1], allow_management_os: true}
    management:
      - {name: "vEthernet (External)", vswitch: External, vlan: 98}
    firewall: {default: deny, allow: [{from: admin, services: tcp/3389}]}
guests:
  - {name: web01, host: esx01, zone: web, nics: [{portgroup: prod, address: 198.51.100.21/26}]}
  - {name: "db \\"01\\"", host: esx01, zone: db, nics: [{portgroup: db}]}
  - {name: ids, host: esx01, zone: admin, nics: [{portgroup: sniffer}]}
  - {name: "web02 <b>&amp;", host: xen1, zone: web, nics: [{vswitch: xenbr10, address: 198.51.100.22/26}]}
  - {name: "tool\\\\", host: xen1, zone: web, nics: [{vswitch: xenbr0}]}
  - {name: waived-vm, host: xen1, zone: web, nics: [{vswitch: xenbr0, address: 203.0.113.20/26}]}
  - {name: "a/b c", host: hv01, zone: web, nics: [{vswitch: External, vlan: 10}]}
"""


def mixed() -> Topology:
    return netseg.loads(MIXED, file="tests/mixed.yaml")


def crowd(guests: int, *, reaching: int = 0, zones: int = 1) -> Topology:
    """One ESXi host: ``guests`` guests on port group ``prod`` (VLAN 10), the first
    ``reaching`` of them on the management VLAN's port group instead of ``prod`` too (so
    they reach vmk0), spread round-robin over ``zones`` zones."""
    zone_names = [f"z{i}" for i in range(zones)]
    lines = [
        "netseg: 1",
        "name: crowd",
        "zones: {" + ", ".join(f"{z}: {{}}" for z in zone_names) + "}",
        "hosts:",
        "  - name: esx01",
        "    hypervisor: esxi",
        "    firewall: {default: allow}",
        "    nics: [{name: vmnic0}]",
        "    vswitches:",
        "      - name: vSwitch0",
        "        type: standard",
        "        uplinks: [vmnic0]",
        "        portgroups:",
        "          - {name: prod, vlan: 10}",
        "          - {name: mgmt, vlan: 99}",
        "    management:",
        "      - {name: vmk0, portgroup: mgmt, address: 203.0.113.11/24}",
        "guests:",
    ]
    for i in range(guests):
        pg = "mgmt" if i < reaching else "prod"
        lines.append(
            f"  - {{name: vm{i:04d}, host: esx01, zone: {zone_names[i % zones]}, "
            f"nics: [{{portgroup: {pg}}}]}}"
        )
    return netseg.loads("\n".join(lines) + "\n", file="crowd.yaml")


def estate(shape: str = "segmented", guests: int = 600) -> Topology:
    """A generated estate past the overview threshold (12 hosts, bench/shapes.py): racks of
    hosts, zones, management VLANs, routers, a few deliberate mistakes; ``flat`` puts the
    management interfaces on the guests' VLAN, so the highlighted findings are there."""
    import json

    from bench.shapes import generate_shape

    return netseg.loads(json.dumps(generate_shape(shape, guests)), file=f"{shape}.json")


@functools.cache
def views() -> dict[str, str]:
    """The DOT of each kind of drawing besides the examples' full detail: the overview of a
    large estate (with violations), a zone's detail and a segment's detail."""
    from netseg.analysis import analyse
    from netseg.render.dot import HIGHLIGHT_RULES, render_dot

    flat = estate("flat")
    a = analyse(flat, rules=HIGHLIGHT_RULES)
    m = mixed()
    b = analyse(m, rules=HIGHLIGHT_RULES)
    seg = next(  # the first segment with a privileged domain's interface in it
        s.id
        for s in b.reachability.segments
        if any(x.kind == "management" for x in b.reachability.attachments_in(s.id))
    )
    return {
        "overview": render_dot(flat, a.reachability, a.findings),
        "zone": render_dot(flat, a.reachability, a.findings, zone="web"),
        "segment": render_dot(m, b.reachability, b.findings, segment=str(seg)),
    }
