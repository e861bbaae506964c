"""docs/replay.md's incident walk-through is what `netseg replay` prints, byte for byte."""

from __future__ import annotations

import re

import pytest

from netseg.cli.main import main
from tests.conftest import REPO

COMMAND = "netseg replay topologies/esxi-cluster.yaml captures/esxi-incident.pcap --at tor1:Eth1/11"


def test_the_walk_through_reproduces(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (REPO / "docs" / "replay.md").read_text()
    block = re.search(r"```\n\$ " + re.escape(COMMAND) + r"\n(.*?)```", doc, re.S)
    assert block is not None
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    assert main(COMMAND.split()[1:]) == 1
    assert capsys.readouterr().out == block.group(1)
