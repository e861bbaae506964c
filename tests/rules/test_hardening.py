"""Configuration-hardening rules: for each rule a minimal design where it fires and a
near-identical one where it must not.

Designs start from a hardened baseline per hypervisor (which must produce no finding at all)
and change one thing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

import netseg
from netseg.model.topology import Topology
from netseg.rules.catalogue import HARDENING_RULES
from netseg.rules.finding import Finding
from netseg.rules.hardening import hardening_findings

SECURE = {"promiscuous": False, "mac_changes": False, "forged_transmits": False}
GUARDED = {"dhcp_guard": True, "router_guard": True, "mac_spoofing": False}


def _switch() -> dict[str, Any]:
    return {
        "name": "tor1",
        "ports": [
            {"name": "Eth1/1", "mode": "trunk", "allowed": "10-99", "native": "none"},
            {"name": "Eth1/2", "mode": "trunk", "allowed": "10-99", "native": "none"},
        ],
    }


def _common(host: dict[str, Any], guests: list[dict[str, Any]]) -> dict[str, Any]:
    host.setdefault(
        "firewall",
        {
            "default": "deny",
            "allow": [
                {"from": "management", "services": "tcp/443"},
                {"from": "203.0.113.0/24", "services": "tcp/22"},
            ],
        },
    )
    return {
        "netseg": 1,
        "name": "hardening",
        "zones": {"web": {}},
        "switches": [_switch()],
        "hosts": [host],
        "guests": guests,
    }


def esxi() -> dict[str, Any]:
    host = {
        "name": "esx01",
        "hypervisor": "esxi",
        "nics": [
            {"name": "vmnic0", "switch": "tor1", "port": "Eth1/1"},
            {"name": "vmnic1", "switch": "tor1", "port": "Eth1/2"},
        ],
        "vswitches": [
            {
                "name": "vSwitch0",
                "type": "standard",
                "uplinks": ["vmnic0"],
                "security": dict(SECURE),
                "portgroups": [{"name": "Management Network", "vlan": 99}],
            },
            {
                "name": "vSwitch1",
                "type": "standard",
                "uplinks": ["vmnic1"],
                "security": dict(SECURE),
                "portgroups": [{"name": "prod", "vlan": 10}],
            },
        ],
        "management": [
            {"name": "vmk0", "portgroup": "Management Network", "address": "192.0.2.11/24"}
        ],
    }
    guest = {
        "name": "web01",
        "host": "esx01",
        "zone": "web",
        "nics": [{"portgroup": "prod", "address": "198.51.100.21/24"}],
    }
    return _common(host, [guest])


def hyperv() -> dict[str, Any]:
    host = {
        "name": "hv01",
        "hypervisor": "hyperv",
        "nics": [
            {"name": "NIC1", "switch": "tor1", "port": "Eth1/1"},
            {"name": "NIC2", "switch": "tor1", "port": "Eth1/2"},
        ],
        "vswitches": [{"name": "External", "type": "external", "uplinks": ["NIC1"]}],
        "management": [{"name": "mgmt", "nic": "NIC2", "address": "192.0.2.12/24"}],
    }
    guest = {
        "name": "web01",
        "host": "hv01",
        "zone": "web",
        "nics": [{"vswitch": "External", "vlan": 10, "guards": dict(GUARDED)}],
    }
    return _common(host, [guest])


def xen() -> dict[str, Any]:
    host = {
        "name": "xen01",
        "hypervisor": "xen",
        "nics": [
            {"name": "eth0", "switch": "tor1", "port": "Eth1/1"},
            {"name": "eth1", "switch": "tor1", "port": "Eth1/2"},
        ],
        "vswitches": [
            {
                "name": "ddbr",
                "type": "bridge",
                "uplinks": ["eth0"],
                "vlan_filtering": True,
                "domain": "netdd",
            }
        ],
        "driver_domains": [{"name": "netdd", "nics": ["eth0"]}],
        "management": [{"name": "eth1", "nic": "eth1", "address": "192.0.2.13/24"}],
    }
    guest = {
        "name": "web01",
        "host": "xen01",
        "zone": "web",
        "nics": [{"vswitch": "ddbr", "vlan": 10}],
    }
    return _common(host, [guest])


def load(doc: dict[str, Any]) -> Topology:
    return netseg.loads(yaml.safe_dump(doc, sort_keys=False), file="t.yaml")


def findings(doc: dict[str, Any], rule: str) -> list[Finding]:
    return [f for f in hardening_findings(load(doc)) if f.rule == rule]


Change = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    """``fire`` makes the rule fire on ``subject``; ``quiet`` is the near miss."""

    rule: str
    base: Callable[[], dict[str, Any]]
    fire: Change
    quiet: Change
    subject: str
    name: str = ""


def H(doc: dict[str, Any]) -> dict[str, Any]:
    host: dict[str, Any] = doc["hosts"][0]
    return host


def G(doc: dict[str, Any]) -> dict[str, Any]:
    guest: dict[str, Any] = doc["guests"][0]
    return guest


def VS(doc: dict[str, Any], i: int = -1) -> dict[str, Any]:
    vs: dict[str, Any] = H(doc)["vswitches"][i]
    return vs


def both(*changes: Change) -> Change:
    def run(doc: dict[str, Any]) -> None:
        for c in changes:
            c(doc)

    return run


def nothing(doc: dict[str, Any]) -> None:
    pass


def set_(path: Callable[[dict[str, Any]], dict[str, Any]], **values: Any) -> Change:
    return lambda doc: path(doc).update(values)


def guest_nic(**values: Any) -> Change:
    return lambda doc: G(doc)["nics"][0].update(values)


def hv_guards(**values: Any) -> Change:
    return lambda doc: G(doc)["nics"][0]["guards"].update(values)


def add_guest_pg_on_vswitch0(doc: dict[str, Any]) -> None:
    VS(doc, 0)["portgroups"].append({"name": "web2", "vlan": 20})
    G(doc)["nics"].append({"portgroup": "web2"})


def add_mgmt_pg_to_vswitch0(doc: dict[str, Any]) -> None:
    VS(doc, 0)["portgroups"].append({"name": "vMotion", "vlan": 20})
    H(doc)["management"].append({"name": "vmk1", "portgroup": "vMotion", "services": ["vmotion"]})


def dom0_bridge(uplink: str) -> Change:
    def run(doc: dict[str, Any]) -> None:
        H(doc)["vswitches"].append({"name": "xenbr1", "type": "bridge", "uplinks": [uplink]})
        G(doc)["nics"] = [{"vswitch": "xenbr1"}]
        H(doc)["nics"].append({"name": "eth2", "switch": "tor1", "port": "Eth1/3"})
        doc["switches"][0]["ports"].append(
            {"name": "Eth1/3", "mode": "trunk", "allowed": "10-99", "native": "none"}
        )

    return run


def ovs_port(**vlan: Any) -> Change:
    def run(doc: dict[str, Any]) -> None:
        VS(doc).update(type="ovs")
        VS(doc).pop("vlan_filtering")
        G(doc)["nics"] = [{"vswitch": "ddbr", **vlan}]

    return run


def passthrough(guest: str, dd: str) -> Change:
    def run(doc: dict[str, Any]) -> None:
        G(doc)["passthrough"] = [guest]
        H(doc)["driver_domains"][0]["passthrough"] = [dd]

    return run


def hyperv_switch(**vs: Any) -> Change:
    def run(doc: dict[str, Any]) -> None:
        H(doc)["vswitches"].append(vs)
        G(doc)["nics"].append({"vswitch": vs["name"], "guards": dict(GUARDED)})

    return run


def firewall(default: str = "deny", *allow: dict[str, Any]) -> Change:
    return lambda doc: H(doc).update(firewall={"default": default, "allow": list(allow)})


def add_jump_host(doc: dict[str, Any]) -> None:
    """A physical jump host of a non-privileged zone, in the administrators' subnet."""
    doc["zones"]["admin"] = {}
    doc["switches"][0]["ports"].append({"name": "Eth1/20", "mode": "access", "vlan": 50})
    doc["endpoints"] = [
        {
            "name": "jump01",
            "zone": "admin",
            "switch": "tor1",
            "port": "Eth1/20",
            "address": "203.0.113.10/24",
        }
    ]


