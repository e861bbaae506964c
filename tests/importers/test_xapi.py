"""netseg import xapi: XAPI pool database dumps (``xe pool-dump-database``) to a topology.

The real dump (../shared/corpus/imports/xapi/xenadmin/state2.xml) has no VLAN or bond rows, so
tests/data/imports/xapi/xcpng-vlan-bond.xml builds them from the documented fields. Field names
are checked against real XenAPI records (the fog-xenserver cassettes). Regenerate goldens
deliberately with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import pytest

from netseg.cli.main import main
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, run_import
from netseg.importers.xapi import FIELDS, parse_value
from netseg.topology import loads
from tests.conftest import CORPUS, DATA
from tests.importers.conftest import check_golden

FIXTURES = DATA / "imports" / "xapi"
GOLDEN = DATA / "golden" / "imports" / "xapi"
VLAN_BOND = FIXTURES / "xcpng-vlan-bond.xml"


def _corpus() -> Path:
    path = CORPUS / "imports" / "xapi"
    if path.is_dir():
        return path
    pytest.skip("the shared corpus (../shared/corpus/imports/xapi) is not present")


def _import(*paths: Path) -> Any:
    return run_import("xapi", ImportRequest(tuple(str(p) for p in paths)), name="pool")


def _golden(name: str, text: str, tmp_path: Path) -> None:
    check_golden(text, GOLDEN / name)
    out = tmp_path / "pool.yaml"
    out.write_text(text, encoding="utf-8")
    assert main(["validate", str(out)]) == 0


def test_golden_vlan_and_bond_fixture(tmp_path: Path) -> None:
    first = _import(VLAN_BOND)
    assert _import(VLAN_BOND).text == first.text
    _golden("xcpng-vlan-bond.yaml", first.text, tmp_path)


def test_golden_real_dumps_of_the_corpus(tmp_path: Path) -> None:
    dumps = sorted(_corpus().glob("*/*.xml"))
    assert dumps, "no XAPI dumps in the corpus"
    for dump in dumps:
        first = _import(dump)
        assert _import(dump).text == first.text
        _golden(dump.stem + ".yaml", first.text, tmp_path)


def test_real_dump_hosts_management_pifs_and_running_vms() -> None:
    result = _import(_corpus() / "xenadmin" / "state2.xml")
    topology = loads(result.text, "pool.yaml")
    assert [h.name for h in topology.hosts] == ["chester", "grimsby"]
    for host in topology.hosts:
        assert [(m.name, m.vswitch) for m in host.management] == [("xenbr0", "xenbr0")]
        assert {v.type for v in host.vswitches} == {"bridge"}
    # templates, snapshots and the control domains are not guests
    assert sorted(g.name for g in topology.guests) == [
        f"Debian Etch 4.0 ({n})" for n in range(1, 5)
    ]
    assert all(len(g.nics) == 5 for g in topology.guests)


def test_bonds_vlans_and_ovs_tags() -> None:
    topology = loads(_import(VLAN_BOND).text, "pool.yaml")
    hosts = {h.name: h for h in topology.hosts}
    xcp01 = hosts["xcp01"]
    assert [n.name for n in xcp01.nics] == ["bond0", "eth2"]  # the bond's slaves are one NIC
    mgmt = {m.name: m for m in xcp01.management}
    # the management PIF is VLAN 10 on the bond: a tag on the bond's bridge (OVS)
    assert mgmt["xapi2"].vswitch == "xapi1" and mgmt["xapi2"].vlan.vlan == 10
    assert [str(a) for a in mgmt["xapi2"].addresses] == ["192.0.2.21/27", "2001:db8:10::21/64"]
    assert xcp01.iommu and not hosts["xcp02"].iommu
    # a VIF of the control domain itself is an interface of dom0
    dom0 = {m.name: m for m in hosts["xcp02"].management}["dom0 vif1"]
    assert dom0.vswitch == "xenbr0" and dom0.vlan.vlan == 20
    guests = {g.name: g for g in topology.guests}
    web = {n.name: n for n in guests["web01"].nics}
    assert web["vif0"].vswitch == "xapi1" and web["vif0"].vlan.vlan == 20
    # network_default resolved to the network's locked mode; address from dom0's subnet there
    assert [str(a) for a in web["vif1"].addresses] == ["198.51.100.205/28"]
    assert "vif2" not in web  # locking_mode disabled: no traffic passes
    assert guests["gpu01"].passthrough == ("0000:41:00.0",)


def test_halted_vms_go_to_their_affinity_host_or_are_left_out_with_a_warning() -> None:
    result = _import(VLAN_BOND)
    warnings = [str(w) for w in result.warnings]
    assert (
        "xcpng-vlan-bond.xml:48 VM db01: warning: VM 'db01' is Halted: placed on its affinity host 'xcp02' (it may start on any host of the pool)"
        in warnings
    )
    assert any(
        w.startswith("xcpng-vlan-bond.xml:51 VM old01") and "left out" in w for w in warnings
    )
    names = {g.name for g in loads(result.text, "pool.yaml").guests}
    assert "db01" in names and "old01" not in names and "Debian Bookworm 12" not in names


def test_check_finds_guests_reaching_dom0_and_passthrough_without_iommu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pool.json"
    assert main(["import", "xapi", str(VLAN_BOND), "-o", str(out)]) == 0
    capsys.readouterr()
    main(["check", str(out), "--format", "json"])
    pairs = {(f["rule"], f["subject"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ("guest-on-management-segment", "guest:monitor01/vif0") in pairs
    assert ("passthrough-without-iommu", "guest:gpu01") in pairs
    assert ("management-firewall-missing", "host:xcp01") in pairs


def test_fields_read_are_the_real_xenapi_record_names() -> None:
    cassettes = _corpus() / "fog-xenserver"
    vif = (cassettes / "create_vif_create_vif.yml").read_text(encoding="utf-8")
    network = (cassettes / "get_network_by_name.yml").read_text(encoding="utf-8")
    for field in FIELDS["VIF"]:
        assert f"<name>{field}</name>" in vif, field
    for field in FIELDS["network"]:
        # the database writes the record's name_label as name__label
        assert f"<name>{field.replace('__', '_')}</name>" in network, field


def test_a_xapi_record_over_xml_rpc_is_not_a_dump(tmp_path: Path) -> None:
    path = tmp_path / "record.xml"
    path.write_text("<?xml version='1.0'?><methodResponse><params/></methodResponse>\n")
    with pytest.raises(ImportSourceError) as err:
        _import(path)
    assert str(err.value).startswith(
        f"{path}:1: not a XAPI database dump: the root element is <methodResponse>"
    )


# --- bad input ---------------------------------------------------------------------------------

BOMB = """<?xml version="1.0"?>
<!DOCTYPE database [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<database><table name="host"><row ref="OpaqueRef:h" name__label="&g;"/></table></database>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE database [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<database><table name="host"><row ref="OpaqueRef:h" name__label="&x;"/></table></database>
"""


@pytest.mark.parametrize("body", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_an_xml_bomb_or_external_entity_is_refused_without_expanding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(body, encoding="utf-8")
    out = tmp_path / "out.yaml"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    assert main(["import", "xapi", str(path), "-o", str(out)]) == 2
    # 16^6 * 64 bytes = 1 GiB if expanded: refused at the DTD, in milliseconds and no memory
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    err = capsys.readouterr().err
    assert f"{path}: refused: the XML declares a DTD or entities" in err
    assert "root:" not in err and "Traceback" not in err
    assert not out.exists()


def test_a_truncated_dump_names_its_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = VLAN_BOND.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "cut.xml"
    row = next(i for i, line in enumerate(lines) if "pif-1-v10" in line and "<row" in line)
    path.write_text("".join(lines[:row]) + lines[row][:60], encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert main(["import", "xapi", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{row + 1}: not well-formed XML: the XML ends early" in err
    assert "truncated dump" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "not well-formed XML"),
        ("<database><table name='SR'/></database>", "a <database> without host rows"),
        ("hosts:\n  - xcp01\n", "not well-formed XML"),
    ],
)
def test_other_files_are_one_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    path = tmp_path / "x.xml"
    path.write_text(body, encoding="utf-8")
    assert main(["import", "xapi", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err and "Traceback" not in err


def test_database_values_sets_maps_and_escapes() -> None:
    assert parse_value("plain") == "plain"
    assert parse_value("()") == []
    assert parse_value("('a' 'b c')") == ["a", "b c"]
    assert parse_value("(('k' 'v') ('x' 'it\\'s'))") == [["k", "v"], ["x", "it's"]]


def test_the_pools_secrets_are_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VLAN_BOND.read_text(encoding="utf-8")
    text = text.replace('wlb_password=""', 'wlb_password="wlb-S3cret"').replace(
        "<manifest>", '<manifest>\n<pair key="pool_token" value="tok-0d4a2c1e/S3cret"/>'
    )
    path = tmp_path / "pool.db"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "pool.yaml"
    assert main(["import", "xapi", str(path), "-o", str(out)]) == 0
    assert "S3cret" not in out.read_text(encoding="utf-8")
    assert "S3cret" not in capsys.readouterr().err


def test_vms_of_one_name_in_a_pool_stay_distinct(tmp_path: Path) -> None:
    text = VLAN_BOND.read_text(encoding="utf-8").replace(
        'name__label="db01"', 'name__label="web01"'
    )
    path = tmp_path / "pool.db"
    path.write_text(text, encoding="utf-8")
    result = _import(path)
    names = sorted(g.name for g in loads(result.text, "pool.yaml").guests)
    assert "web01 (0d4a2c1e-0000-4000-8000-000000000611)" in names
    assert "web01 (0d4a2c1e-0000-4000-8000-000000000612)" in names
    assert any("2 VMs of the pool are named 'web01'" in str(w) for w in result.warnings)


def test_a_tunnel_pif_is_named_as_not_modelled_across_hosts(tmp_path: Path) -> None:
    tunnel = (
        '<row ref="OpaqueRef:pif-1-tun" uuid="0d4a2c1e-0000-4000-8000-000000000399" '
        'device="tunnel0" host="OpaqueRef:host-1" network="OpaqueRef:net-private" '
        'MAC="00:16:3e:0a:01:99" physical="false" VLAN="-1" management="false" IP="" netmask=""/>\n'
    )
    text = VLAN_BOND.read_text(encoding="utf-8").replace(
        '</table>\n<table name="VLAN">', tunnel + '</table>\n<table name="VLAN">'
    )
    path = tmp_path / "pool.db"
    path.write_text(text, encoding="utf-8")
    result = _import(path)
    assert any(
        "PIF 'tunnel0' of host 'xcp01'" in str(w) and "cross-server private network" in str(w)
        for w in result.warnings
    )
    loads(result.text, "pool.yaml")
