"""The mixed worked example (examples/mixed-import/, issue 16): a Hyper-V host, a Xen host
described by libvirt's test driver with its Open vSwitch database, and the switch between them,
imported per source by the example's own build.py steps, included by a hand-written lab.yaml,
checked, and diffed against the hand-written design. The committed imports are the goldens
(UPDATE_GOLDEN=1 rewrites them); the OVS database is rebuilt on a real ovsdb-server where one is
installed, and the saved lists make the rest independent of it."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from netseg.cli.main import main
from tests.importers.conftest import OvsDb, check_golden, without_sources

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mixed-import"
HAND_WRITTEN = ("lab.yaml", "design.yaml", "zones.yaml")


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"mixed_example_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _module("build")
OVSDB = _module("ovsdb")


def _copy_example(to: Path) -> Path:
    """The example's inputs and hand-written files, without its imports."""
    shutil.copytree(EXAMPLE / "inputs", to / "inputs")
    for name in HAND_WRITTEN:
        shutil.copy(EXAMPLE / name, to / name)
    (to / "imported").mkdir()
    return to


def _findings(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    code = main([*argv, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # findings at or above high: the estate is meant to fail the gate
    return out  # type: ignore[no-any-return]


@pytest.fixture
def built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The example built in a copy of its folder by build.py's own steps, through the CLI."""
    folder = _copy_example(tmp_path / "mixed-import")
    monkeypatch.chdir(folder)
    for args, expected in BUILD.STEPS:
        code = main(list(args))
        err = capsys.readouterr().err
        assert code in expected, f"netseg {' '.join(args)} exited {code}: {err}"
    return folder


def test_every_import_validates_and_is_the_committed_file(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in BUILD.IMPORTED:
        assert main(["validate", str(built / name)]) == 0, capsys.readouterr().err
        check_golden((built / name).read_text(encoding="utf-8"), EXAMPLE / name)


def test_the_switch_import_cables_both_hypervisors_from_lldp(built: Path) -> None:
    import yaml

    estate = yaml.safe_load((built / "imported" / "estate.yaml").read_text(encoding="utf-8"))
    cables = {
        (h["name"], h["hypervisor"], n["name"]): (n.get("switch"), n.get("port"))
        for h in estate["hosts"]
        for n in h["nics"]
    }
    assert cables == {
        ("HV-LAB", "hyperv", "NIC1"): ("sw1", "Ethernet1"),
        ("xen-lab", "xen", "eth0"): ("sw1", "Ethernet3"),
    }
    assert set(estate["zones"]) == {"lab", "ops"}


def test_check_of_the_hand_written_file_shows_what_the_design_is_meant_to_show(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = _findings(["check", "lab.yaml"], capsys)["findings"]
    triples = {(f["rule"], f["subject"], f.get("object")) for f in found}  # type: ignore[attr-defined]
    hv_mgmt = "management:HV-LAB/vEthernet (Lab)"
    # a lab guest reaches the Hyper-V management OS, whose vNIC shares the guests' switch
    assert ("guest-reaches-management", "guest:win-lab1/Network Adapter", hv_mgmt) in triples
    assert ("management-on-guest-switch", hv_mgmt, "vswitch:HV-LAB/Lab") in triples
    # a Xen guest on an untagged OVS port trunks every VLAN, into the Hyper-V host's too
    assert ("untagged-ovs-port", "guest:xen-build1/nic0", None) in triples
    assert ("guest-can-tag-management-vlan", "guest:xen-build1/nic0", hv_mgmt) in triples
    # the switch trunk to xen-lab carries the management VLAN beside guests in its native VLAN
    assert ("native-vlan-carries-guests", "switch:sw1/Ethernet3", hv_mgmt) in triples
    # the policy of lab.yaml is applied: operators may administer the hosts
    assert not any(
        r == "guest-reaches-management" and s.startswith("guest:win-ops1") for r, s, _ in triples
    )


def test_diff_of_the_design_and_the_as_built_shows_the_vlan_the_deployment_added(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = _findings(["diff", "design.yaml", "lab.yaml"], capsys)
    added = {(p["from"], p["to"]) for p in diff["pairs"]["added"]}  # type: ignore[index]
    assert added == {("guest:xen-build1/nic0", "management:HV-LAB/vEthernet (Lab)")}
    new = {(f["rule"], f["subject"]) for f in diff["findings"]["new"]}  # type: ignore[index]
    assert ("native-vlan-carries-guests", "switch:sw1/Ethernet3") in new
    assert ("guest-reaches-management", "guest:xen-build1/nic0") in new


def test_the_ovs_database_built_on_a_real_server_imports_as_the_saved_lists(
    ovsdb: OvsDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ovsdb.py's COMMANDS on a real ovsdb-server give the committed ovs.json's estate (the
    lists differ only in the UUIDs the server draws), so the committed import still holds."""
    ovsdb.build(OVSDB.COMMANDS)
    host = tmp_path / "xen-lab"
    host.mkdir()
    shutil.copy(EXAMPLE / "inputs" / "xen-lab" / "estate.xml", host / "estate.xml")
    (host / "ovs.json").write_text(ovsdb.lists(), encoding="utf-8")
    out = tmp_path / "xen-lab.yaml"
    argv = ["import", "libvirt", str(host), "--zones", str(EXAMPLE / "zones.yaml"), "-o", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == (EXAMPLE / "imported" / "xen-lab.yaml").read_text(
        encoding="utf-8"
    )


def test_the_live_path_reads_the_same_estate(
    ovsdb: OvsDb, virsh: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libvirt's test driver on the estate file and the OVS database served live, as an
    administrator would import the host where it runs."""
    import yaml

    ovsdb.build(OVSDB.COMMANDS)
    estate = (EXAMPLE / "inputs" / "xen-lab" / "estate.xml").resolve()
    out = tmp_path / "live.yaml"
    argv = ["import", "libvirt", "--connect", f"test://{estate}", "--db", ovsdb.address]
    argv += ["--host", "xen-lab", "--zones", str(EXAMPLE / "zones.yaml"), "-o", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    live = yaml.safe_load(out.read_text(encoding="utf-8"))
    saved = yaml.safe_load((EXAMPLE / "imported" / "xen-lab.yaml").read_text(encoding="utf-8"))
    live.pop("name"), saved.pop("name")
    assert without_sources(live) == without_sources(saved)


def test_ovsdb_script_says_why_it_cannot_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(OVSDB.shutil, "which", lambda tool: None)
    assert OVSDB.main(["ovs.json"]) == 2
    assert "ovsdb-tool not installed (Debian package openvswitch-switch)" in capsys.readouterr().err


def test_the_docs_show_the_steps_build_py_runs_and_their_real_output(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = (EXAMPLE.parents[1] / "docs" / "importing.md").read_text(encoding="utf-8")
    section = docs.split("## A mixed estate, end to end", 1)[1].split("\n## ", 1)[0]
    shown = [ln[len("$ netseg ") :] for ln in section.splitlines() if ln.startswith("$ netseg ")]
    assert shown == [" ".join(args) for args, _ in BUILD.STEPS]
    capsys.readouterr()
    for args in (["check", "lab.yaml"], ["diff", "design.yaml", "lab.yaml"]):
        main(args)
        assert capsys.readouterr().out.rstrip("\n") in section, f"netseg {args[0]} output changed"
