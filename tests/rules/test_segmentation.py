"""Each segmentation rule fires on a minimal topology and stays quiet on a near-identical one."""

from __future__ import annotations

import pytest

from netseg.graph import analyse_reachability
from netseg.rules.finding import Finding
from netseg.rules.segmentation import segmentation_findings
from tests.graph.conftest import topo
from tests.rules.cases import covers

ESXI = """
zones: {web: {}, db: {}}
POLICY
switches:
  - name: tor1
    ports:
      - {name: p1, mode: trunk, allowed: "10,20,99", native: NATIVE}
      - {name: a10, mode: access, vlan: 10}
endpoints:
  - {name: db1, zone: db, switch: tor1, port: a10, address: 192.0.2.20/26}
hosts:
  - name: esx01
    hypervisor: esxi
    nics: [{name: vmnic0, switch: tor1, port: p1}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0]
        portgroups:
          - {name: mgmt, vlan: 99}
          - {name: web, vlan: 10}
          - {name: vgt, vlan: VGT}
          - {name: spy, vlan: 99, security: {promiscuous: PROMISC}}
          - {name: vmotion, vlan: VMOTION}
    management:
      - {name: vmk0, portgroup: mgmt, address: 192.0.2.130/26}
      - {name: vmk1, portgroup: vmotion, services: [vmotion, nfs]}
    firewall: {default: deny, allow: [{from: management, services: any}]}
guests:
  - {name: web01, host: esx01, zone: web, nics: [{portgroup: PG, address: 192.0.2.10/26}]}
"""


def run(**subs: str) -> list[Finding]:
    values = {
        "POLICY": "",
        "NATIVE": "none",
        "VGT": "'{trunk: \"10-20\"}'".replace("'", ""),
        "PROMISC": "false",
        "VMOTION": "20",
        "PG": "web",
    }
    values.update(subs)
    text = ESXI
    for k, v in values.items():
        text = text.replace(k, v)
    text = text.replace("type: standard", "")
    text = text.replace("- name: vSwitch0", "- name: vSwitch0\n        type: distributed")
    t = topo(text)
    return segmentation_findings(t, analyse_reachability(t))


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_guest_on_the_management_port_group() -> None:
    found = run(PG="mgmt")
    assert "guest-on-management-segment" in rules(found)
    f = next(f for f in found if f.rule == "guest-on-management-segment")
    assert f.subject == "guest:web01/nic0" and f.object == "management:esx01/vmk0"
    assert f.location.line > 0
    # the firewall admits only the management zone: no reach finding
    assert "guest-reaches-management" not in rules(found)
    assert "guest-on-management-segment" not in rules(run(PG="web"))


@covers("guest-reaches-management", "fires", "quiet")
def test_guest_reaches_management_when_the_firewall_lets_it() -> None:
    assert "guest-reaches-management" not in rules(run(PG="mgmt"))
    open_fw = ESXI.replace(
        "firewall: {default: deny, allow: [{from: management, services: any}]}",
        "firewall: {default: deny, allow: [{from: any, services: tcp/443}]}",
    )
    values = {
        "POLICY": "",
        "NATIVE": "none",
        "VGT": "0",
        "PROMISC": "false",
        "VMOTION": "20",
        "PG": "mgmt",
    }
    for k, v in values.items():
        open_fw = open_fw.replace(k, v)
    t = topo(open_fw.replace("- name: vSwitch0", "- name: vSwitch0\n        type: distributed"))
    found = segmentation_findings(t, analyse_reachability(t))
    f = next(f for f in found if f.rule == "guest-reaches-management")
    assert f.severity.value == "critical"
    assert f.evidence["services"] == ["tcp/443"] and f.evidence["mode"] == "l2"
    assert f.evidence["path"][0] == "guest:web01/nic0"
    assert "guest web01" in f.message and "vmk0 on esx01" in f.message
    # allowed by the policy: no longer a violation
    allowed = open_fw.replace(
        "zones: {web: {}, db: {}}",
        "zones: {web: {}, db: {}}\npolicy: {allow: [{from: web, to: management, services: tcp/443}]}",
    )
    t = topo(allowed.replace("- name: vSwitch0", "- name: vSwitch0\n        type: distributed"))
    assert "guest-reaches-management" not in rules(
        segmentation_findings(t, analyse_reachability(t))
    )