def drop_firewall(doc: dict[str, Any]) -> None:
    del H(doc)["firewall"]


CASES = [
    Case(
        "passthrough-without-iommu",
        esxi,
        both(set_(H, iommu=False), set_(G, passthrough=["0000:03:00.0"])),
        both(set_(H, iommu=True), set_(G, passthrough=["0000:03:00.0"])),
        "guest:web01",
        "guest",
    ),
    Case(
        "passthrough-without-iommu",
        xen,
        set_(H, iommu=False),
        nothing,
        "host:xen01",
        "driver domain",
    ),
    Case(
        "shared-pci-bus",
        xen,
        passthrough("0000:03:00.0", "0000:03:00.1"),
        passthrough("0000:03:00.0", "0000:04:00.1"),
        "guest:web01",
    ),
    Case("management-firewall-missing", esxi, drop_firewall, nothing, "host:esx01"),
    Case(
        "management-firewall-permissive",
        esxi,
        firewall("allow"),
        firewall("deny"),
        "host:esx01",
        "default allow",
    ),
    Case(
        "management-firewall-permissive",
        esxi,
        firewall("deny", {"from": "any", "services": "tcp/443"}),
        firewall("deny", {"from": "management", "services": "tcp/443"}),
        "host:esx01",
        "from any",
    ),
    Case(
        "management-firewall-permissive",
        esxi,
        firewall("deny", {"from": "web", "services": "tcp/443"}),
        firewall("deny", {"from": "management", "services": "tcp/443"}),
        "host:esx01",
        "from a guest zone",
    ),
    Case(
        "management-firewall-permissive",
        esxi,
        firewall("deny", {"from": "198.51.100.0/24", "services": "tcp/22"}),
        firewall("deny", {"from": "203.0.113.0/24", "services": "tcp/22"}),
        "host:esx01",
        "from a prefix holding guests",
    ),
    Case(
        "management-firewall-permissive",
        esxi,
        both(
            add_jump_host,
            firewall("deny", {"from": "198.51.100.0/24", "services": "tcp/22"}),
        ),
        both(
            add_jump_host,
            firewall("deny", {"from": "203.0.113.0/24", "services": "tcp/22"}),
        ),
        "host:esx01",
        "jump host subnet is fine",
    ),
    Case(
        "management-on-guest-switch",
        esxi,
        add_guest_pg_on_vswitch0,
        nothing,
        "management:esx01/vmk0",
        "esxi",
    ),
    Case(
        "management-on-guest-switch",
        hyperv,
        set_(VS, allow_management_os=True),
        set_(VS, allow_management_os=False),
        "management:hv01/vEthernet (External)",
        "allow_management_os",
    ),
    Case(
        "management-on-guest-switch",
        hyperv,
        hyperv_switch(name="Lab", type="internal"),
        hyperv_switch(name="Lab", type="private"),
        "management:hv01/vEthernet (Lab)",
        "internal switch",
    ),
    Case(
        "management-on-guest-switch",
        xen,
        lambda doc: H(doc)["management"].append(
            {"name": "ddbr", "vswitch": "ddbr", "vlan": 10, "domain": "netdd"}
        ),
        nothing,
        "management:xen01/ddbr",
        "xen",
    ),
    Case(
        "management-interface-multipurpose",
        esxi,
        lambda doc: H(doc)["management"][0].update(services=["management", "vmotion"]),
        lambda doc: H(doc)["management"][0].update(services=["management"]),
        "management:esx01/vmk0",
    ),
    Case(
        "promiscuous-allowed",
        esxi,
        lambda doc: VS(doc)["security"].update(promiscuous=True),
        lambda doc: VS(doc, 0)["security"].update(promiscuous=True),  # no guests there
        "portgroup:esx01/vSwitch1/prod",
    ),
    Case(
        "forged-transmits-allowed",
        esxi,
        lambda doc: VS(doc).pop("security"),  # standard vSwitch default: accept
        lambda doc: (VS(doc).pop("security"), VS(doc).update(type="distributed")),
        "portgroup:esx01/vSwitch1/prod",
        "vendor default",
    ),
    Case(
        "mac-changes-allowed",
        esxi,
        lambda doc: VS(doc)["portgroups"][0].update(security={"mac_changes": True}),
        lambda doc: VS(doc)["portgroups"][0].update(security={"mac_changes": False}),
        "portgroup:esx01/vSwitch1/prod",
        "port group override",
    ),
    Case(
        "guest-vlan-trunking",
        esxi,
        lambda doc: VS(doc)["portgroups"][0].update(vlan=4095),
        lambda doc: VS(doc)["portgroups"][0].update(vlan=11),
        "portgroup:esx01/vSwitch1/prod",
        "esxi 4095",
    ),
    Case(
        "guest-vlan-trunking",
        hyperv,
        guest_nic(vlan={"trunk": "10-20", "native": 0}),
        guest_nic(vlan=20),
        "guest:web01/nic0",
        "hyper-v trunk",
    ),
    Case(
        "transparent-bridge",
        xen,
        dom0_bridge("eth2"),
        dom0_bridge("eth2.30"),
        "vswitch:xen01/xenbr1",
    ),
    Case("untagged-ovs-port", xen, ovs_port(), ovs_port(vlan=10), "guest:web01/nic0"),
    Case(
        "mac-spoofing-allowed",
        hyperv,
        hv_guards(mac_spoofing=True),
        hv_guards(mac_spoofing=False),
        "guest:web01/nic0",
    ),
    Case(
        "dhcp-guard-off",
        hyperv,
        hv_guards(dhcp_guard=False),
        both(hv_guards(dhcp_guard=False), set_(G, roles=["dhcp-server"])),
        "guest:web01/nic0",
    ),
    Case(
        "router-guard-off",
        hyperv,
        hv_guards(router_guard=False),
        both(hv_guards(router_guard=False), set_(G, roles=["router"])),
        "guest:web01/nic0",
    ),
    Case(
        "native-vlan-1",
        esxi,
        lambda doc: doc["switches"][0]["ports"][0].pop("native"),  # defaults to 1
        lambda doc: doc["switches"][0]["ports"][0].update(native=5),
        "switch:tor1/Eth1/1",
        "default native",
    ),
    Case(
        "native-vlan-1",
        esxi,
        lambda doc: VS(doc)["portgroups"][0].update(vlan=1),
        lambda doc: VS(doc)["portgroups"][0].update(vlan=2),
        "portgroup:esx01/vSwitch1/prod",
        "port group",
    ),
    Case(
        "native-vlan-1",
        hyperv,
        guest_nic(vlan={"trunk": "10-20", "native": 1}),
        guest_nic(vlan={"trunk": "10-20", "native": 0}),
        "guest:web01/nic0",
        "trunk NIC native",
    ),
    Case(
        "reserved-vlan",
        esxi,
        lambda doc: VS(doc)["portgroups"][0].update(vlan=1002),
        lambda doc: VS(doc)["portgroups"][0].update(vlan=1000),
        "portgroup:esx01/vSwitch1/prod",
        "1002",
    ),
    Case(
        "reserved-vlan",
        hyperv,
        guest_nic(vlan=4094),
        guest_nic(vlan=4093),
        "guest:web01/nic0",
        "4094",
    ),
    Case(
        "dom0-runs-guest-bridge",
        xen,
        lambda doc: (
            VS(doc).pop("domain"),
            H(doc).pop("driver_domains"),
        ),
        nothing,
        "vswitch:xen01/ddbr",
    ),
    Case(
        "unused-resource",
        esxi,
        lambda doc: VS(doc)["portgroups"].append({"name": "spare", "vlan": 20}),
        lambda doc: (
            VS(doc)["portgroups"].append({"name": "spare", "vlan": 20}),
            G(doc)["nics"].append({"portgroup": "spare"}),
        ),
        "portgroup:esx01/vSwitch1/spare",
        "port group",
    ),
    Case(
        "unused-resource",
        hyperv,
        lambda doc: H(doc)["vswitches"].append({"name": "Iso", "type": "private"}),
        hyperv_switch(name="Iso", type="private"),
        "vswitch:hv01/Iso",
        "switch",
    ),
    Case(
        "unused-resource",
        esxi,
        lambda doc: H(doc)["nics"].append({"name": "vmnic2", "switch": "tor1", "port": "Eth1/9"}),
        lambda doc: (
            H(doc)["nics"].append({"name": "vmnic2", "switch": "tor1", "port": "Eth1/9"}),
            VS(doc)["uplinks"].append("vmnic2"),
        ),
        "nic:esx01/vmnic2",
        "nic",
    ),
    Case(
        "upstream-unmodelled",
        esxi,
        lambda doc: (H(doc)["nics"][1].pop("switch"), H(doc)["nics"][1].pop("port")),
        nothing,
        "nic:esx01/vmnic1",
    ),
]


