"""Layer 2: every attachment kind of semantics.md §1 joins the bridge domains it should."""

from __future__ import annotations

import pytest

from tests.graph.conftest import l2, reach

TOR = """
switches:
  - name: tor1
    ports:
      - {name: p1, mode: trunk, allowed: "10,20,99", native: none}
      - {name: p2, mode: trunk, allowed: "10,20,99", native: none}
      - {name: a10, mode: access, vlan: 10}
      - {name: a99, mode: access, vlan: 99}
      - {name: n10, mode: trunk, allowed: "10,99", native: 10}
endpoints:
  - {name: e10, switch: tor1, port: a10}
  - {name: e99, switch: tor1, port: a99}
  - {name: s20, switch: tor1, vlan: 20}
"""


def esxi(pg_vlan: str) -> str:
    return (
        TOR
        + f"""
hosts:
  - name: esx01
    hypervisor: esxi
    nics: [{{name: vmnic0, switch: tor1, port: p1}}]
    vswitches:
      - name: dvs
        type: distributed
        uplinks: [vmnic0]
        portgroups:
          - {{name: mgmt, vlan: 99}}
          - {{name: pg, vlan: {pg_vlan}}}
    management:
      - {{name: vmk0, portgroup: mgmt}}
guests:
  - {{name: g, host: esx01, nics: [{{portgroup: pg}}]}}
"""
    )


def test_esxi_access_port_group_reaches_its_vlan_only() -> None:
    r = reach(esxi("10"))
    assert l2(r, "guest:g/nic0", "endpoint:e10")
    assert not l2(r, "guest:g/nic0", "endpoint:e99")
    assert not l2(r, "guest:g/nic0", "management:esx01/vmk0")
    assert not r.attachment("guest:g/nic0").can_tag


def test_esxi_vlan_0_is_the_untagged_domain_and_a_native_none_trunk_drops_it() -> None:
    r = reach(esxi("0"))
    assert not l2(r, "guest:g/nic0", "endpoint:e10")
    assert not l2(r, "guest:g/nic0", "management:esx01/vmk0")


def test_esxi_4095_joins_every_vlan_by_tagging() -> None:
    r = reach(esxi("4095"))
    for other in ("endpoint:e10", "endpoint:e99", "endpoint:s20", "management:esx01/vmk0"):
        assert l2(r, "guest:g/nic0", other)
    pair = r.pair("guest:g/nic0", "management:esx01/vmk0")
    assert pair is not None and pair.tag_injection and pair.mode == "l2"


def test_esxi_trunk_port_group_joins_its_set_only() -> None:
    r = reach(esxi("{trunk: '10-20'}"))
    assert l2(r, "guest:g/nic0", "endpoint:e10")
    assert l2(r, "guest:g/nic0", "endpoint:s20")
    assert not l2(r, "guest:g/nic0", "endpoint:e99")


def test_access_port_gives_its_vlan_and_native_vlan_carries_untagged() -> None:
    r = reach(
        TOR
        + """
hosts:
  - name: h
    hypervisor: hyperv
    nics: [{name: NIC1, switch: tor1, port: n10}]
    vswitches: [{name: Ext, type: external, uplinks: [NIC1]}]
guests:
  - {name: g, host: h, nics: [{vswitch: Ext}]}
"""
    )
    # untagged on the uplink lands in the native VLAN 10
    assert l2(r, "guest:g/nic0", "endpoint:e10")


HYPERV = (
    TOR
    + """
hosts:
  - name: h
    hypervisor: hyperv
    nics: [{name: NIC1, switch: tor1, port: p1}]
    vswitches:
      - {name: Ext, type: external, uplinks: [NIC1]}
      - {name: Priv, type: private}
      - {name: Int, type: internal}
guests:
  - {name: access, host: h, nics: [{vswitch: Ext, vlan: 99}]}
  - {name: untagged, host: h, nics: [{vswitch: Ext}]}
  - {name: trunk, host: h, nics: [{vswitch: Ext, vlan: {trunk: "10-20", native: 0}}]}
  - {name: p1, host: h, nics: [{vswitch: Priv}]}
  - {name: p2, host: h, nics: [{vswitch: Priv}]}
  - {name: i1, host: h, nics: [{vswitch: Int}]}
"""
)