def test_guest_can_tag_management_vlan() -> None:
    assert "guest-can-tag-management-vlan" in rules(run(PG="vgt", VGT="4095"))
    # trunk 10-20 includes neither management VLAN 99 nor the vMotion VLAN (30 here)
    assert "guest-can-tag-management-vlan" not in rules(run(PG="vgt", VMOTION="30"))
    # ...but VLAN 20 is a vmkernel interface's VLAN too
    assert "guest-can-tag-management-vlan" in rules(run(PG="vgt", VMOTION="20"))


def test_guest_observes_management() -> None:
    assert "guest-observes-management" in rules(run(PG="spy", PROMISC="true"))
    assert "guest-observes-management" not in rules(run(PG="spy", PROMISC="false"))


def test_zone_policy_violation_and_its_aggregation() -> None:
    found = [f for f in run() if f.rule == "zone-policy-violation"]
    assert [(f.subject, f.object) for f in found] == [
        ("guest:web01/nic0", "zone:db"),
        ("endpoint:db1", "zone:web"),
    ]
    allowed = run(POLICY="policy: {allow: [{from: web, to: db}, {from: db, to: web}]}")
    assert "zone-policy-violation" not in rules(allowed)


def test_native_vlan_carries_guests() -> None:
    # native 10 on the trunk that also carries management VLAN 99, guest in VLAN 10
    found = [f for f in run(NATIVE="10") if f.rule == "native-vlan-carries-guests"]
    assert [f.subject for f in found] == ["switch:tor1/p1"]
    assert "native-vlan-carries-guests" not in rules(run(NATIVE="none"))


def test_vmotion_and_storage_not_isolated() -> None:
    found = rules(run(PG="vmotion"))
    assert {"vmotion-not-isolated", "storage-not-isolated"} <= found
    # vMotion on the management VLAN: not isolated from management, still no guests
    shared = rules(run(VMOTION="99"))
    assert "vmotion-not-isolated" in shared and "storage-not-isolated" not in shared
    assert not {"vmotion-not-isolated", "storage-not-isolated"} & rules(run())


# One fires / stays-quiet pair per segmentation rule, on the same minimal topology: the meta-test
# (tests/rules/test_catalogue.py) requires that every rule of the catalogue has one.
SEGMENTATION_CASES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "guest-on-management-segment": ({"PG": "mgmt"}, {"PG": "web"}),
    "guest-can-tag-management-vlan": ({"PG": "vgt", "VGT": "4095"}, {"PG": "vgt", "VMOTION": "30"}),
    "guest-observes-management": (
        {"PG": "spy", "PROMISC": "true"},
        {"PG": "spy", "PROMISC": "false"},
    ),
    "zone-policy-violation": (
        {},
        {"POLICY": "policy: {allow: [{from: web, to: db}, {from: db, to: web}]}"},
    ),
    "native-vlan-carries-guests": ({"NATIVE": "10"}, {"NATIVE": "none"}),
    "vmotion-not-isolated": ({"PG": "vmotion"}, {}),
    "storage-not-isolated": ({"PG": "vmotion"}, {"VMOTION": "99"}),
}


@pytest.mark.parametrize("rule", sorted(SEGMENTATION_CASES))
def test_rule_fires_and_stays_quiet_on_the_near_miss(rule: str) -> None:
    fire, quiet = SEGMENTATION_CASES[rule]
    fired = [f for f in run(**fire) if f.rule == rule]
    assert fired and all(f.location.line > 0 for f in fired)
    assert rule not in rules(run(**quiet))
