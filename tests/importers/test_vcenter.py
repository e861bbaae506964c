"""``netseg import vcenter`` against a real vSphere API: govmomi's simulator (Debian's
golang-github-vmware-govmomi-dev, built from tests/importers/vcsim/main.go), shaped by an estate
file, read by the importer through pyVmomi over HTTPS with a self-signed certificate.

The estate (tests/data/imports/vcenter/shaped.json): standard port groups on VLAN 0, tagged
VLANs and 4095 with security overrides, a distributed switch with a switch-level policy, VLAN,
trunk-range and private-VLAN port groups, vmkernel adapters with services (one the format does
not know) on standard and DV port groups, CDP and LLDP neighbours (short and long port names,
a MAC as port id), VMs in folders with tags, a MAC shared by two VMs and a NIC on a port group
its host does not have.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.vcsim import Simulator, build, serve
from netseg.cli.main import main
from tests.conftest import DATA, UPDATE_GOLDEN

pytest.importorskip("pyVmomi", reason="pyVmomi is not installed (pip install 'netseg[vmware]')")

FIXTURES = DATA / "imports" / "vcenter"
GOLDEN = DATA / "golden" / "imports" / "vcenter"
SERVER = re.compile(r"--server 127\.0\.0\.1:\d+")


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    binary = build()
    if isinstance(binary, str):
        pytest.skip(f"vCenter simulator unavailable: {binary}")
    return binary


@pytest.fixture(scope="module")
def shaped(vcsim_binary: Path) -> Iterator[Simulator]:
    with serve(vcsim_binary, FIXTURES / "shaped.json") as sim:
        yield sim


def run_import(
    sim: Simulator,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    password: str | None = None,
    insecure: bool = True,
) -> int:
    monkeypatch.setenv("NETSEG_VCENTER_PASSWORD", sim.password if password is None else password)
    args = ["import", "vcenter", "--server", sim.server, "--user", sim.user, "-o", str(out)]
    return main(args + (["--insecure"] if insecure else []) + list(extra))


def normalised(path: Path) -> str:
    # the simulator's port changes from run to run; it is only in the header
    return SERVER.sub("--server vcsim", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_golden_import_validates_and_is_byte_identical(
    shaped: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    first, second = tmp_path / f"shaped.{suffix}", tmp_path / f"again.{suffix}"
    assert run_import(shaped, first, monkeypatch, "--name", "shaped") == 0
    assert run_import(shaped, second, monkeypatch, "--name", "shaped") == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["validate", str(first)]) == 0
    golden = GOLDEN / f"shaped.{suffix}"
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(normalised(first), encoding="utf-8")
    assert normalised(first) == golden.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def imported(shaped: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("vcenter") / "shaped.json"
    with pytest.MonkeyPatch.context() as mp:
        assert run_import(shaped, out, mp) == 0
    document: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return document


def by_name(items: object) -> dict[str, dict[str, object]]:
    assert isinstance(items, list)
    return {item["name"]: item for item in items}


def test_standard_switch_security_and_port_groups(imported: dict[str, object]) -> None:
    hosts = by_name(imported["hosts"])
    a = by_name(hosts["esx-a"]["vswitches"])["vSwitch0"]
    assert a["security"] == {"promiscuous": False, "mac_changes": False, "forged_transmits": False}
    pgs = by_name(a["portgroups"])
    assert pgs["Management Network"]["vlan"] == 10
    assert pgs["untagged"]["vlan"] == 0
    assert pgs["trunk-all"]["vlan"] == 4095
    # a port group writes only what it overrides; the rest is inherited from the vSwitch
    assert pgs["trunk-all"]["security"] == {"promiscuous": True}
    assert pgs["vMotion"]["security"] == {"forged_transmits": True}
    assert "security" not in pgs["Management Network"]
    # a vSwitch that sets nothing gets the standard switch's defaults, written out
    b = by_name(hosts["esx-b"]["vswitches"])["vSwitch0"]
    assert b["security"] == {"promiscuous": False, "mac_changes": True, "forged_transmits": True}
    assert b["uplinks"] == ["vmnic0"]


def test_distributed_switch_on_each_member_host(imported: dict[str, object]) -> None:
    hosts = by_name(imported["hosts"])
    for host, uplinks in (("esx-a", ["vmnic2"]), ("esx-b", ["vmnic1"])):
        dvs = by_name(hosts[host]["vswitches"])["dvs-a"]
        assert dvs["type"] == "distributed"
        assert dvs["uplinks"] == uplinks
        # the switch-level policy over the distributed defaults (all reject)
        assert dvs["security"] == {
            "promiscuous": False,
            "mac_changes": False,
            "forged_transmits": True,
        }
        pgs = by_name(dvs["portgroups"])
        assert "dvs-a-DVUplinks-31" not in pgs and all("DVUplinks" not in n for n in pgs)
        assert pgs["web"]["vlan"] == 110
        # VLAN 0 dropped from a trunk, overlapping ranges merged; 0-4094 is every VLAN
        assert pgs["ids"]["vlan"] == {"trunk": "1-10,100-140"}
        assert pgs["everything"]["vlan"] == {"trunk": "all"}
        assert pgs["isolated"]["vlan"] == 201
        assert pgs["dv-storage"]["security"] == {"forged_transmits": False}
        assert pgs["promisc"]["security"] == {"promiscuous": True}


def test_vmkernel_services_and_addresses(imported: dict[str, object]) -> None:
    hosts = by_name(imported["hosts"])
    a = by_name(hosts["esx-a"]["management"])
    assert a["vmk0"] == {
        "name": "vmk0",
        "source": a["vmk0"]["source"],
        "portgroup": "Management Network",
        "address": "192.0.2.11/27",
        "mac": "00:50:56:6a:00:00",
        "services": ["management"],
    }
    assert a["vmk1"]["services"] == ["vmotion"]  # vSphereBackupNFC: a warning
    # a vmknic on a DV port group; the link-local IPv6 address is left out
    assert a["vmk2"]["portgroup"] == "dv-storage"
    assert a["vmk2"]["address"] == ["192.0.2.71/27", "2001:db8:30::11/64"]
    assert a["vmk2"]["services"] == ["vsan"]
    b = by_name(hosts["esx-b"]["management"])
    assert b["vmk0"]["services"] == ["management", "provisioning", "ft"]


def test_firewall_rulesets_become_firewall_lines(imported: dict[str, object]) -> None:
    hosts = by_name(imported["hosts"])
    firewall = hosts["esx-a"]["firewall"]
    assert firewall["default"] == "deny"  # ESXi blocks incoming traffic by default
    ssh = [line for line in firewall["allow"] if line["why"] == "ESXi ruleset sshServer"]
    # the allowed addresses, then the allowed networks, as vSphere lists them
    assert [(line["from"], line["services"]) for line in ssh] == [
        ("198.51.100.5/32", ["tcp/22"]),
        ("192.0.2.96/27", ["tcp/22"]),
    ]
    assert {"from": "any", "services": ["tcp/902"], "why": "ESXi ruleset NFC"} in firewall["allow"]
    # a disabled ruleset admits nothing; on esx-b it is left as ESXi ships it
    assert not any("CIMSLP" in line["why"] for line in firewall["allow"])
    assert any("CIMSLP" in line["why"] for line in hosts["esx-b"]["firewall"]["allow"])


def test_neighbours_link_nics_in_the_shared_naming(imported: dict[str, object]) -> None:
    nics = by_name(by_name(imported["hosts"])["esx-a"]["nics"])
    # CDP "tor1(FDO2112A0BC)" / "Gi1/0/1" -> the configured hostname and the full port name
    assert (nics["vmnic0"]["switch"], nics["vmnic0"]["port"]) == ("tor1", "GigabitEthernet1/0/1")
    assert "switch" not in nics["vmnic1"]  # LLDP port id is a MAC: never a guessed cable
    assert "switch" not in nics["vmnic2"]  # no neighbour at all
    b = by_name(by_name(imported["hosts"])["esx-b"]["nics"])
    assert (b["vmnic1"]["switch"], b["vmnic1"]["port"]) == ("tor2", "Ethernet1/2")
    switches = by_name(imported["switches"])
    assert [p["name"] for p in switches["tor1"]["ports"]] == [
        "GigabitEthernet1/0/1",
        "GigabitEthernet1/0/2",
    ]
    port = switches["tor1"]["ports"][0]
    assert (port["mode"], port["allowed"], port["native"]) == ("trunk", "all", 1)
    assert by_name(switches["tor2"]["ports"])["Ethernet1/2"]["native"] == "none"


def test_guests_nics_addresses_and_shared_mac(imported: dict[str, object]) -> None:
    guests = by_name(imported["guests"])
    assert guests["web1"]["host"] == "esx-a"
    assert guests["web1"]["nics"] == [
        {
            "source": guests["web1"]["nics"][0]["source"],
            "portgroup": "web",
            "mac": "00:50:56:00:00:01",
            "address": "198.51.100.10/26",
        }
    ]
    assert guests["web2"]["nics"][0]["address"] == ["198.51.100.11/26", "2001:db8:110::11/64"]
    # the second VM with the same MAC keeps its NIC, without the MAC
    assert guests["web2"]["nics"][0]["mac"] == "00:50:56:00:00:02"
    assert "mac" not in guests["web3"]["nics"][0]
    # sniff and lost run no VMware Tools: their NICs come from the virtual hardware
    assert [n["portgroup"] for n in guests["sniff"]["nics"]] == ["trunk-all", "ids"]
    # the NIC on a port group esx-b does not have is left out, the other kept
    assert [n["portgroup"] for n in guests["lost"]["nics"]] == ["isolated"]
    assert guests["web1"]["source"].startswith("vcenter VirtualMachine vm-")


def test_warnings_name_their_objects(
    shaped: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_import(shaped, tmp_path / "out.yaml", monkeypatch) == 0
    err = capsys.readouterr().err
    assert re.search(
        r"VirtualMachine vm-\d+ device \d+: warning: MAC 00:50:56:00:00:02 of VM web3", err
    )
    assert re.search(
        r"DistributedVirtualPortgroup dvportgroup-\d+: warning: port group isolated is on private VLAN 201",
        err,
    )
    assert "service vSphereBackupNFC has no counterpart" in err
    assert "LLDP port id '00:00:5e:00:53:01' of tor2 is not an interface name" in err
    assert "port group 'untagged', which host esx-b does not have" in err
    assert "Traceback" not in err


def test_zone_rules_on_folders_tags_and_port_groups(
    shaped: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {zone: security, folder: 'Security'}\n"
        "  - {zone: web, tag: 'tier:web'}\n"
        "  - {zone: infra, folder: 'Infra*'}\n"
        "  - {zone: prod, tag: 'env:prod'}\n"
        "  - {zone: web, portgroup: 'web'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "zoned.json"
    assert run_import(shaped, out, monkeypatch, "--zones", str(rules)) == 0
    guests = by_name(json.loads(out.read_text(encoding="utf-8"))["guests"])
    zones = {name: g.get("zone", "default") for name, g in guests.items()}
    assert zones == {
        "web1": "web",  # tag tier:web
        "web2": "web",
        "web3": "web",  # untagged, but on port group web
        "sniff": "security",  # folder
        "mgmtvm": "infra",
        "lost": "default",
    }


def test_check_findings_on_the_imported_estate(
    shaped: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, report = tmp_path / "estate.yaml", tmp_path / "check.json"
    assert run_import(shaped, out, monkeypatch) == 0
    assert main(["check", str(out), "--format", "json", "-o", str(report)]) == 1
    found = {
        (f["rule"], f["subject"])
        for f in json.loads(report.read_text(encoding="utf-8"))["findings"]
    }
    expected = {
        # a guest on VLAN 4095 next to the management VLAN, promiscuous
        ("guest-can-tag-management-vlan", "guest:sniff/nic0"),
        ("guest-vlan-trunking", "portgroup:esx-a/vSwitch0/trunk-all"),
        ("promiscuous-allowed", "portgroup:esx-a/vSwitch0/trunk-all"),
        # a guest in the management port group reaches vmk0
        ("guest-on-management-segment", "guest:mgmtvm/nic0"),
        ("guest-reaches-management", "guest:mgmtvm/nic0"),
        # inherited from the distributed switch's own policy, on both hosts
        ("forged-transmits-allowed", "portgroup:esx-a/dvs-a/web"),
        ("forged-transmits-allowed", "portgroup:esx-b/dvs-a/web"),
        # ESXi's rulesets admit every address on most services
        ("management-firewall-permissive", "host:esx-a"),
        # the vmnic without a neighbour
        ("upstream-unmodelled", "nic:esx-a/vmnic2"),
    }
    assert expected <= found, sorted(expected - found)
    # the DV port group that overrides the switch's forged transmits back to reject is clean
    assert ("forged-transmits-allowed", "portgroup:esx-a/dvs-a/dv-storage") not in found


def test_self_signed_certificate_refused_without_insecure(
    shaped: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out.yaml"
    assert run_import(shaped, out, monkeypatch, insecure=False) == 2
    err = capsys.readouterr().err
    assert "certificate is not trusted" in err and "--insecure" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_wrong_password_is_one_message_and_never_printed(
    shaped: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out.yaml"
    secret = "Wr0ng-S3cret-Value"
    assert run_import(shaped, out, monkeypatch, password=secret) == 2
    captured = capsys.readouterr()
    assert f"login refused for user {shaped.user!r}" in captured.err
    assert secret not in captured.err + captured.out
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not out.exists()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_unreachable_vcenter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NETSEG_VCENTER_PASSWORD", "Unused-S3cret")
    out = tmp_path / "out.yaml"
    server = f"127.0.0.1:{closed_port()}"
    args = ["import", "vcenter", "--server", server, "--user", "u", "-o", str(out)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert f"--server {server}: cannot reach the vCenter: connection refused" in captured.err
    assert "Unused-S3cret" not in captured.err + captured.out
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs --server HOST[:PORT]"),
        (["--server", "vc.example.net:99999"], "port '99999' is not a TCP port"),
        (["estate.json", "--server", "vc.example.net"], "reads a live vCenter"),
    ],
)
def test_bad_arguments(
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NETSEG_VCENTER_PASSWORD", "x")
    assert main(["import", "vcenter", *args]) == 2
    assert message in capsys.readouterr().err
