"""Each capture rule fires on the incident capture and stays quiet on a near miss.

The near misses: the management capture (ordinary vmkernel traffic, the jump host's SSH), a
policy that allows the flow, and a conversation the model lets through.
"""

from __future__ import annotations

from functools import cache

import pytest

from netseg.capture.judge import ReplayResult
from netseg.capture.replay import replay
from netseg.rules.catalogue import CATALOGUE
from netseg.topology import load, loads
from tests.conftest import REPO
from tests.rules.cases import covers

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")

TOPOLOGY = REPO / "topologies" / "esxi-cluster.yaml"
INCIDENT = (str(REPO / "captures" / "esxi-incident.pcap"), "tor1:Eth1/11")
MANAGEMENT = (
    str(REPO / "captures" / "esxi-management.pcapng"),
    "esx01/vSwitch0/Management Network",
)
CAPTURE_RULES = sorted(r for r, info in CATALOGUE.items() if info.kind == "capture")

# the subject each rule names on the incident capture
FIRES = {
    "observed-guest-to-management": "guest:web01/nic0",
    "observed-zone-violation": "guest:web01/nic0",
    "observed-model-drift": "guest:web01/nic0",
    "observed-wrong-vlan": "guest:web01/nic0",
    "observed-double-tag": "guest:web01/nic0",
    "observed-address-spoofing": "guest:web02/nic0",
    "observed-rogue-dhcp": "guest:app01/nic0",
    "observed-rogue-router-advertisement": "guest:web01/nic0",
    "observed-unknown-source": "mac:00:50:56:00:0b:ad",
    "observed-bridge-protocol": "guest:app01/nic0",
}


@cache
def _incident(allow_ssh_to_management: bool = False) -> ReplayResult:
    text = TOPOLOGY.read_text(encoding="utf-8")
    if allow_ssh_to_management:
        anchor = "    - {from: admin, to: any, services: tcp/22, why: SSH from the jump hosts}\n"
        assert anchor in text
        text = text.replace(
            anchor, anchor + "    - {from: web, to: management, services: tcp/22, why: test}\n"
        )
    return replay(loads(text, str(TOPOLOGY)), [INCIDENT[0]], at=INCIDENT[1])


@cache
def _management() -> ReplayResult:
    return replay(load(TOPOLOGY), [MANAGEMENT[0]], at=MANAGEMENT[1])


def test_every_capture_rule_has_a_case() -> None:
    assert sorted(FIRES) == CAPTURE_RULES


@covers(tuple(FIRES), "fires")
@pytest.mark.parametrize("rule", CAPTURE_RULES)
def test_rule_fires_on_the_incident_capture(rule: str) -> None:
    found = [f for f in _incident().findings if f.rule == rule]
    assert FIRES[rule] in {f.subject for f in found}
    assert all(f.evidence for f in found)


QUIET_ON_MANAGEMENT = sorted(
    set(CAPTURE_RULES) - {"observed-guest-to-management", "observed-model-drift"}
)


@covers(tuple(QUIET_ON_MANAGEMENT), "quiet")
@pytest.mark.parametrize("rule", QUIET_ON_MANAGEMENT)
def test_rule_stays_quiet_on_ordinary_management_traffic(rule: str) -> None:
    assert rule not in {f.rule for f in _management().findings}


@covers("observed-guest-to-management", "quiet")
def test_guest_to_management_is_quiet_once_the_policy_allows_the_service() -> None:
    rules = {f.rule for f in _incident(allow_ssh_to_management=True).findings}
    assert "observed-guest-to-management" not in rules
    assert "observed-guest-to-management" in {f.rule for f in _incident().findings}


@covers("observed-model-drift", "quiet")
def test_model_drift_is_quiet_on_an_answered_conversation_the_model_lets_through() -> None:
    through = [
        c
        for c in _incident().conversations
        if c.conversation.answered
        and c.verdict == "allowed"
        and c.source.ref.startswith("guest:")
        and c.destination.ref.startswith("guest:")
        and c.source.ref != c.destination.ref
    ]
    assert through
    assert all("observed-model-drift" not in c.rules for c in through)
