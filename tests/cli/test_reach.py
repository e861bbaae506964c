"""``netseg reach``: JSON contract, CSV, text, selectors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netseg.cli.main import main

TOPOLOGY = """netseg: 1
name: reach-cli
zones: {admin: {}}
policy:
  allow: [{from: admin, to: management, services: tcp/443}]
switches:
  - name: tor1
    ports: [{name: p1, mode: trunk, allowed: "10,99", native: none}]
hosts:
  - name: esx01
    hypervisor: esxi
    nics: [{name: vmnic0, switch: tor1, port: p1}]
    vswitches:
      - name: vSwitch0
        uplinks: [vmnic0]
        portgroups: [{name: mgmt, vlan: 99}]
    management: [{name: vmk0, portgroup: mgmt, address: 192.0.2.10/24}]
    firewall: {default: deny, allow: [{from: any, services: [tcp/443, tcp/22]}]}
guests:
  - {name: adm, host: esx01, zone: admin, nics: [{portgroup: mgmt, address: 192.0.2.20/24}]}
"""


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(TOPOLOGY)
    return path


def test_json_follows_the_contract(topology: Path, tmp_path: Path) -> None:
    out = tmp_path / "reach.json"
    assert main(["reach", str(topology), "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["netseg"] == "1.0.0"
    assert doc["topology"] == {"name": "reach-cli", "file": str(topology)}
    assert doc["pairs"] == [
        {
            "from": "guest:adm/nic0",
            "to": "management:esx01/vmk0",
            "services": ["tcp/22", "tcp/443"],
            "mode": "l2",
            "tag_injection": False,
            "via": [],
            "allowed": ["tcp/443"],
            "violating": ["tcp/22"],
            "path": [
                "guest:adm/nic0",
                "portgroup:esx01/vSwitch0/mgmt",
                "management:esx01/vmk0",
                "firewall:esx01/1",
            ],
        }
    ]


def test_text_and_explain(topology: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", str(topology), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "guest:adm/nic0" in out and "tcp/22, tcp/443" in out
    assert "firewall:esx01/1  allow from any tcp/22, tcp/443" in out
    assert "1 reachable pair, 1 violating the policy" in out


def test_csv(topology: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", str(topology), "--format", "csv", "--from", "zone:admin"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("from,to,services,mode")
    assert lines[1].startswith("guest:adm/nic0,management:esx01/vmk0,tcp/22 tcp/443,l2,false")


def test_unknown_selector_exits_2_with_a_suggestion(
    topology: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reach", str(topology), "--from", "guest:admm"]) == 2
    err = capsys.readouterr().err
    assert "guest:adm" in err and "Traceback" not in err


def test_nothing_reachable_is_not_an_error(
    topology: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reach", str(topology), "--from", "management", "--to", "guests"]) == 0
    assert "1 reachable pair" in capsys.readouterr().out
    assert main(["reach", str(topology), "--from", "guests", "--to", "guests"]) == 0
    assert "no reachable pairs" in capsys.readouterr().out
