"""netseg import hyperv: the collection script's JSON (Windows PowerShell 5.1 and PowerShell 7
forms) to a topology, its warnings, and its refusals.

Fixtures (tests/data/imports/hyperv/) are built from the documented object layouts; property
names are checked against the real Format-List capture in ../shared/corpus/imports/hyperv/.
Regenerate goldens deliberately with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from netseg.cli.main import main
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, run_import
from netseg.importers.hyperv import ENUMS, READS
from netseg.topology import loads
from tests.conftest import CORPUS, DATA, REPO, UPDATE_GOLDEN

FIXTURES = DATA / "imports" / "hyperv"
GOLDEN = DATA / "golden" / "imports" / "hyperv"
PS51 = FIXTURES / "hv01-ps51.json"
PS7 = FIXTURES / "hv02-ps7.json"
CAPTURE = CORPUS / "imports" / "hyperv" / "mfd-hyperv" / "Get-VMSwitch_select_all_fl.txt"


def _import(*paths: Path, json_form: bool = False) -> Any:
    return run_import(
        "hyperv", ImportRequest(tuple(str(p) for p in paths)), name="hv", json_form=json_form
    )


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_golden_import_validates_and_is_byte_identical(fixture: Path, tmp_path: Path) -> None:
    first = _import(fixture)
    assert _import(fixture).text == first.text
    golden = GOLDEN / (fixture.stem + ".yaml")
    if UPDATE_GOLDEN:
        golden.write_text(first.text, encoding="utf-8")
    assert golden.exists(), f"no golden {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert first.text == golden.read_text(encoding="utf-8"), (
        "import changed: review, then UPDATE_GOLDEN=1"
    )
    out = tmp_path / "hv.yaml"
    out.write_text(first.text, encoding="utf-8")
    assert main(["validate", str(out)]) == 0


def _as_ps7(doc: dict[str, Any]) -> dict[str, Any]:
    """The same collection as PowerShell 7 writes it with -EnumsAsStrings."""
    kinds = {
        "SwitchType": "SwitchType",
        "DhcpGuard": "OnOffState",
        "RouterGuard": "OnOffState",
        "MacAddressSpoofing": "OnOffState",
        "PortMirroringMode": "PortMirroringMode",
        "OperationMode": "OperationMode",
        "PrivateVlanMode": "PrivateVlanMode",
        "IsolationMode": "IsolationMode",
        "AddressFamily": "AddressFamily",
        "NetworkCategory": "NetworkCategory",
        "DefaultInboundAction": "Action",
        "Action": "Action",
        "Direction": "Direction",
    }
    out = copy.deepcopy(doc)
    for section in READS:
        for item in out.get(section, []):
            for key, kind in kinds.items():
                if isinstance(item.get(key), int) and not isinstance(item[key], bool):
                    item[key] = ENUMS[kind].get(item[key], item[key])
            if section == "NetFirewallProfile":
                item["Enabled"] = ENUMS["GpoBoolean"][item["Enabled"]]
            if section == "NetFirewallRule":
                item["Enabled"] = ENUMS["Enabled"][item["Enabled"]]
                flags = [
                    n
                    for b, n in ((1, "Domain"), (2, "Private"), (4, "Public"))
                    if item["Profile"] & b
                ]
                item["Profile"] = ", ".join(flags) or "Any"
    return out


def test_powershell_7_names_read_as_windows_powershell_5_1_integers(tmp_path: Path) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    ps7 = _as_ps7(doc)
    assert ps7["VMSwitch"][0]["SwitchType"] == "External"
    assert ps7["NetFirewallRule"][1]["Profile"] == "Domain, Private"
    as7 = tmp_path / PS51.name
    as7.write_text(json.dumps(ps7, indent=2), encoding="utf-8")
    assert _import(as7).text == _import(PS51).text


def test_switch_types_vlans_guards_and_the_management_os() -> None:
    topology = loads(_import(PS51).text, "hv.yaml")
    host = topology.hosts[0]
    assert {v.name: v.type for v in host.vswitches} == {
        "Converged": "external",
        "External": "external",
        "Isolated": "private",
        "Lab": "internal",
    }
    # the Switch Embedded Team is one NIC, named after its members
    switches = {v.name: v for v in host.vswitches}
    assert switches["Converged"].uplinks[0].nic == "SLOT 3 Port 1 + SLOT 3 Port 2"
    mgmt = {m.name: m for m in host.management}
    assert str(mgmt["vEthernet (Management)"].addresses[0]) == "192.0.2.11/27"
    assert mgmt["vEthernet (Management)"].vlan.vlan == 10
    assert mgmt["Mgmt"].nic == "Mgmt"  # a dedicated adapter with an address
    guests = {g.name: g for g in topology.guests}
    router = guests["router01"].nics[0]
    assert router.vlan.kind == "trunk" and str(router.vlan.trunk) == "10,110-112,130"
    assert router.guards.mac_spoofing and not router.guards.dhcp_guard
    web = guests["web01"].nics[0]
    assert web.vlan.vlan == 110 and web.guards.dhcp_guard and web.guards.router_guard
    assert [str(a) for a in web.addresses] == ["198.51.100.21/26"]  # link-local dropped


def test_auto_or_unknown_vlan_mode_is_a_warning_naming_the_adapter_never_a_guess() -> None:
    result = _import(PS7, PS51)
    warnings = [str(w) for w in result.warnings]
    assert any(
        "adapter 'Network Adapter' of VM 'scvmm-managed'" in w
        and "'Auto'" in w
        and "does not guess" in w
        and w.startswith("hv02-ps7.json VMNetworkAdapterVlan[2]")
        for w in warnings
    )
    assert any("adapter 'Legacy' of VM 'legacy01'" in w and "mode 7" in w for w in warnings)
    guests = {g.name: g for g in loads(result.text, "hv.yaml").guests}
    assert guests["scvmm-managed"].nics == () and guests["legacy01"].nics == ()


def test_firewall_profiles_in_force_and_what_cannot_be_expressed() -> None:
    result = _import(PS51)
    host = loads(result.text, "hv.yaml").hosts[0]
    firewall = host.firewall
    assert firewall is not None and firewall.default == "deny"
    lines = [(str(r.source), str(r.services), r.why) for r in firewall.allow]
    assert ("any", "tcp/3389", "Remote Desktop - User Mode (TCP-In)") in [
        (p, s, w) for p, s, w in lines
    ]
    winrm = [p for p, _, w in lines if w and w.startswith("Windows Remote Management")]
    assert winrm == ["192.0.2.96/27", "192.0.2.200/30"]  # mask form and a range
    # LocalSubnet: the management interfaces' own subnets
    icmp = {p for p, s, _ in lines if s == "icmp"}
    assert {"192.0.2.0/27", "192.0.2.32/27", "203.0.113.0/26"} <= icmp
    assert not any(w and "SMB" in w for _, _, w in lines)  # disabled and block rules
    warnings = [str(w) for w in result.warnings]
    assert any("block rule" in w and "Block SMB from the guest networks" in w for w in warnings)
    assert any("Remote Event Log Management (RPC)" in w and "widened" in w for w in warnings)


def test_a_disabled_profile_in_force_writes_no_firewall(tmp_path: Path) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    doc["NetFirewallProfile"][0]["Enabled"] = 0  # Domain: GpoBoolean False
    path = tmp_path / "off.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = _import(path)
    assert loads(result.text, "hv.yaml").hosts[0].firewall is None
    assert any("Domain firewall profile is off" in str(w) for w in result.warnings)


def test_check_reports_the_hyperv_findings_of_the_imported_estate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hv01.json"
    assert main(["import", "hyperv", str(PS51), "-o", str(out)]) == 0
    capsys.readouterr()
    main(["check", str(out), "--format", "json"])
    found = json.loads(capsys.readouterr().out)
    pairs = {(f["rule"], f["subject"]) for f in found["findings"]}
    assert ("mac-spoofing-allowed", "guest:router01/Network Adapter") in pairs
    assert ("management-firewall-permissive", "host:HV01") in pairs
    assert ("guest-can-tag-management-vlan", "guest:router01/Network Adapter") in pairs


def _format_list_names(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\s*(\w+)\s+:", text, re.M)}


def test_every_vmswitch_property_read_appears_in_the_real_format_list_capture() -> None:
    if not CAPTURE.is_file():
        pytest.skip("the shared corpus (../shared/corpus/imports/hyperv) is not present")
    names = _format_list_names(CAPTURE.read_text(encoding="utf-8"))
    assert len(names) > 40
    assert set(READS["VMSwitch"]) <= names


def test_the_script_collects_every_property_the_importer_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["import", "--script", "hyperv"]) == 0
    script = capsys.readouterr().out
    shipped = (REPO / "netseg" / "importers" / "scripts" / "hyperv.ps1").read_text(encoding="utf-8")
    assert script == shipped
    for section, names in READS.items():
        assert f"{section} = @(" in script or f"$collection.{section} = @(" in script, section
        for name in names:
            assert re.search(rf"\b{name}\b", script), f"{section}.{name} is not collected"
    assert "-Depth 4" in script and "-EnumsAsStrings" in script


# --- depth truncation, and other serialisations of Windows PowerShell --------------------------


def _write(tmp_path: Path, doc: Any, name: str = "hv.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_list_cut_off_at_the_depth_is_read_back_with_a_warning(tmp_path: Path) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    doc["VMNetworkAdapterVlan"][5]["AllowedVlanIdList"] = "10 110 111 112 130"
    doc["NetFirewallRule"][6]["LocalPort"] = "80 8080-8081"
    doc["NetFirewallRule"][1]["RemoteAddress"] = (
        "192.0.2.96/255.255.255.224 192.0.2.200-192.0.2.203"
    )
    doc["VMNetworkAdapter"][3]["IPAddresses"] = "198.51.100.21 fe80::215:5dff:fe0a:1001"
    result = _import(_write(tmp_path, doc, PS51.name))
    assert result.text == _import(PS51).text
    assert any(
        "AllowedVlanIdList was written as text" in str(w) and "-Depth 4" in str(w)
        for w in result.warnings
    )


@pytest.mark.parametrize(
    ("section", "index", "key", "value", "expected"),
    [
        ("VMSwitch", 1, None, "@{Name=Converged; SwitchType=2}", "VMSwitch[1] is the text"),
        (
            "VMSwitch",
            1,
            "NetAdapterInterfaceDescriptions",
            "Mellanox ConnectX-4 Lx Ethernet Adapter Mellanox ConnectX-4 Lx Ethernet Adapter #2",
            "VMSwitch[1].NetAdapterInterfaceDescriptions is the text",
        ),
        (
            "GuestNetworkAdapterConfiguration",
            0,
            "IPAddresses",
            "System.Object[]",
            "GuestNetworkAdapterConfiguration[0].IPAddresses is the text",
        ),
    ],
)
def test_an_object_cut_off_at_the_depth_names_the_property_and_the_depth(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    section: str,
    index: int,
    key: str | None,
    value: str,
    expected: str,
) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    if key is None:
        doc[section][index] = value
    else:
        doc[section][index][key] = value
    path = _write(tmp_path, doc)
    out = tmp_path / "out.yaml"
    assert main(["import", "hyperv", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {expected}" in err
    assert "-Depth" in err and "Traceback" not in err
    assert not out.exists()


def test_windows_powershell_wrapped_arrays_and_utf16_files_are_read(tmp_path: Path) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    doc["VMSwitch"] = {"value": doc["VMSwitch"], "Count": len(doc["VMSwitch"])}
    path = tmp_path / PS51.name
    path.write_bytes(b"\xff\xfe" + json.dumps(doc, indent=4).encode("utf-16-le"))
    assert _import(path).text == _import(PS51).text


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            [{"Name": "External", "SwitchType": 2, "NetAdapterInterfaceDescription": "X550"}],
            "this is the JSON of Get-VMSwitch, not of the collection script",
        ),
        (
            {"VMName": "web01", "MacAddress": "00155D000001", "SwitchName": "External"},
            "this is the JSON of Get-VMNetworkAdapter, not of the collection script",
        ),
        ({"hello": 1}, "this JSON is not the collection script's file"),
        (
            {"NetsegCollection": "hyperv", "FormatVersion": 1, "ComputerName": "HV9"},
            "no 'VMSwitch' section",
        ),
        ({"NetsegCollection": "hyperv", "FormatVersion": 9}, "collection format 9"),
    ],
)
def test_json_from_another_cmdlet_is_one_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: Any, expected: str
) -> None:
    path = _write(tmp_path, body)
    out = tmp_path / "out.yaml"
    assert main(["import", "hyperv", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err
    assert "Traceback" not in err
    assert not out.exists()


def test_broken_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(PS51.read_text(encoding="utf-8")[:2000], encoding="utf-8")
    with pytest.raises(ImportSourceError) as err:
        _import(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: not JSON", str(err.value))


def test_two_vms_of_one_name_stay_two_guests(tmp_path: Path) -> None:
    doc = json.loads(PS51.read_text(encoding="utf-8"))
    twin = dict(
        doc["VMNetworkAdapter"][5],
        VMName="web01",
        VMId="c0ffee00-0000-4000-8000-000000000001",
    )
    doc["VMNetworkAdapter"].append(twin)  # same adapter Id: it shares router01's VLAN record
    result = _import(_write(tmp_path, doc, PS51.name))
    names = sorted(g.name for g in loads(result.text, "hv.yaml").guests)
    assert "web01 (c0ffee00-0000-4000-8000-000000000001)" in names
    assert "web01 (5d3a9c11-7e21-4b0a-9c55-0e6f7a8b9c01)" in names
    warnings = [str(w) for w in result.warnings]
    assert any("two VMs are named 'web01'" in w for w in warnings)
    # the twin copied router01's MAC: kept by the first claimant, a warning for the other
    assert any(
        w.startswith("hv01-ps51.json VMNetworkAdapter[11]")
        and "MAC 00:15:5d:0a:20:01" in w
        and "already guest router01/Network Adapter's" in w
        for w in warnings
    )


def test_the_docs_show_the_script_as_shipped() -> None:
    docs = (REPO / "docs" / "importing.md").read_text(encoding="utf-8")
    shipped = (REPO / "netseg" / "importers" / "scripts" / "hyperv.ps1").read_text(encoding="utf-8")
    assert f"```powershell\n{shipped}```" in docs
