"""Vendor defaults and resolution the model applies, so analyses never re-derive them."""

from __future__ import annotations

from pathlib import Path

import pytest

from netseg.errors import TopologyError
from netseg.model.topology import Security
from netseg.model.vlans import VlanSet
from netseg.topology import load, loads

ESXI = """
netseg: 1
name: esxi
hosts:
  - name: esx01
    hypervisor: esxi
    nics: [{name: vmnic0}, {name: vmnic1}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0]
        security: {mac_changes: false}
        portgroups:
          - {name: mgmt, vlan: 99}
          - {name: sniffer, vlan: 4095, security: {promiscuous: true}}
      - name: dvs
        type: distributed
        uplinks: [vmnic1]
        portgroups:
          - {name: prod, vlan: 0}
          - {name: ids, vlan: {trunk: "20-29"}}
    management:
      - {name: vmk0, portgroup: mgmt, address: 192.0.2.10/24, services: [management, vmotion]}
guests:
  - name: g1
    host: esx01
    nics: [{portgroup: prod}, {portgroup: ids}]
"""


def test_esxi_security_inherits_port_group_then_vswitch_then_vendor_default() -> None:
    host = loads(ESXI).hosts[0]
    vs0, dvs = host.vswitches
    # standard vSwitch: vendor default forged transmits true; mac_changes set false on the switch
    assert vs0.security == Security(promiscuous=False, mac_changes=False, forged_transmits=True)
    assert vs0.portgroup("sniffer").security == Security(True, False, True)  # type: ignore[union-attr]
    assert dvs.security == Security(False, False, False)


def test_esxi_port_group_vlan_forms() -> None:
    host = loads(ESXI).hosts[0]
    vs0, dvs = host.vswitches
    assert vs0.portgroup("mgmt").vlan.kind == "access"  # type: ignore[union-attr]
    sniffer = vs0.portgroup("sniffer").vlan  # type: ignore[union-attr]
    assert sniffer.kind == "trunk" and sniffer.trunk == VlanSet.full() and sniffer.native == 0
    ids = dvs.portgroup("ids").vlan  # type: ignore[union-attr]
    assert ids.trunk == VlanSet.parse("20-29")


def test_defaults_zones_and_nic_names() -> None:
    t = loads(ESXI)
    assert t.zones["management"].privileged and not t.zones["default"].privileged
    assert [n.name for n in t.guests[0].nics] == ["nic0", "nic1"]
    assert t.guests[0].zone == "default"
    assert t.hosts[0].management[0].services == frozenset({"management", "vmotion"})
    assert t.hosts[0].firewall is None


HYPERV = """
netseg: 1
name: hv
hosts:
  - name: hv01
    hypervisor: hyperv
    nics: [{name: NIC1}, {name: NIC2}]
    vswitches:
      - {name: External, type: external, uplinks: [NIC1], allow_management_os: true}
      - {name: Lab, type: internal}
      - {name: Isolated, type: private}
      - {name: Mgmt, type: external, uplinks: [NIC2], allow_management_os: true}
    management:
      - {name: vEthernet (Mgmt), vswitch: Mgmt, vlan: 98, address: 192.0.2.5/24}
guests:
  - name: g1
    host: hv01
    nics:
      - {vswitch: External, vlan: 10}
      - {vswitch: External, vlan: {trunk: "10-20"}, guards: {mac_spoofing: true}}
"""


def test_hyperv_adds_the_management_os_vnic_where_the_switch_shares_it() -> None:
    host = loads(HYPERV).hosts[0]
    by_name = {m.name: m for m in host.management}
    assert set(by_name) == {"vEthernet (Mgmt)", "vEthernet (External)", "vEthernet (Lab)"}
    implicit = by_name["vEthernet (External)"]
    assert implicit.implicit and implicit.addresses == () and implicit.vlan.vlan == 0
    assert not by_name["vEthernet (Mgmt)"].implicit
    assert by_name["vEthernet (Mgmt)"].vlan.vlan == 98


