"""The documented library API (README, docs/replay.md): ``netseg.load`` and ``netseg.replay``."""

from __future__ import annotations

import pytest

import netseg
from netseg.capture.parallel import start_tabulation
from tests.conftest import CAPTURES, TOPOLOGIES

TOPOLOGY = TOPOLOGIES / "esxi-cluster.yaml"
INCIDENT = str(CAPTURES / "esxi-incident.pcap")


def _found(result: object) -> list[tuple[str, str, str | None]]:
    return sorted((f.rule, f.subject, f.object) for f in result.findings)  # type: ignore[attr-defined]


def test_replay_is_public_and_gives_the_walk_through_findings() -> None:
    assert "replay" in netseg.__all__
    topology = netseg.load(TOPOLOGY)
    result = netseg.replay(topology, [INCIDENT], at="tor1:Eth1/11")
    assert ("observed-guest-to-management", "guest:web01/nic0", "management:esx01/vmk0") in _found(
        result
    )
    assert [f.severity.value for f in result.failing("critical")] == ["critical", "critical"]
    assert result.totals()["frames"] == 31


def test_the_documented_ways_of_overlapping_the_reading_give_the_same_result() -> None:
    topology = netseg.load(TOPOLOGY)
    one = _found(netseg.replay(topology, [INCIDENT], at="tor1:Eth1/11"))
    assert _found(netseg.replay(topology, [INCIDENT], at="tor1:Eth1/11", workers=2)) == one
    with start_tabulation([INCIDENT], workers=2) as pending:
        again = netseg.load(TOPOLOGY)
        result = netseg.replay(again, [INCIDENT], at="tor1:Eth1/11", tables=pending)
    assert _found(result) == one


def test_an_unknown_capture_point_raises_a_selector_error() -> None:
    with pytest.raises(netseg.SelectorError):
        netseg.replay(netseg.load(TOPOLOGY), [INCIDENT], at="nowhere")
