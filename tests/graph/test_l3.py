"""Layer 3 (router ACLs, first match per service, transit between routers) and the host
firewall, computed over service sets."""

from __future__ import annotations

import pytest

from netseg.errors import SelectorError
from netseg.model.services import ServiceSet
from tests.graph.conftest import reach

BASE = """
zones: {admin: {}, web: {}}
policy:
  allow:
    - {from: admin, to: management, services: tcp/443}
switches:
  - name: tor1
    ports:
      - {name: p1, mode: trunk, allowed: "10,20,99", native: none}
      - {name: a20, mode: access, vlan: 20}
endpoints:
  - {name: jump, zone: admin, switch: tor1, port: a20, address: 198.51.100.70/26}
  - {name: noaddr, zone: admin, switch: tor1, vlan: 20}
hosts:
  - name: esx01
    hypervisor: esxi
    nics: [{name: vmnic0, switch: tor1, port: p1}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0]
        portgroups: [{name: mgmt, vlan: 99}, {name: web, vlan: 10}]
    management:
      - {name: vmk0, portgroup: mgmt, address: 198.51.100.130/26}
    FIREWALL
guests:
  - {name: web01, host: esx01, zone: web, nics: [{portgroup: web, address: 198.51.100.10/26}]}
"""

ROUTER = """
routers:
  - name: fw
    interfaces:
      - {name: v10, switch: tor1, vlan: 10, address: 198.51.100.1/26}
      - {name: v20, switch: tor1, vlan: 20, address: 198.51.100.65/26}
      - {name: v99, switch: tor1, vlan: 99, address: 198.51.100.129/26}
    acl:
ACL
"""


def build(acl: str, firewall: str = "", default: str = "deny") -> str:
    body = BASE.replace("FIREWALL", firewall) + ROUTER.replace("ACL", acl)
    return body + f"    default: {default}\n"


def test_first_matching_line_decides_per_service_and_lines_without_the_service_are_skipped() -> (
    None
):
    r = reach(
        build(
            """      - {action: permit, from: web, to: management, services: [tcp/22]}
      - {action: deny, from: any, to: management, services: [tcp/22-23, tcp/443]}
      - {action: permit, from: any, to: any, services: [tcp]}"""
        )
    )
    got = r.services("guest:web01/nic0", "management:esx01/vmk0")
    # tcp/22 permitted by line 1; tcp/23 and 443 denied by line 2; the rest of tcp by line 3
    expected = ServiceSet.parse("tcp") - ServiceSet.parse(["tcp/23", "tcp/443"])
    assert got == expected
    pair = r.pair("guest:web01/nic0", "management:esx01/vmk0")
    assert pair is not None and pair.mode == "l3" and pair.via == ("router:fw",)
    refs = [h.ref for h in pair.path]
    assert refs.index("router:fw/v10") < refs.index("acl:fw/1") < refs.index("router:fw/v99")
    assert "acl:fw/3" in refs and "acl:fw/2" not in refs
    assert pair.violating == expected  # the policy allows web nothing to management


def test_default_permit_applies_to_what_no_line_took() -> None:
    r = reach(build("      - {action: deny, from: any, to: any, services: udp}", default="permit"))
    got = r.services("guest:web01/nic0", "management:esx01/vmk0")
    assert got == ServiceSet.any() - ServiceSet.parse("udp")


def test_zone_and_prefix_peers() -> None:
    acl = """      - {action: permit, from: 198.51.100.64/26, to: 198.51.100.130/32, services: tcp/443}
      - {action: permit, from: admin, to: management, services: tcp/22}"""
    r = reach(build(acl))
    assert r.services("endpoint:jump", "management:esx01/vmk0") == ServiceSet.parse(
        ["tcp/22", "tcp/443"]
    )
    # an endpoint without address is not routed at all
    assert not r.services("endpoint:noaddr", "management:esx01/vmk0")
    assert not r.services("guest:web01/nic0", "management:esx01/vmk0")


def test_host_firewall_filters_what_the_router_lets_through() -> None:
    fw = """firewall:
      default: deny
      allow:
        - {from: admin, services: [tcp/443, tcp/902]}
        - {from: 203.0.113.0/24, services: tcp/22}"""
    r = reach(build("      - {action: permit, from: any, to: any}", firewall=fw))
    assert r.services("endpoint:jump", "management:esx01/vmk0") == ServiceSet.parse(
        ["tcp/443", "tcp/902"]
    )
    assert not r.services("guest:web01/nic0", "management:esx01/vmk0")
    pair = r.pair("endpoint:jump", "management:esx01/vmk0")
    assert pair is not None and pair.path[-1].ref == "firewall:esx01/1"
    assert pair.allowed == ServiceSet.parse("tcp/443")
    assert pair.violating == ServiceSet.parse("tcp/902")


def test_multi_router_transit_applies_each_acl_in_turn() -> None:
    body = (
        BASE.replace("FIREWALL", "")
        + """
routers:
  - name: edge
    interfaces:
      - {name: v10, switch: tor1, vlan: 10, address: 198.51.100.1/26}
      - {name: t, switch: tor1, vlan: 30, address: 203.0.113.1/29}
    acl:
      - {action: permit, from: any, to: any, services: tcp}
  - name: core
    interfaces:
      - {name: t, switch: tor1, vlan: 30, address: 203.0.113.2/29}
      - {name: v99, switch: tor1, vlan: 99, address: 198.51.100.129/26}
    acl:
      - {action: permit, from: web, to: management, services: [tcp/443, udp/53]}
"""
    )
    r = reach(body)
    pair = r.pair("guest:web01/nic0", "management:esx01/vmk0")
    assert pair is not None
    assert pair.services == ServiceSet.parse("tcp/443")
    assert pair.via == ("router:edge", "router:core")
    refs = [h.ref for h in pair.path]
    assert refs.index("router:edge/t") < refs.index("router:core/t") < refs.index("router:core/v99")


def test_no_address_means_no_routed_path() -> None:
    body = build("      - {action: permit, from: any, to: any}").replace(
        ", address: 198.51.100.10/26", ""
    )
    r = reach(body)
    assert not r.services("guest:web01/nic0", "management:esx01/vmk0")


def test_l2_adjacent_pairs_get_everything_and_the_reach_is_symmetric() -> None:
    body = build("      - {action: deny, from: any, to: any}").replace(
        "{portgroup: web, address: 198.51.100.10/26}",
        "{portgroup: mgmt, address: 198.51.100.140/26}",
    )
    r = reach(body)
    pair = r.pair("guest:web01/nic0", "management:esx01/vmk0")
    assert pair is not None and pair.mode == "l2" and pair.services.is_any()
    assert r.services("management:esx01/vmk0", "guest:web01/nic0").is_any()


def test_default_pairs_are_every_guest_to_every_management_interface() -> None:
    r = reach(build("      - {action: permit, from: any, to: any}"))
    assert [(p.source, p.destination) for p in r.pairs()] == [
        ("guest:web01/nic0", "management:esx01/vmk0")
    ]


def test_unknown_selector_names_nearby_valid_ones() -> None:
    r = reach(build("      - {action: permit, from: any, to: any}"))
    with pytest.raises(SelectorError, match="guest:web01"):
        r.select("guest:web1")
    with pytest.raises(SelectorError, match="zone:admin"):
        r.select("zone:admn")
    assert [a.ref for a in r.select("zone:admin")] == ["endpoint:jump", "endpoint:noaddr"]
    assert [a.ref for a in r.select("host:esx01")] == ["guest:web01/nic0", "management:esx01/vmk0"]
