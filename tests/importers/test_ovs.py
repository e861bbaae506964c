"""netseg import ovs: ovs-vsctl output (JSON lists, text lists, `show`) and a running OVS
database through ovs-vsctl, tested against a real ovsdb-server.

Regenerate the goldens deliberately with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/importers/test_ovs.py`` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netseg.cli.main import main
from netseg.importers import ImportRequest, run_import
from tests.conftest import CORPUS, DATA, UPDATE_GOLDEN
from tests.importers.conftest import KVM01, OvsDb, check_golden, import_cli, without_sources

FIXTURES = DATA / "imports" / "ovs"
GOLDEN = DATA / "golden" / "imports" / "ovs"
SAMPLES = sorted((CORPUS / "imports" / "ovs").glob("*/*"))


def _json(path: Path, *extra: str) -> dict[str, Any]:
    result = run_import(
        "ovs", ImportRequest((str(path),), dict(_options(extra))), name="k", json_form=True
    )
    body: dict[str, Any] = json.loads(result.text)
    return body


def _options(extra: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(extra[i].lstrip("-"), extra[i + 1]) for i in range(0, len(extra), 2)]


# --- goldens ---------------------------------------------------------------------------------------


def test_fixture_imports_as_its_golden_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ovs", str(FIXTURES / "kvm01.json"), "--name", "as-built"]
    text, err = import_cli(argv, tmp_path / "o.yaml", capsys)
    check_golden(text, GOLDEN / "kvm01.yaml")
    again, _ = import_cli(argv, tmp_path / "p.yaml", capsys)
    assert again == text
    assert "kvm01.json Port vxlan0: warning: vxlan tunnel vxlan0 to 198.51.100.20" in err


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in SAMPLES])
def test_every_ovs_sample_of_the_corpus_imports(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path
) -> None:
    text, _ = import_cli(["ovs", str(sample), "--name", "sample"], tmp_path / "o.yaml", capsys)
    check_golden(text, GOLDEN / "corpus" / sample.parent.name / f"{sample.name}.yaml")


def test_the_committed_lists_are_what_ovs_vsctl_prints_for_kvm01(ovsdb: OvsDb) -> None:
    ovsdb.build(KVM01)
    printed = ovsdb.lists()
    fresh = ovsdb.folder / "kvm01.json"
    fresh.write_text(printed)
    # UUIDs differ from one database to the next; the estate does not
    same = without_sources(_json(fresh)) == without_sources(_json(FIXTURES / "kvm01.json"))
    if UPDATE_GOLDEN and not same:  # the estate changed: save what ovs-vsctl prints now
        (FIXTURES / "kvm01.json").write_text(printed)
        (DATA / "imports" / "libvirt" / "kvm01" / "ovs.json").write_text(printed)
        same = True
    assert same


# --- what the database says ---------------------------------------------------------------------------


def test_host_is_named_by_the_database_and_bond_internal_guests_are_read() -> None:
    body = _json(FIXTURES / "kvm01.json")
    (host,) = body["hosts"]
    assert host["name"] == "kvm01"  # external_ids:hostname kvm01.example.net, domain dropped
    assert host["nics"][0] == {
        "name": "bond0",
        "source": "kvm01.json Port bond0 (OVS bond of ens1f0, ens1f1; "
        "bond_mode balance-tcp, lacp active)",
    }
    assert {m["name"]: m.get("vlan") for m in host["management"]} == {
        "br-ex": None,
        "mgmt0": 10,
        "ovsbr0": None,
    }
    guests = {g["name"]: g["nics"][0] for g in body["guests"]}
    assert guests["vm-5f3b8a4e-1d2c-4e6f-8a9b-000000000103"]["vlan"] == {
        "trunk": "110,120",
        "native": 110,
    }
    assert guests["vm-5f3b8a4e-1d2c-4e6f-8a9b-000000000101"]["mac"] == "52:54:00:00:01:01"


def test_host_option_overrides_the_database_name() -> None:
    assert _json(FIXTURES / "kvm01.json", "--host", "hv7")["hosts"][0]["name"] == "hv7"


@pytest.mark.parametrize(
    ("settings", "vlan"),
    [
        (["tag=30"], 30),
        (["tag=30", "vlan_mode=access"], 30),
        ([], {"trunk": "all", "native": 0}),  # OVS's default, made explicit
        (["trunks=10,20"], {"trunk": "10,20", "native": 0}),
        (["tag=10", "trunks=10,20", "vlan_mode=native-tagged"], {"trunk": "10,20", "native": 10}),
        (["tag=10", "vlan_mode=native-untagged"], {"trunk": "all", "native": 10}),
        (["tag=40", "vlan_mode=dot1q-tunnel"], 40),
    ],
)
def test_every_vlan_mode_of_a_real_database(
    ovsdb: OvsDb, settings: list[str], vlan: Any, tmp_path: Path
) -> None:
    ovsdb.build(
        [
            ["set", "Open_vSwitch", ".", "external-ids:hostname=hv1"],
            ["add-br", "br0"],
            ["add-port", "br0", "eth0"],
            ["add-port", "br0", "vnet0", *settings],
        ]
    )
    result = run_import("ovs", ImportRequest((), {"db": ovsdb.address}), name="x", json_form=True)
    (guest,) = json.loads(result.text)["guests"]
    assert guest["name"] == "hv1-vnet0"
    assert guest["nics"][0].get("vlan") == vlan
    if "dot1q-tunnel" in settings:
        assert "dot1q-tunnel (QinQ) port" in str(result.warnings)


def test_live_database_gives_what_its_saved_lists_give(
    ovsdb: OvsDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ovsdb.build(KVM01)
    live, _ = import_cli(["ovs", "--db", ovsdb.address, "--name", "k"], tmp_path / "l.json", capsys)
    saved, _ = import_cli(
        ["ovs", str(FIXTURES / "kvm01.json"), "--name", "k"], tmp_path / "s.json", capsys
    )
    assert f"ovs unix:{ovsdb.socket} Port mgmt0" in live
    assert without_sources(json.loads(live)) == without_sources(json.loads(saved))


def test_text_lists_and_split_files_read_as_the_json_lists(ovsdb: OvsDb, tmp_path: Path) -> None:
    ovsdb.build(KVM01)
    folder = tmp_path / "kvm01"
    folder.mkdir()
    for table in ("Open_vSwitch", "Bridge", "Port", "Interface"):
        (folder / f"{table}.txt").write_text(ovsdb.vsctl("list", table))
    want = without_sources(_json(FIXTURES / "kvm01.json"))
    got = without_sources(
        json.loads(run_import("ovs", ImportRequest((str(folder),)), name="k", json_form=True).text)
    )
    assert got == want


def test_without_the_interface_list_ports_are_read_by_name_with_a_warning(
    ovsdb: OvsDb, tmp_path: Path
) -> None:
    ovsdb.build(KVM01)
    lists = tmp_path / "kvm01.json"
    lists.write_text(ovsdb.vsctl("--format=json", "list", "Bridge", "--", "list", "Port"))
    result = run_import("ovs", ImportRequest((str(lists),), {"host": "kvm01"}), name="x")
    assert "no Interface list: interface types are unknown" in str(result.warnings)
    body = json.loads(
        run_import(
            "ovs", ImportRequest((str(lists),), {"host": "kvm01"}), name="x", json_form=True
        ).text
    )
    (host,) = body["hosts"]
    # the bridge-local ports are the host's own even so; vnetN are guest taps by their names
    assert {m["name"] for m in host["management"]} == {"br-ex", "ovsbr0"}
    assert {n["name"] for n in host["nics"]} >= {"bond0", "ens2"}
    assert {g["nics"][0]["name"] for g in body["guests"]} == {"vnet0", "vnet1", "vnet2", "vnet9"}


def test_show_text_is_read_and_its_missing_vlan_mode_warned(ovsdb: OvsDb, tmp_path: Path) -> None:
    ovsdb.build(KVM01)
    show = tmp_path / "show.txt"
    show.write_text(ovsdb.vsctl("show"))
    result = run_import(
        "ovs", ImportRequest((str(show),), {"host": "kvm01"}), name="x", json_form=True
    )
    nics = {g["nics"][0]["name"]: g["nics"][0] for g in json.loads(result.text)["guests"]}
    assert nics["vnet2"]["vlan"] == {"trunk": "110,120", "native": 110}
    assert nics["vnet0"]["vlan"] == 110
    assert "does not print vlan_mode: port vnet2" in str(result.warnings)


def test_check_finds_the_host_interface_on_the_guest_bridge(tmp_path: Path) -> None:
    out = tmp_path / "kvm01.json"
    assert main(["import", "ovs", str(FIXTURES / "kvm01.json"), "-o", str(out)]) == 0
    report = tmp_path / "findings.json"
    main(["check", str(out), "--format", "json", "-o", str(report)])
    got = {(f["rule"], f["subject"]) for f in json.loads(report.read_text())["findings"]}
    assert ("management-on-guest-switch", "management:kvm01/mgmt0") in got
    assert any(
        r == "guest-vlan-trunking" and s.startswith("guest:vm-5f3b8a4e-1d2c-4e6f-8a9b-000000000103")
        for r, s in got
    )


# --- bad input ----------------------------------------------------------------------------------------


def _fails(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out = tmp_path / "out.yaml"
    assert main(["import", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not out.exists()
    return err


def test_an_ovs_socket_that_is_not_there_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sock = tmp_path / "db.sock"
    err = _fails(["ovs", "--db", f"unix:{sock}"], tmp_path, capsys)
    assert f"--db unix:{sock}: no OVS database socket at {sock}" in err


def test_a_socket_nobody_serves_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    path = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody answers
    err = _fails(["ovs", "--db", f"unix:{path}"], tmp_path, capsys)
    assert f"--db unix:{path}: the OVS database did not answer" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"data": [[1]], "headings": ["rx_bytes"]}', ":1: this is not a list of the"),
        ('["map",[["rx_bytes",2]]]', ":1: expected the output of `ovs-vsctl --format=json list"),
        ('{"data": [["br0", []]], "headings": ["name", "ports"]}', "lacks the column(s) _uuid"),
        ('{"data": [["br0"]], "headings": ["name", "ports"]}', ":1: a row does not match"),
        (
            '{"data": [[["uuid","x"], "br0", ["set", []]]],\n "headings": ["_uuid", "name"',
            ":2: not valid JSON",
        ),
        ("Hello\n", ":1: expected `ovs-vsctl show` output"),
        ("_uuid : 1\nnot a column line\n", ":2: expected `ovs-vsctl list TABLE` output"),
    ],
)
def test_output_of_another_command_is_exit_2(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ovs.json"
    path.write_text(text)
    assert message in _fails(["ovs", str(path)], tmp_path, capsys)


def test_libvirts_ovs_statistics_sample_is_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stats = corpus / "configs" / "libvirt" / "virnetdevopenvswitchdata" / "stats1.json"
    assert "expected the output of `ovs-vsctl --format=json list" in _fails(
        ["ovs", str(stats)], tmp_path, capsys
    )


def test_without_ovs_vsctl_the_live_path_says_which_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    err = _fails(["ovs", "--db", "unix:/run/openvswitch/db.sock"], tmp_path, capsys)
    assert "ovs-vsctl is not installed (Debian package openvswitch-switch)" in err


def test_host_option_with_several_hosts_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "ovs.json").write_text((FIXTURES / "kvm01.json").read_text())
    err = _fails(["ovs", str(tmp_path / "a"), str(tmp_path / "b"), "--host", "h"], tmp_path, capsys)
    assert "--host: names one host, but the inputs are several hosts" in err


def _minimal_lists(host: str, mac: str) -> str:
    """The three lists of one bridge with its bridge-local internal port, as ovs-vsctl prints
    them once ovs-vswitchd has filled mac_in_use."""
    tables = [
        (
            ["_uuid", "external_ids", "ovs_version"],
            [[["uuid", "o"], ["map", [["hostname", host]]], "3.1.0"]],
        ),
        (["_uuid", "name", "ports"], [[["uuid", "b"], "br0", ["uuid", "p"]]]),
        (["_uuid", "name", "interfaces", "tag"], [[["uuid", "p"], "br0", ["uuid", "i"], 10]]),
        (
            ["_uuid", "name", "type", "mac_in_use", "options"],
            [[["uuid", "i"], "br0", "internal", mac, ["map", []]]],
        ),
    ]
    return "".join(json.dumps({"data": d, "headings": h}) + "\n" for h, d in tables)


def test_internal_interfaces_carry_the_hosts_mac_once(tmp_path: Path) -> None:
    for host in ("hv1", "hv2"):
        (tmp_path / host).mkdir()
        (tmp_path / host / "ovs.json").write_text(_minimal_lists(host, "02:00:5E:10:00:01"))
    result = run_import(
        "ovs",
        ImportRequest((str(tmp_path / "hv1"), str(tmp_path / "hv2"))),
        name="x",
        json_form=True,
    )
    hosts = {h["name"]: h["management"][0] for h in json.loads(result.text)["hosts"]}
    assert hosts["hv1"] == {
        "name": "br0",
        "source": "ovs.json Port br0",
        "vswitch": "br0",
        "vlan": 10,
        "mac": "02:00:5e:10:00:01",
    }
    assert "mac" not in hosts["hv2"]
    assert "MAC 02:00:5e:10:00:01 is also on ovs.json Port br0; left out here" in str(
        result.warnings
    )


def test_a_host_folder_with_libvirt_xml_points_to_the_libvirt_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = tmp_path / "kvm01"
    host.mkdir()
    (host / "web01.xml").write_text("<domain type='kvm'><name>web01</name></domain>\n")
    assert main(["import", "ovs", str(host), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert "web01.xml:1: is XML, not ovs-vsctl output" in err and "netseg import libvirt" in err
    assert not (tmp_path / "out.yaml").exists()