def test_hyperv_nic_vlans_and_guards() -> None:
    nic0, nic1 = loads(HYPERV).guests[0].nics
    assert nic0.vlan.kind == "access" and nic0.vlan.vlan == 10
    assert nic1.vlan.kind == "trunk" and nic1.vlan.native == 0
    assert nic1.guards.mac_spoofing and not nic1.guards.dhcp_guard


XEN = """
netseg: 1
name: xen
hosts:
  - name: xen01
    hypervisor: xen
    iommu: false
    nics: [{name: eth0}, {name: eth1}, {name: eth2}, {name: eth3}]
    vswitches:
      - {name: xenbr0, uplinks: [eth0]}
      - {name: xenbr100, uplinks: [eth0.100]}
      - {name: xenbr1, uplinks: [eth1], vlan_filtering: true}
      - {name: ovsbr0, type: ovs, uplinks: [eth2]}
      - {name: dd-br, uplinks: [eth3], domain: netdd}
    driver_domains:
      - {name: netdd, nics: [eth3], passthrough: ["0000:05:00.0"]}
    management:
      - {name: xenbr100, vswitch: xenbr100, address: 192.0.2.2/24}
guests:
  - name: g1
    host: xen01
    passthrough: ["03:00.0"]
    nics:
      - {vswitch: xenbr0}
      - {vswitch: xenbr1, vlan: 30}
      - {vswitch: ovsbr0}
      - {vswitch: ovsbr0, vlan: 40}
"""


def test_xen_bridges_subinterfaces_ovs_and_driver_domains() -> None:
    t = loads(XEN)
    host = t.hosts[0]
    assert host.vswitch("xenbr100").uplinks[0].vlan == 100  # type: ignore[union-attr]
    assert str(host.vswitch("xenbr100").uplinks[0]) == "eth0.100"  # type: ignore[union-attr]
    assert host.vswitch("dd-br").domain == "netdd"  # type: ignore[union-attr]
    assert host.driver_domains[0].passthrough == ("0000:05:00.0",)
    transparent, filtered, ovs_default, ovs_access = t.guests[0].nics
    assert transparent.vlan.kind == "transparent"
    assert filtered.vlan.kind == "access" and filtered.vlan.vlan == 30
    assert ovs_default.vlan.kind == "trunk" and ovs_default.vlan.trunk == VlanSet.full()
    assert ovs_access.vlan.vlan == 40
    assert t.guests[0].passthrough == ("0000:03:00.0",)


def test_vlan_on_a_transparent_bridge_is_refused() -> None:
    with pytest.raises(TopologyError, match="no vlan_filtering"):
        loads(XEN.replace("- {vswitch: xenbr0}", "- {vswitch: xenbr0, vlan: 5}"))


def test_trunk_defaults_native_1_and_none_drops_untagged() -> None:
    t = loads(
        """
netseg: 1
name: sw
switches:
  - name: tor1
    ports:
      - {name: a, mode: trunk, allowed: "10-20"}
      - {name: b, mode: trunk, allowed: "1-20", native: 5}
      - {name: c, mode: trunk, native: none}
hosts: []
"""
    )
    a, b, c = t.switches[0].ports
    assert a.native == 1 and a.untagged_vlan is None  # native 1 not allowed: dropped
    assert b.untagged_vlan == 5
    assert c.native is None and c.allowed == VlanSet.full()


def test_includes_merge_lists_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "guests.yaml").write_text(
        "guests:\n  - {name: g2, host: xen01, nics: [{vswitch: xenbr0}]}\n"
    )
    main = tmp_path / "main.yaml"
    main.write_text(XEN + "include: [parts/guests.yaml]\n")
    t = load(main)
    assert [g.name for g in t.guests] == ["g1", "g2"]


