"""Change review: what a new version opens and closes, as a CI gate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from netseg.cli.main import main
from netseg.diff import diff
from netseg.topology import load, loads

BASE = """\
netseg: 1
name: change
zones: {web: {}}
switches:
  - name: tor1
    ports:
      - {name: Eth1/1, mode: trunk, allowed: "10", native: none}
      - {name: Eth1/2, mode: trunk, allowed: "99", native: none}
hosts:
  - name: esx01
    hypervisor: esxi
    nics:
      - {name: vmnic0, switch: tor1, port: Eth1/1}
      - {name: vmnic1, switch: tor1, port: Eth1/2}
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic1]
        security: {promiscuous: false, mac_changes: false, forged_transmits: false}
        portgroups: [{name: Management Network, vlan: 99}]
      - name: vSwitch1
        uplinks: [vmnic0]
        security: {promiscuous: false, mac_changes: false, forged_transmits: false}
        portgroups: [{name: guests, vlan: {trunk: "10"}}]
    management:
      - {name: vmk0, portgroup: Management Network, address: 192.0.2.11/24}
    firewall: {default: deny, allow: [{from: any, services: tcp/443}]}
guests:
  - {name: ids01, host: esx01, zone: web, nics: [{portgroup: guests, address: 192.0.2.50/24}]}
"""
# The change under review: VLAN 99 (management) added to the guests' trunk and to the uplink.
OPENED = (
    BASE.replace('allowed: "10", native', 'allowed: "10,99", native')
    .replace('trunk: "10"', 'trunk: "10,99"')
    .replace("type: distributed", "type: distributed")
)
OPENED = OPENED.replace("name: vSwitch1\n", "name: vSwitch1\n        type: distributed\n")
BASE_DVS = BASE.replace("name: vSwitch1\n", "name: vSwitch1\n        type: distributed\n")
# Same design, keys reordered and commented: nothing changes.
REORDERED = BASE_DVS.replace(
    "  - {name: ids01, host: esx01, zone: web, nics: [{portgroup: guests, address: 192.0.2.50/24}]}",
    "  # the IDS sensor\n  - {zone: web, nics: [{address: 192.0.2.50/24, portgroup: guests}], host: esx01, name: ids01}",
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_adding_the_management_vlan_to_a_guest_trunk_opens_reachability(tmp_path: Path) -> None:
    change = diff(loads(BASE_DVS), loads(OPENED))
    assert [(p.source, p.destination) for p in change.added] == [
        ("guest:ids01/nic0", "management:esx01/vmk0")
    ]
    assert change.added[0].services.items() == ["tcp/443"]
    rules = {f.rule for f in change.new_findings}
    assert {"guest-reaches-management", "guest-can-tag-management-vlan"} <= rules
    assert not change.removed and not change.fixed_findings


def test_cli_fails_the_change_that_opens_and_passes_the_one_that_closes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _write(tmp_path, "old.yaml", BASE_DVS), _write(tmp_path, "new.yaml", OPENED)
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "OPENED" in out and "guest:ids01/nic0 -> management:esx01/vmk0" in out
    assert "guest-reaches-management" in out
    assert main(["diff", str(new), str(old)]) == 0
    out = capsys.readouterr().out
    assert "CLOSED" in out and "FIXED FINDINGS" in out
    assert main(["diff", str(old), str(new), "--fail-on", "critical"]) == 1


def test_json_follows_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _write(tmp_path, "old.yaml", BASE_DVS), _write(tmp_path, "new.yaml", OPENED)
    main(["diff", str(old), str(new), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"netseg", "old", "new", "pairs", "findings", "summary"}
    assert set(doc["pairs"]) == {"added", "removed", "changed"}
    assert doc["pairs"]["added"][0]["from"] == "guest:ids01/nic0"
    assert doc["summary"]["pairs_added"] == 1
    assert doc["summary"]["findings_new"] == len(doc["findings"]["new"])


def test_reordered_keys_and_comments_change_nothing() -> None:
    change = diff(loads(BASE_DVS), loads(REORDERED))
    assert change.empty


@pytest.mark.parametrize("text", [BASE_DVS, OPENED])
def test_diff_with_itself_is_empty(text: str) -> None:
    assert diff(loads(text), loads(text)).empty


def test_diff_is_antisymmetric() -> None:
    a, b = loads(BASE_DVS), loads(OPENED)
    ab, ba = diff(a, b), diff(b, a)
    assert [(p.source, p.destination) for p in ab.added] == [
        (p.source, p.destination) for p in ba.removed
    ]
    assert {f.key for f in ab.new_findings} == {f.key for f in ba.fixed_findings}


def test_changed_services_are_reported_before_and_after() -> None:
    wider = OPENED.replace("services: tcp/443}", "services: [tcp/443, tcp/22]}")
    change = diff(loads(OPENED), loads(wider))
    assert [(c.before.items(), c.after.items()) for c in change.changed] == [
        (["tcp/443"], ["tcp/22", "tcp/443"])
    ]
    assert change.changed[0].opened.items() == ["tcp/22"]


def test_old_version_from_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    topo = repo / "prod.yaml"
    topo.write_text(BASE_DVS)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "add", "prod.yaml")
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "base")
    topo.write_text(OPENED)
    monkeypatch.chdir(repo)
    assert load("git:HEAD:prod.yaml") == loads(BASE_DVS)
    assert main(["diff", "git:HEAD:prod.yaml", "prod.yaml"]) == 1
    assert main(["diff", "git:HEAD:missing.yaml", "prod.yaml"]) == 2
