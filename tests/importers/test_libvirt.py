"""netseg import libvirt: virsh XML (files and a live libvirt through virsh, tested against
libvirt's test driver), Xen xl.cfg files, and the host's OVS database joined to its domains.

Regenerate the goldens deliberately with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/importers/test_libvirt.py`` and review the diff.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from netseg.cli.main import main
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, run_import
from tests.conftest import CORPUS, DATA
from tests.importers.conftest import KVM01, OvsDb, check_golden, import_cli, without_sources

FIXTURES = DATA / "imports" / "libvirt"
GOLDEN = DATA / "golden" / "imports" / "libvirt"
ESTATE = FIXTURES / "kvm01-estate.xml"
SAMPLES = sorted(
    [
        *(CORPUS / "configs" / "libvirt").glob("*/*.xml"),
        *(CORPUS / "configs" / "libvirt").glob("*/*.cfg"),
        *(CORPUS / "imports" / "libvirt").glob("*/*.xml"),
    ]
)


def _document(text: str) -> object:
    return json.loads(text)


# --- goldens -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    ["kvm01", "xen01", "kvm01-estate.xml"],
)
def test_fixture_imports_as_its_golden_and_validates(
    fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--host", "kvm01"] if fixture.endswith(".xml") else []
    argv = ["libvirt", str(FIXTURES / fixture), *extra, "--name", "as-built"]
    text, _ = import_cli(argv, tmp_path / "o.yaml", capsys)
    check_golden(text, GOLDEN / f"{fixture.removesuffix('.xml')}.yaml")
    again, _ = import_cli(argv, tmp_path / "p.yaml", capsys)
    assert again == text  # byte-identical on a second run


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in SAMPLES])
def test_every_libvirt_and_xen_sample_of_the_corpus_imports(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path
) -> None:
    text, _ = import_cli(["libvirt", str(sample), "--name", "sample"], tmp_path / "o.yaml", capsys)
    check_golden(text, GOLDEN / "corpus" / sample.parent.name / f"{sample.name}.yaml")


def test_a_libvirt_guest_and_its_xl_cfg_twin_are_the_same_nic(corpus: Path) -> None:
    # libvirt's own xlconfigdata pairs: the xl.cfg and the XML libvirt makes of it
    folder = corpus / "configs" / "libvirt" / "xlconfigdata"
    for stem in ("test-fullvirt-ovswitch-tagged", "test-fullvirt-ovswitch-trunked"):
        nics = []
        for suffix in (".cfg", ".xml"):
            result = run_import(
                "libvirt",
                ImportRequest((str(folder / f"{stem}{suffix}"),)),
                name="x",
                json_form=True,
            )
            body = json.loads(result.text)
            nics.append(without_sources(body["guests"][0]["nics"]))
        assert nics[0] == nics[1]


# --- what the import says about the estate ----------------------------------------------------------


def _kvm01(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    text, _ = import_cli(["libvirt", str(FIXTURES / "kvm01")], tmp_path / "kvm01.json", capsys)
    body: dict[str, object] = json.loads(text)
    return body


def test_kvm_host_is_modelled_as_xen_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = _kvm01(tmp_path, capsys)["hosts"][0]  # type: ignore[index]
    assert host["hypervisor"] == "xen"
    assert host["description"].startswith("KVM host (libvirt), modelled as hypervisor xen")


def test_guest_vlans_resolve_interface_then_portgroup_then_ovs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guests = {g["name"]: g for g in _kvm01(tmp_path, capsys)["guests"]}  # type: ignore[attr-defined]
    # web01 names no portgroup: the network's default one (web, VLAN 110)
    assert guests["web01"]["nics"][0]["vlan"] == 110
    assert guests["db01"]["nics"][0]["vlan"] == 120
    # portgroup ids: trunk 110,120 with 110 untagged (nativeMode='untagged')
    assert guests["ids01"]["nics"][0]["vlan"] == {"trunk": "110,120", "native": 110}
    # the DHCP static host of the NAT network gives jump01 its address
    assert guests["jump01"]["nics"][0]["address"] == "192.0.2.10/24"
    assert guests["gpu01"]["passthrough"] == ["0000:03:00.0"]
    # a port OVS has and no domain claims is kept as a guest of its own
    assert "vm-5f3b8a4e-1d2c-4e6f-8a9b-000000000109" in guests


def test_ovs_uplinks_and_host_interfaces_join_the_libvirt_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = _kvm01(tmp_path, capsys)["hosts"][0]  # type: ignore[index]
    vswitches = {v["name"]: v for v in host["vswitches"]}
    assert vswitches["ovsbr0"]["type"] == "ovs"
    assert vswitches["ovsbr0"]["uplinks"] == ["bond0"]
    management = {m["name"]: m for m in host["management"]}
    assert management["mgmt0"] == {
        "name": "mgmt0",
        "source": "ovs.json Port mgmt0",
        "vswitch": "ovsbr0",
        "vlan": 10,
    }
    assert management["virbr0"]["address"] == "192.0.2.1/24"


def test_check_finds_the_nat_guest_reaching_the_host(tmp_path: Path) -> None:
    out = tmp_path / "kvm01.json"
    assert main(["import", "libvirt", str(FIXTURES / "kvm01"), "-o", str(out)]) == 0
    report = tmp_path / "findings.json"
    assert main(["check", str(out), "--format", "json", "-o", str(report)]) == 1
    findings = json.loads(report.read_text())["findings"]
    got = {(f["rule"], f["subject"]) for f in findings}
    # the NAT network's bridge carries the host's own address: its guests reach the host
    assert ("guest-reaches-management", "guest:jump01/nic0") in got
    # ids01's trunk, and the macvtap guests that can tag anything onto the wire
    assert ("guest-vlan-trunking", "guest:ids01/nic0") in got
    assert ("transparent-bridge", "vswitch:kvm01/storage") in got
    assert ("management-firewall-missing", "host:kvm01") in got


def test_xl_cfg_bridge_syntax_and_ovs_default_trunk(tmp_path: Path) -> None:
    result = run_import(
        "libvirt", ImportRequest((str(FIXTURES / "xen01"),)), name="x", json_form=True
    )
    body = json.loads(result.text)
    nics = {g["name"]: g["nics"] for g in body["guests"]}
    assert nics["web02"][0]["vlan"] == 42  # bridge=xenbr0.42
    assert nics["ids02"][0]["vlan"] == {"trunk": "42-43", "native": 0}  # bridge=xenbr0:42:43
    assert nics["db02"][0]["vlan"] == {"trunk": "all", "native": 0}  # OVS's default, explicit
    assert "vlan" not in nics["ids02"][1]  # xenbr1 is a Linux bridge
    assert nics["ids02"][1]["address"] == "203.0.113.12/32"
    (host,) = body["hosts"]
    assert host["hypervisor"] == "xen" and "description" not in host
    assert {v["name"]: v.get("domain") for v in host["vswitches"]}["dd-br"] == "netdd"
    # the driver domain's own xl.cfg gives its PCI devices, and it is no guest
    assert host["driver_domains"] == [
        {"name": "netdd", "source": "netdd.cfg:2", "passthrough": ["0000:07:00.0"]}
    ]
    assert "netdd" not in nics
    gpu02 = next(g for g in body["guests"] if g["name"] == "gpu02")
    assert gpu02["passthrough"] == ["0000:05:00.0", "0000:06:00.1"]


def test_libvirt_and_ovs_disagreeing_on_a_vlan_is_a_warning_and_ovs_wins(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "kvm01"
    folder.mkdir()
    for f in (FIXTURES / "kvm01").iterdir():
        text = f.read_text()
        if f.name == "ovs.json":
            text = text.replace(
                '"vnet1",["map",[]],false,["set",[]],["map",[]],["map",[]],'
                '["map",[]],["map",[]],120',
                '"vnet1",["map",[]],false,'
                '["set",[]],["map",[]],["map",[]],["map",[]],["map",[]],121',
            )
            assert "121" in text
        (folder / f.name).write_text(text)
    result = run_import("libvirt", ImportRequest((str(folder),)), name="x", json_form=True)
    db01 = next(g for g in json.loads(result.text)["guests"] if g["name"] == "db01")
    assert db01["nics"][0]["vlan"] == 121
    assert any(
        "libvirt says VLAN 120, OVS port vnet1 has 121; OVS's is in force" in str(w)
        for w in result.warnings
    )


# --- live: the real libvirt through virsh (test driver) ------------------------------------------------


def test_live_libvirt_gives_what_its_dumpxml_files_give(
    virsh: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"test://{ESTATE}"
    live, _ = import_cli(
        ["libvirt", "--connect", uri, "--host", "kvm01"], tmp_path / "live.json", capsys
    )
    files, _ = import_cli(["libvirt", str(FIXTURES / "kvm01")], tmp_path / "files.json", capsys)
    assert "libvirt test://" in live  # every entity names the live object it came from
    got, want = _document(live), _document(files)
    # the files' folder also holds the OVS database: compare without what only it adds
    for body in (got, want):
        for host in body["hosts"]:  # type: ignore[index]
            host.pop("source")
    want_guests = [g for g in want["guests"] if not g["name"].startswith("vm-")]  # type: ignore[index]
    assert [g["name"] for g in got["guests"]] == [g["name"] for g in want_guests]  # type: ignore[index]
    assert without_sources(got["guests"][2]) == without_sources(  # type: ignore[index]
        want_guests[2]
    )  # ids01: same trunk and native from libvirt's portgroup


def test_live_libvirt_with_the_live_ovs_database_equals_the_saved_files(
    virsh: str, ovsdb: OvsDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ovsdb.build(KVM01)
    uri = f"test://{ESTATE}"
    live, _ = import_cli(
        ["libvirt", "--connect", uri, "--db", ovsdb.address, "--host", "kvm01", "--name", "k"],
        tmp_path / "live.json",
        capsys,
    )
    files, _ = import_cli(
        ["libvirt", str(FIXTURES / "kvm01"), "--name", "k"], tmp_path / "files.json", capsys
    )
    got, want = without_sources(_document(live)), without_sources(_document(files))
    assert got == want


def test_the_committed_dumpxml_files_are_what_virsh_prints(virsh: str) -> None:
    import subprocess

    uri = f"test://{ESTATE}"
    for path in sorted((FIXTURES / "kvm01").glob("*.xml")):
        if path.name.startswith("net-"):
            args = ["net-dumpxml", path.stem.removeprefix("net-")]
        else:
            args = ["dumpxml", path.stem]
        printed = subprocess.run(
            [virsh, "-q", "-c", uri, *args], capture_output=True, text=True, check=True
        ).stdout
        assert printed == path.read_text(), path.name


# --- bad input ------------------------------------------------------------------------------------------


def _fails(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out = tmp_path / "out.yaml"
    assert main(["import", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not out.exists()
    return err


def test_a_libvirt_uri_that_does_not_answer_is_exit_2(
    virsh: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-estate.xml"
    err = _fails(["libvirt", "--connect", f"test://{missing}", "--host", "h"], tmp_path, capsys)
    assert f"--connect test://{missing}: libvirt did not answer (virsh net-list)" in err


def test_a_truncated_dumpxml_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "web01.xml"
    text = (FIXTURES / "kvm01" / "web01.xml").read_text()
    bad.write_text(text[: text.index("<devices>") + 30])
    err = _fails(["libvirt", str(bad)], tmp_path, capsys)
    assert f"{bad}:" in err and "not well-formed XML" in err


def test_an_xml_bomb_is_refused_without_expanding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.xml"
    lol = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE domain [{lol}]>\n<domain>&a9;</domain>\n')
    start = time.perf_counter()
    err = _fails(["libvirt", str(bomb)], tmp_path, capsys)
    assert time.perf_counter() - start < 2
    assert f"{bomb}: refused: the XML declares a DTD or entities" in err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("caps.xml", "<capabilities><host/></capabilities>", "a <capabilities> document; expected"),
        ("g.cfg", 'name = "g"\nvif = [ "mac=00:16:3e:00:00:01"\n', ":2: a list is not closed"),
        ("g.cfg", "memory = 1024\n", "an xl.cfg file names its domain"),
        ("g.cfg", "name = g(\n", ":1: the value of name is not a string"),
    ],
)
def test_input_that_is_not_libvirt_or_xl_is_exit_2(
    name: str, text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert message in _fails(["libvirt", str(path)], tmp_path, capsys)


def test_db_without_connect_is_refused() -> None:
    with pytest.raises(ImportSourceError, match="--db: goes with --connect"):
        run_import("libvirt", ImportRequest((), {"db": "unix:/nonexistent"}), name="x")


def test_one_folder_per_host_and_zone_rules_on_portgroups(tmp_path: Path) -> None:
    from netseg.importers.zones import load_zone_rules

    rules = tmp_path / "zones.yaml"
    rules.write_text(
        "rules:\n  - {zone: db, portgroup: db}\n  - {zone: nat, portgroup: default}\n",
        encoding="utf-8",
    )
    result = run_import(
        "libvirt",
        ImportRequest((str(FIXTURES / "kvm01"), str(FIXTURES / "xen01"))),
        name="x",
        json_form=True,
        zones=load_zone_rules(str(rules)),
    )
    body = json.loads(result.text)
    assert [h["name"] for h in body["hosts"]] == ["kvm01", "xen01"]
    zone = {g["name"]: g.get("zone") for g in body["guests"]}
    assert zone["db01"] == "db"  # the portgroup its interface names
    assert zone["jump01"] == "nat"  # the network it is on
    assert zone["web01"] is None


def test_a_domain_nic_joins_its_ovs_port_by_libvirts_interfaceid(
    virsh: str, ovsdb: OvsDb, tmp_path: Path
) -> None:
    # web01's port carries libvirt's interfaceid as iface-id, and neither its MAC nor a name
    # libvirt's test driver would give it: the id alone joins them
    ovsdb.build(
        [
            ["add-br", "ovsbr0"],
            ["add-port", "ovsbr0", "tap-web", "tag=111", "--", "set", "Interface", "tap-web",
             "external-ids:iface-id=0d3e6a52-9c1b-4f7e-a2d8-000000000101"],
        ]
    )  # fmt: skip
    result = run_import(
        "libvirt",
        ImportRequest((), {"connect": f"test://{ESTATE}", "db": ovsdb.address, "host": "kvm01"}),
        name="x",
        json_form=True,
    )
    guests = {g["name"]: g for g in json.loads(result.text)["guests"]}
    assert guests["web01"]["nics"][0]["vlan"] == 111
    assert "libvirt says VLAN 110, OVS port tap-web has 111; OVS's is in force" in str(
        result.warnings
    )
    assert not any(name.startswith("kvm01-") for name in guests)  # the port is claimed


def test_without_virsh_the_live_path_says_which_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no virsh on it
    err = _fails(["libvirt", "--connect", "qemu:///system", "--host", "h"], tmp_path, capsys)
    assert "virsh is not installed (Debian package libvirt-clients)" in err


def test_a_mac_on_two_guests_is_a_warning_and_kept_on_the_first(tmp_path: Path) -> None:
    other = tmp_path / "xen02"
    other.mkdir()
    (other / "web03.cfg").write_text(
        'name = "web03"\nvif = [ "mac=00:16:3E:00:02:01,bridge=xenbr0.42" ]\n', encoding="utf-8"
    )
    result = run_import(
        "libvirt", ImportRequest((str(FIXTURES / "xen01"), str(other))), name="x", json_form=True
    )
    nics = {g["name"]: g["nics"][0] for g in json.loads(result.text)["guests"]}
    assert nics["web02"]["mac"] == "00:16:3e:00:02:01"
    assert "mac" not in nics["web03"] and nics["web03"]["vlan"] == 42
    assert "web03.cfg:2: warning: MAC 00:16:3e:00:02:01 is also on web02.cfg:5; left out here" in [
        str(w) for w in result.warnings
    ]


def test_an_unreadable_mac_or_address_is_left_out_with_a_warning(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(
        'name = "bad"\nvif = [ "mac=zz:16:3e:00:00:01,bridge=xenbr1,ip=not-an-ip 203.0.113.9" ]\n',
        encoding="utf-8",
    )
    result = run_import("libvirt", ImportRequest((str(cfg),)), name="x", json_form=True)
    (guest,) = json.loads(result.text)["guests"]
    assert guest["nics"][0] == {
        "source": "bad.cfg:2",
        "vswitch": "xenbr1",
        "address": "203.0.113.9/32",
    }
    warnings = [str(w) for w in result.warnings]
    assert "bad.cfg:2: warning: MAC 'zz:16:3e:00:00:01' is not six hex octets; left out" in warnings
    assert "bad.cfg:2: warning: address 'not-an-ip/32' is not an IP address; left out" in warnings