def test_include_duplicates_are_reported_in_the_included_file(tmp_path: Path) -> None:
    (tmp_path / "more.yaml").write_text("guests:\n  - {name: g1, host: xen01}\n")
    main = tmp_path / "main.yaml"
    main.write_text(XEN + "include: [more.yaml]\n")
    with pytest.raises(TopologyError) as info:
        load(main)
    assert any(
        p.file.endswith("more.yaml") and "duplicate guest name 'g1'" in p.message
        for p in info.value.problems
    )


def test_include_cycle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("include: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("include: [a.yaml]\n")
    main = tmp_path / "main.yaml"
    main.write_text("netseg: 1\nname: m\nhosts: []\ninclude: [a.yaml]\n")
    with pytest.raises(TopologyError, match="include cycle"):
        load(main)


@pytest.mark.parametrize("link", ["folder", "file"])
def test_an_include_through_a_symlink_to_outside_is_refused(link: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text("guests:\n  - {name: leaked, host: xen01, nics: [{vswitch: xenbr0}]}\n")
    topo = tmp_path / "topo"
    topo.mkdir()
    if link == "folder":
        (topo / "link").symlink_to(outside, target_is_directory=True)
        rel = "link/passwd"
    else:
        (topo / "link.yaml").symlink_to(secret)
        rel = "link.yaml"
    main = topo / "main.yaml"
    main.write_text(XEN + f"include: [{rel}]\n")
    with pytest.raises(TopologyError) as info:
        load(main)
    (problem,) = info.value.problems
    assert problem.file == str(main) and problem.line > 0
    assert "must not leave the including file's folder" in problem.message
    assert str(secret) in problem.message


def test_an_include_through_a_symlink_inside_the_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "guests.yaml").write_text(
        "guests:\n  - {name: g2, host: xen01, nics: [{vswitch: xenbr0}]}\n"
    )
    (tmp_path / "alias").symlink_to(tmp_path / "parts", target_is_directory=True)
    main = tmp_path / "main.yaml"
    main.write_text(XEN + "include: [alias/guests.yaml]\n")
    assert [g.name for g in load(main).guests] == ["g1", "g2"]


def test_duplicate_mac_across_attachments_is_refused() -> None:
    text = XEN.replace("- {vswitch: xenbr0}", "- {vswitch: xenbr0, mac: '00:16:3e:00:00:01'}")
    text = text.replace("- {vswitch: ovsbr0}", "- {vswitch: ovsbr0, mac: '00:16:3E:00:00:01'}")
    with pytest.raises(TopologyError, match="MAC 00:16:3e:00:00:01 is already used"):
        loads(text)


ROUTER_ON_A_STICK = """
netseg: 1
name: ros
switches:
  - name: sw
    ports:
      - {name: Gi0/1, mode: trunk, allowed: "10,20", native: none}
routers:
  - name: r1
    interfaces:
      - {name: Gi0/0.10, switch: sw, port: Gi0/1, vlan: 10, address: 192.0.2.1/26}
      - {name: Gi0/0.20, switch: sw, port: Gi0/1, vlan: 20, address: 192.0.2.65/26}
hosts: []
"""


def test_router_on_a_stick_puts_subinterfaces_on_one_port() -> None:
    router = loads(ROUTER_ON_A_STICK).routers[0]
    assert [(i.port, i.vlan) for i in router.interfaces] == [("Gi0/1", 10), ("Gi0/1", 20)]


def test_two_subinterfaces_in_one_vlan_on_one_port_are_refused() -> None:
    with pytest.raises(TopologyError, match=r"already has interface Gi0/0\.10 for VLAN 10"):
        loads(ROUTER_ON_A_STICK.replace("port: Gi0/1, vlan: 20", "port: Gi0/1, vlan: 10"))


def test_a_port_cabled_to_a_router_cannot_take_a_nic_too() -> None:
    text = ROUTER_ON_A_STICK.replace(
        "hosts: []",
        "hosts: [{name: h, hypervisor: xen, nics: [{name: eth0, switch: sw, port: Gi0/1}]}]",
    )
    with pytest.raises(TopologyError, match="already cabled to NIC h/eth0"):
        loads(text)
