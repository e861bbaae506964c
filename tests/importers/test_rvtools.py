"""netseg import rvtools: the fixture estate (tests/importers/rvtools_fixtures.py) as an RVTools
4.x workbook and as an older version's CSV export, the real workbooks of the shared corpus, and
the bad inputs of issue 15.

Regenerate the goldens deliberately with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from netseg.cli.main import main
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, run_import
from netseg.importers.rvtools import _read_with_calamine, _read_with_openpyxl
from netseg.topology import loads
from netseg.topology.dump import dumps
from tests.conftest import CORPUS, DATA
from tests.importers import rvtools_fixtures as fx
from tests.importers.conftest import check_golden as shared_check_golden

GOLDEN = DATA / "golden" / "imports" / "rvtools"
REAL = CORPUS / "imports" / "rvtools"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("rvtools")
    return {
        "workbook": fx.write_workbook(base / "RVTools_export_all.xlsx"),
        "csv": fx.write_csv_folder(base / "RVTools_csv"),
    }


def _import(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", "rvtools", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _golden(name: str, text: str) -> None:
    shared_check_golden(text, GOLDEN / name)


@pytest.mark.parametrize(
    ("kind", "output"), [("workbook", "workbook.yaml"), ("csv", "csv-folder.json")]
)
def test_fixture_imports_as_its_golden_and_validates(
    kind: str,
    output: str,
    exports: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / output
    code, _, err = _import([str(exports[kind]), "-o", str(out), "--name", "prod"], capsys)
    assert code == 0, err
    _golden(output, out.read_text(encoding="utf-8"))
    warnings = "".join(line for line in err.splitlines(True) if ": warning: " in line)
    _golden(output.split(".")[0] + ".warnings.txt", warnings)
    assert main(["validate", str(out)]) == 0
    first = out.read_bytes()
    assert _import([str(exports[kind]), "-o", str(out), "--name", "prod"], capsys)[0] == 0
    assert out.read_bytes() == first  # byte-identical on a second run


def test_csv_export_of_an_older_version_reads_as_the_same_estate(
    exports: dict[str, Path],
) -> None:
    # the CSV layout has every column in reverse order and other spellings ('MAC Address',
    # 'IPv6 Address'), no VM UUID and no vSwitch 'Uplinks': matched by name, it gives the same
    # topology (only the provenance differs)
    a = run_import("rvtools", ImportRequest((str(exports["workbook"]),)), name="x")
    b = run_import("rvtools", ImportRequest((str(exports["csv"]),)), name="x")
    assert dumps(loads(a.text, "a.yaml")) == dumps(loads(b.text, "b.yaml"))
    assert "RVTools_tabvPort.csv row 5" in b.text


def test_several_workbooks_are_one_estate(exports: dict[str, Path], tmp_path: Path) -> None:
    # a second vCenter's workbook: its hosts and VMs join the first's; a name read twice is
    # kept once, with a warning naming both rows
    tabs = fx.estate()
    for rows in tabs.values():
        for row in rows:
            if row.get("VM") and row["VM"] != "app01":
                row["VM"] = f"vc2-{row['VM']}"
            for key in ("Host", "Host members"):
                if row.get(key):
                    row[key] = str(row[key]).replace("esx0", "esx1")
    second = fx.write_workbook(tmp_path / "vc02.xlsx", tabs)
    result = run_import("rvtools", ImportRequest((str(exports["workbook"]), str(second))), name="x")
    assert result.counts["hosts"] == 4
    assert result.counts["guests"] == 9 + 7  # app01 and "app01 (vm-107)" again: kept once
    # the second vCenter gave its VMs the same MACs: kept on the first, warned about
    assert (
        "vc02.xlsx vInfo row 7: warning: guest 'app01' was already read from "
        "RVTools_export_all.xlsx vInfo row 7; keeping that one"
    ) in [str(w) for w in result.warnings]


def test_openpyxl_and_calamine_read_the_same_cells(exports: dict[str, Path]) -> None:
    fast, slow = _read_with_calamine(exports["workbook"]), _read_with_openpyxl(exports["workbook"])
    assert {t: v.rows for t, v in fast.items()} == {t: v.rows for t, v in slow.items()}


@pytest.fixture(scope="module")
def estate(exports: dict[str, Path]) -> dict[str, object]:
    result = run_import(
        "rvtools", ImportRequest((str(exports["workbook"]),)), name="x", json_form=True
    )
    body: dict[str, object] = json.loads(result.text)
    body["_warnings"] = [str(w) for w in result.warnings]
    return body


def _host(estate: dict[str, object], name: str) -> dict[str, object]:
    return next(h for h in estate["hosts"] if h["name"] == name)  # type: ignore[attr-defined,no-any-return]


def _vswitch(estate: dict[str, object], host: str, name: str) -> dict[str, object]:
    return next(v for v in _host(estate, host)["vswitches"] if v["name"] == name)  # type: ignore[attr-defined,no-any-return]


def _pgs(vswitch: dict[str, object]) -> dict[str, dict[str, object]]:
    return {p["name"]: p for p in vswitch["portgroups"]}  # type: ignore[attr-defined]


def test_security_policy_is_resolved_as_vsphere_does(estate: dict[str, object]) -> None:
    # esx01's vSwitch0 rejects all three; esx02's leaves them blank: ESXi's defaults, written out
    assert _vswitch(estate, "esx01.example.com", "vSwitch0")["security"] == {
        "promiscuous": False,
        "mac_changes": False,
        "forged_transmits": False,
    }
    assert _vswitch(estate, "esx02.example.com", "vSwitch0")["security"] == {
        "promiscuous": False,
        "mac_changes": True,
        "forged_transmits": True,
    }
    # a port group carries only what it overrides; the rest is inherited from its switch
    std = _pgs(_vswitch(estate, "esx01.example.com", "vSwitch0"))
    assert std["sniffer"] == {
        "name": "sniffer",
        "source": "RVTools_export_all.xlsx vPort row 8",
        "vlan": 4095,
        "security": {"promiscuous": True},
    }
    assert "security" not in std["Management Network"]
    dv = _pgs(_vswitch(estate, "esx01.example.com", "dvs-prod"))
    assert dv["ids-trunk"]["security"] == {"forged_transmits": True}
    assert _vswitch(estate, "esx01.example.com", "dvs-prod")["security"] == {
        "promiscuous": False,
        "mac_changes": False,
        "forged_transmits": False,
    }


def test_vlans_4095_and_distributed_trunks(estate: dict[str, object]) -> None:
    std = _pgs(_vswitch(estate, "esx01.example.com", "vSwitch0"))
    assert (std["VM Network"]["vlan"], std["Management Network"]["vlan"]) == (0, 10)
    assert std["sniffer"]["vlan"] == 4095
    dvs = _vswitch(estate, "esx02.example.com", "dvs-prod")
    dv = _pgs(dvs)
    assert dv["ids-trunk"]["vlan"] == {"trunk": "5-12,300"}
    assert dv["all-trunk"]["vlan"] == {"trunk": "1-4094"}  # 0-4094: 0 is the untagged frames
    assert "dvs-prod-DVUplinks-31" not in dv  # the uplink port group is the switch's uplinks
    assert "isolated" not in dv  # a private VLAN: warned, never guessed
    assert any("'Private VLAN 300/301'" in w for w in estate["_warnings"])  # type: ignore[attr-defined]
    assert dvs["type"] == "distributed" and dvs["uplinks"] == ["vmnic1"]


def test_vmkernel_services_and_addresses(estate: dict[str, object]) -> None:
    vmks = {m["name"]: m for m in _host(estate, "esx01.example.com")["management"]}  # type: ignore[attr-defined]
    assert vmks["vmk0"]["address"] == ["192.0.2.11/27", "2001:db8:10::11/64"]  # fe80:: left out
    assert vmks["vmk0"]["services"] == ["management"]
    assert vmks["vmk0"]["mac"] == "00:50:56:60:00:01"
    assert vmks["vmk1"] == {
        "name": "vmk1",
        "source": "RVTools_export_all.xlsx vSC_VMK row 3",
        "portgroup": "vMotion",  # a distributed port group
        "address": "192.0.2.41/27",
        "mac": "00:50:56:60:00:02",
        "services": ["vmotion", "provisioning"],
    }
    nics = _host(estate, "esx01.example.com")["nics"]
    assert nics[0] == {"name": "vmnic0", "source": "RVTools_export_all.xlsx vNIC row 2", "pci": "0000:18:00.0"}  # fmt: skip
    assert all("switch" not in n for n in nics)  # RVTools has no CDP/LLDP: never a cable


def test_vm_nics_macs_port_groups_and_ips(estate: dict[str, object]) -> None:
    guests = {g["name"]: g for g in estate["guests"]}  # type: ignore[attr-defined]
    web01 = guests["web01"]
    assert web01["host"] == "esx01.example.com"
    assert web01["nics"][1] == {
        "name": "Network adapter 2",
        "source": "RVTools_export_all.xlsx vNetwork row 3",
        "portgroup": "db",
        "mac": "00:50:56:a0:01:02",
        "address": ["198.51.100.75/32", "198.51.100.76/32", "2001:db8:120::11/128"],
    }
    assert [n["name"] for n in guests["sniff01"]["nics"]] == [
        "Network adapter 1",
        "Network adapter 2",
        "Network adapter 10",
    ]
    assert "tmpl-linux" not in guests  # a template never runs
    assert {"app01", "app01 (vm-107)"} <= set(guests)  # one name, two VMs (told apart by VM ID)
    assert "mac" not in guests["app01 (vm-107)"]["nics"][0]  # the duplicate MAC: warned
    assert "nics" not in guests["nsx01"]  # on an NSX segment no host has: warned
    warnings = "\n".join(estate["_warnings"])  # type: ignore[arg-type]
    assert (
        "vNetwork row 9: warning: MAC 00:50:56:a0:06:01 of guest app01 (vm-107)/Network adapter 1 "
        "is already guest app01/Network adapter 1's; left out here"
    ) in warnings
    assert (
        "vNetwork row 11: warning: nsx01: port group 'nsx-seg-web' is not on its host" in warnings
    )


def test_folders_annotations_and_attributes_drive_zone_rules(
    exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text(
        "rules:\n"
        "  - {zone: web, folder: 'Prod/Web'}\n"
        "  - {zone: security, tag: 'owner=secops'}\n"
        "  - {zone: admin, tag: 'jump host'}\n"
        "  - {zone: db, vlan: 120}\n",
        encoding="utf-8",
    )
    out = tmp_path / "zoned.json"
    assert (
        _import([str(exports["workbook"]), "--zones", str(rules), "-o", str(out)], capsys)[0] == 0
    )
    zone = {g["name"]: g.get("zone") for g in json.loads(out.read_text())["guests"]}
    assert zone["web01"] == zone["web02"] == "web"
    assert zone["ids01"] == zone["sniff01"] == "security"
    assert zone["jump01"] == "admin"  # its annotation
    assert zone["db01"] == "db"  # its port group's VLAN
    assert zone["app01"] is None


def test_check_finds_what_the_estate_was_shaped_for(
    exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "prod.json"
    assert _import([str(exports["workbook"]), "-o", str(out)], capsys)[0] == 0
    capsys.readouterr()
    main(["check", "--format", "json", str(out)])
    found = {(f["rule"], f["subject"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    expected = {
        # infra shares the management VLAN 10
        ("guest-on-management-segment", "guest:jump01/Network adapter 1"),
        ("guest-reaches-management", "guest:jump01/Network adapter 1"),
        # the distributed trunk 5-12 includes the management VLAN
        ("guest-can-tag-management-vlan", "guest:ids01/Network adapter 1"),
        # VLAN 4095 with the promiscuous override
        ("guest-observes-management", "guest:sniff01/Network adapter 1"),
        ("promiscuous-allowed", "portgroup:esx01.example.com/vSwitch0/sniffer"),
        ("guest-vlan-trunking", "portgroup:esx01.example.com/vSwitch0/sniffer"),
        # esx02's vSwitch0 has ESXi's defaults; the override on ids-trunk
        ("forged-transmits-allowed", "portgroup:esx02.example.com/vSwitch0/VM Network"),
        ("mac-changes-allowed", "portgroup:esx02.example.com/vSwitch0/VM Network"),
        ("forged-transmits-allowed", "portgroup:esx01.example.com/dvs-prod/ids-trunk"),
        # vmkernel services
        ("storage-not-isolated", "management:esx02.example.com/vmk0"),
        ("management-interface-multipurpose", "management:esx02.example.com/vmk0"),
        ("vmotion-not-isolated", "management:esx01.example.com/vmk1"),
        ("upstream-unmodelled", "nic:esx01.example.com/vmnic0"),
    }
    assert expected <= found
    # esx01's hardened vSwitch0 is not reported; the web port group overrides nothing risky
    assert not {
        s for r, s in found if r.endswith("-allowed") and "esx01.example.com/vSwitch0/VM" in s
    }
    assert not {s for r, s in found if "dvs-prod/web" in s and r.endswith("-allowed")}


# --- the real workbooks of the shared corpus --------------------------------------------------------


def _real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"the shared corpus ({path}) is not present")
    return path


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        (
            "migration-planner-example1.xlsx",
            "missing tabs vNetwork, vSwitch, vPort, dvSwitch, dvPort, vSC_VMK, vNIC "
            "(it has vInfo, vCPU, vMemory, vDisk, vPartition, vHost)",
        ),
        ("ibmcloud-rvtools-small-complete.xlsx", "missing tabs vSC_VMK, vNIC (it has vInfo"),
    ],
)
def test_a_real_workbook_without_networking_tabs_is_one_message(
    name: str, missing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _real(name)
    out = tmp_path / "out.yaml"
    code, _, err = _import([str(path), "-o", str(out)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: an RVTools export without its networking tabs: {missing}" in err
    assert not out.exists()


def test_the_real_vinfo_layout_is_read_by_name(tmp_path: Path) -> None:
    # the real vInfo (RVTools 4.x: 90 columns, 1,048,576 formatted rows) next to generated
    # networking tabs: its 9 VMs are read, by header name, up to the first blank row (vm-9
    # names no host: warned and left out)
    real = openpyxl.load_workbook(_real("migration-planner-example1.xlsx"), read_only=True)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("vInfo")
    for row in real["vInfo"].iter_rows(values_only=True):
        if not any(v is not None for v in row):
            break
        sheet.append(row)
    real.close()
    for tab in list(fx.LAYOUT)[1:]:
        book.create_sheet(tab).append(fx.LAYOUT[tab])
    path = tmp_path / "real-vinfo.xlsx"
    book.save(path)
    result = run_import("rvtools", ImportRequest((str(path),)), name="real", json_form=True)
    body = json.loads(result.text)
    assert [g["name"] for g in body["guests"]] == [f"vm-{i}" for i in range(1, 9)]
    assert [str(w) for w in result.warnings] == [
        "real-vinfo.xlsx vInfo row 10: warning: VM vm-9 names no host; left out"
    ]
    assert body["guests"][0] == {
        "name": "vm-1",
        "source": "real-vinfo.xlsx vInfo row 2",
        "host": "10.185.26.9",
    }
    assert len(body["hosts"]) == len({g["host"] for g in body["guests"]})
    assert all(h["hypervisor"] == "esxi" for h in body["hosts"])


def test_the_real_workbook_stops_at_the_first_blank_row() -> None:
    import time

    path = _real("migration-planner-example1.xlsx")
    for reader in (_read_with_openpyxl, _read_with_calamine):
        started = time.perf_counter()
        with pytest.raises(ImportSourceError, match="missing tabs"):
            reader(path)
        assert time.perf_counter() - started < 10
    from netseg.importers.rvtools import _tab_from_rows

    book = openpyxl.load_workbook(path, read_only=True)
    tab = _tab_from_rows("vInfo", str(path), "x", book["vInfo"].iter_rows(values_only=True), False)
    book.close()
    assert len(tab.rows) == 9 and tab.columns["folder"] == "Folder"


# --- bad inputs -----------------------------------------------------------------------------------


def _other_tool(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Inventory"  # type: ignore[union-attr]
    book.active.append(["Name", "IP"])  # type: ignore[union-attr]
    book.save(path)
    return path


def _truncated(path: Path, exports: dict[str, Path]) -> Path:
    data = exports["workbook"].read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _csv_without_column(path: Path, exports: dict[str, Path]) -> Path:
    shutil.copytree(exports["csv"], path)
    vport = path / "RVTools_tabvPort.csv"
    lines = vport.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    i = header.index("VLAN")
    vport.write_text(
        "\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != i) for line in lines),
        encoding="utf-8-sig",
    )
    return path


def _bad_vlan(path: Path, exports: dict[str, Path]) -> Path:
    tabs = fx.estate()
    tabs["vPort"][3]["VLAN"] = "ten"
    return fx.write_workbook(path, tabs)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other-tool.xlsx", "other-tool.xlsx: not an RVTools export: missing tabs vInfo, vNetwork"),
        (
            "truncated.xlsx",
            "truncated.xlsx: not an .xlsx workbook (the file is truncated or not a zip archive)",
        ),
        (
            "missing-column",
            "RVTools_tabvPort.csv:1: tab vPort: no column 'VLAN' in the header row (RVTools "
            "writes it in every version; the header has ",
        ),
        (
            "bad-vlan.xlsx",
            "bad-vlan.xlsx:sheet vPort row 5 column F (VLAN): expected a VLAN id 0-4095 (4095: "
            "all VLANs to the guest), got 'ten'",
        ),
        (
            "csv-without-vnic",
            "csv-without-vnic: an RVTools export without its networking tabs: missing tab vNIC "
            "(it has ",
        ),
        ("short-row", "RVTools_tabvSwitch.csv:3: tab vSwitch: the row has 2 fields, no "),
        ("one.csv", "one.csv: give the folder that holds the RVTools CSV files, not one of them"),
        ("absent.xlsx", "absent.xlsx: cannot read: No such file or directory"),
    ],
)
def test_bad_input_is_one_message_exit_2_and_nothing_written(
    case: str,
    message: str,
    exports: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / case
    if case == "other-tool.xlsx":
        _other_tool(path)
    elif case == "truncated.xlsx":
        _truncated(path, exports)
    elif case == "missing-column":
        _csv_without_column(path, exports)
    elif case == "bad-vlan.xlsx":
        _bad_vlan(path, exports)
    elif case == "csv-without-vnic":
        shutil.copytree(exports["csv"], path)
        (path / "RVTools_tabvNIC.csv").unlink()
    elif case == "short-row":
        shutil.copytree(exports["csv"], path)
        vswitch = path / "RVTools_tabvSwitch.csv"
        lines = vswitch.read_text(encoding="utf-8-sig").splitlines()
        lines[2] = "a,b"
        vswitch.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    elif case == "one.csv":
        path.write_text("VM,Host\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    code, stdout, err = _import([str(path), "-o", str(out)], capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and stdout == ""