def test_hyperv_access_trunk_and_untagged() -> None:
    r = reach(HYPERV)
    assert l2(r, "guest:access/nic0", "endpoint:e99")
    assert not l2(r, "guest:access/nic0", "endpoint:e10")
    # untagged NIC: the uplink's untagged frames are dropped by the native-none trunk
    assert not l2(r, "guest:untagged/nic0", "endpoint:e10")
    assert not r.attachment("guest:untagged/nic0").can_tag
    assert l2(r, "guest:trunk/nic0", "endpoint:e10")
    assert l2(r, "guest:trunk/nic0", "endpoint:s20")
    assert not l2(r, "guest:trunk/nic0", "endpoint:e99")
    assert r.attachment("guest:trunk/nic0").can_tag


def test_hyperv_private_and_internal_switches_stay_local() -> None:
    r = reach(HYPERV)
    assert l2(r, "guest:p1/nic0", "guest:p2/nic0")
    assert not l2(r, "guest:p1/nic0", "guest:untagged/nic0")
    # an internal switch always has the management OS on it
    assert l2(r, "guest:i1/nic0", "management:h/vEthernet (Int)")
    assert not l2(r, "guest:p1/nic0", "management:h/vEthernet (Int)")


def xen(switch: str, nic_vlan: str = "") -> str:
    vlan = f", vlan: {nic_vlan}" if nic_vlan else ""
    return (
        TOR
        + f"""
hosts:
  - name: x
    hypervisor: xen
    nics: [{{name: eth0, switch: tor1, port: p1}}]
    vswitches:
      - {switch}
guests:
  - {{name: g, host: x, nics: [{{vswitch: br{vlan}}}]}}
"""
    )


def test_transparent_bridge_on_raw_nic_lets_guest_tags_reach_the_wire() -> None:
    r = reach(xen("{name: br, type: bridge, uplinks: [eth0]}"))
    for other in ("endpoint:e10", "endpoint:e99", "endpoint:s20"):
        assert l2(r, "guest:g/nic0", other)
    assert r.attachment("guest:g/nic0").can_tag


def test_bridge_on_a_vlan_subinterface_carries_that_vlan_only() -> None:
    r = reach(xen("{name: br, type: bridge, uplinks: [eth0.20]}"))
    assert l2(r, "guest:g/nic0", "endpoint:s20")
    assert not l2(r, "guest:g/nic0", "endpoint:e10")
    assert not l2(r, "guest:g/nic0", "endpoint:e99")


def test_vlan_filtering_bridge_is_like_hyper_v() -> None:
    r = reach(xen("{name: br, type: bridge, uplinks: [eth0], vlan_filtering: true}", "10"))
    assert l2(r, "guest:g/nic0", "endpoint:e10")
    assert not l2(r, "guest:g/nic0", "endpoint:e99")
    assert not r.attachment("guest:g/nic0").can_tag


@pytest.mark.parametrize(("vlan", "reaches_99"), [("10", False), ("", True)])
def test_ovs_port_with_tag_is_access_without_tag_is_a_trunk_of_everything(
    vlan: str, reaches_99: bool
) -> None:
    r = reach(xen("{name: br, type: ovs, uplinks: [eth0]}", vlan))
    assert l2(r, "guest:g/nic0", "endpoint:e10")
    assert l2(r, "guest:g/nic0", "endpoint:e99") is reaches_99