def _with_ports(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every test design a spare switch port some cases cable to."""
    doc["switches"][0]["ports"].append(
        {"name": "Eth1/9", "mode": "trunk", "allowed": "10-99", "native": "none"}
    )
    return doc


def _doc(case: Case, change: Change) -> dict[str, Any]:
    doc = _with_ports(copy.deepcopy(case.base()))
    change(doc)
    return doc


@pytest.mark.parametrize("base", [esxi, hyperv, xen], ids=lambda b: b.__name__)
def test_hardened_baselines_have_no_findings(base: Callable[[], dict[str, Any]]) -> None:
    assert hardening_findings(load(_with_ports(base()))) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}[{c.name}]" if c.name else c.rule)
def test_rule_fires_on_its_subject(case: Case) -> None:
    found = findings(_doc(case, case.fire), case.rule)
    assert [f.subject for f in found] == [case.subject]
    (f,) = found
    assert f.location.file == "t.yaml" and f.location.line > 0
    assert f.message and f.severity is netseg.Severity(f.severity)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}[{c.name}]" if c.name else c.rule)
def test_rule_stays_quiet_on_the_near_miss(case: Case) -> None:
    assert findings(_doc(case, case.quiet), case.rule) == []


def test_every_hardening_rule_has_a_case() -> None:
    assert {c.rule for c in CASES} == set(HARDENING_RULES)


def test_untagged_ovs_port_is_not_also_reported_as_trunking() -> None:
    doc = xen()
    ovs_port()(doc)
    rules = {f.rule for f in hardening_findings(load(doc))}
    assert "untagged-ovs-port" in rules
    assert "guest-vlan-trunking" not in rules


def test_location_points_at_the_subjects_declaration() -> None:
    text = """\
netseg: 1
name: loc
hosts:
  - name: esx01
    hypervisor: esxi
    firewall: {default: deny}
    nics:
      - {name: vmnic0}
"""
    (unused, upstream) = sorted(
        hardening_findings(netseg.loads(text, file="loc.yaml")), key=lambda f: f.rule
    )
    assert (unused.rule, unused.location.line) == ("unused-resource", 8)
    assert (upstream.rule, upstream.location.line) == ("upstream-unmodelled", 8)
    assert "vmnic0" in upstream.message and "esx01" in upstream.message


def test_one_portgroup_finding_names_all_its_guests() -> None:
    doc = esxi()
    VS(doc).pop("security")
    for i in range(2, 6):
        doc["guests"].append(
            {"name": f"web0{i}", "host": "esx01", "zone": "web", "nics": [{"portgroup": "prod"}]}
        )
    (f,) = findings(doc, "forged-transmits-allowed")
    assert f.evidence["guests"] == ["web01", "web02", "web03", "web04", "web05"]
    assert "web01, web02, web03 and 2 more" in f.message


def test_distributed_port_group_is_unused_only_when_no_host_uses_it() -> None:
    text = """\
netseg: 1
name: dvs
hosts:
  - name: esx01
    hypervisor: esxi
    firewall: {default: deny}
    nics: [{name: vmnic0, switch: tor1, port: Eth1/1}]
    vswitches:
      - &dvs
        name: dvs-prod
        type: distributed
        uplinks: [vmnic0]
        portgroups:
          - {name: web, vlan: 10}
          - {name: spare, vlan: 20}
  - name: esx02
    hypervisor: esxi
    firewall: {default: deny}
    nics: [{name: vmnic0, switch: tor1, port: Eth1/2}]
    vswitches: [*dvs]
switches:
  - name: tor1
    ports:
      - {name: Eth1/1, mode: trunk, allowed: "10-20", native: none}
      - {name: Eth1/2, mode: trunk, allowed: "10-20", native: none}
guests:
  - {name: web01, host: esx02, nics: [{portgroup: web}]}
"""
    unused = [
        f.subject
        for f in hardening_findings(netseg.loads(text, file="dvs.yaml"))
        if f.rule == "unused-resource"
    ]
    assert unused == ["portgroup:esx01/dvs-prod/spare"]