def test_dedicated_management_nic_is_a_wire_to_its_switch_port() -> None:
    r = reach(
        TOR
        + """
hosts:
  - name: x
    hypervisor: xen
    nics: [{name: eth0, switch: tor1, port: n10}, {name: eth1, switch: tor1, port: p1}]
    vswitches: [{name: br, type: bridge, uplinks: [eth1.10]}]
    management: [{name: m, nic: eth0}]
guests:
  - {name: g, host: x, nics: [{vswitch: br}]}
"""
    )
    # untagged on a trunk with native 10: the interface is in VLAN 10, like the guest's bridge
    assert l2(r, "management:x/m", "endpoint:e10")
    assert l2(r, "management:x/m", "guest:g/nic0")
    assert not l2(r, "management:x/m", "endpoint:e99")
    pair = r.pair("endpoint:e10", "management:x/m")
    assert pair is not None
    assert [h.ref for h in pair.path] == [
        "endpoint:e10",
        "switch:tor1/a10",
        "switch:tor1/n10",
        "nic:x/eth0",
        "management:x/m",
        "host:x",
    ]


def test_implicit_upstream_shares_tagged_vlans_but_not_untagged_frames() -> None:
    r = reach(
        """
hosts:
  - name: a
    hypervisor: hyperv
    nics: [{name: NIC1}]
    vswitches: [{name: Ext, type: external, uplinks: [NIC1]}]
  - name: b
    hypervisor: hyperv
    nics: [{name: NIC1}]
    vswitches: [{name: Ext, type: external, uplinks: [NIC1]}]
guests:
  - {name: a10, host: a, nics: [{vswitch: Ext, vlan: 10}]}
  - {name: b10, host: b, nics: [{vswitch: Ext, vlan: 10}]}
  - {name: b11, host: b, nics: [{vswitch: Ext, vlan: 11}]}
  - {name: au, host: a, nics: [{vswitch: Ext}]}
  - {name: bu, host: b, nics: [{vswitch: Ext}]}
"""
    )
    assert l2(r, "guest:a10/nic0", "guest:b10/nic0")
    assert not l2(r, "guest:a10/nic0", "guest:b11/nic0")
    assert not l2(r, "guest:au/nic0", "guest:bu/nic0")
    pair = r.pair("guest:a10/nic0", "guest:b10/nic0")
    assert pair is not None
    assert "switch:upstream/a/NIC1" in [h.ref for h in pair.path]


def test_links_join_tagged_vlans_both_sides_allow_and_native_mismatch_joins_vlans() -> None:
    r = reach(
        """
switches:
  - name: s1
    ports:
      - {name: up, mode: trunk, allowed: "10-20", native: 5}
      - {name: a10, mode: access, vlan: 10}
      - {name: a5, mode: access, vlan: 5}
  - name: s2
    ports:
      - {name: up, mode: trunk, allowed: "15-30", native: 7}
      - {name: a10, mode: access, vlan: 10}
      - {name: a15, mode: access, vlan: 15}
      - {name: a7, mode: access, vlan: 7}
links: [["s1:up", "s2:up"]]
endpoints:
  - {name: x10, switch: s1, port: a10}
  - {name: y10, switch: s2, port: a10}
  - {name: y15, switch: s2, port: a15}
  - {name: x15, switch: s1, vlan: 15}
  - {name: x5, switch: s1, port: a5}
  - {name: y7, switch: s2, port: a7}
hosts: []
"""
    )
    assert not l2(r, "endpoint:x10", "endpoint:y10")  # 10 not allowed on s2's side
    assert l2(r, "endpoint:x15", "endpoint:y15")
    # native 5 is not in s1's allowed list: untagged frames are dropped, no join
    assert not l2(r, "endpoint:x5", "endpoint:y7")


def test_an_attachment_in_several_domains_does_not_join_them() -> None:
    r = reach(esxi("4095"))
    # the VGT guest is in VLAN 10 and VLAN 99 but e10 and e99 stay apart
    assert not l2(r, "endpoint:e10", "endpoint:e99")
    assert len(r.segment_of("guest:g/nic0")) >= 3
