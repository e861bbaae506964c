"""pybatfish-style assertions: True when the intent holds, AssertionError with the evidence
when it does not, a warning instead with soft=True."""

from __future__ import annotations

import pytest

import netseg
from netseg.analysis import analyse
from netseg.assertions import NetsegAssertWarning, assert_isolated, assert_no_findings

DESIGN = """\
netseg: 1
name: assertions
zones:
  web: {{}}
hosts:
  - name: esx01
    hypervisor: esxi
    firewall: {{default: deny, allow: [{{from: 192.0.2.128/25, services: tcp/443}}]}}
    nics:
      - {{name: vmnic0}}
      - {{name: vmnic1}}
    vswitches:
      - name: vSwitch0
        type: standard
        uplinks: [vmnic0]
        security: {{promiscuous: false, mac_changes: false, forged_transmits: false}}
        portgroups:
          - {{name: Management Network, vlan: 99}}
      - name: vSwitch1
        type: standard
        uplinks: [vmnic1]
        security: {{promiscuous: false, mac_changes: false, forged_transmits: false}}
        portgroups:
          - {{name: prod, vlan: 10}}
    management:
      - {{name: vmk0, portgroup: Management Network, address: 192.0.2.11/24}}
guests:
  - name: web01
    host: esx01
    zone: web
    nics:
      - {{portgroup: {portgroup}, address: 192.0.2.{host}/24}}
"""


def design(portgroup: str) -> netseg.Topology:
    """``prod``: the guest has a VLAN of its own; ``Management Network``: the guest sits on
    the management segment with an address the firewall admits."""
    host = 21 if portgroup == "prod" else 130
    return netseg.loads(DESIGN.format(portgroup=f'"{portgroup}"', host=host), file="a.yaml")


def test_isolated_holds_when_guests_sit_on_their_own_vlan() -> None:
    assert assert_isolated(design("prod"), "guests", "management") is True


def test_isolated_fails_with_the_pair_and_its_path() -> None:
    with pytest.raises(AssertionError) as exc:
        assert_isolated(design("Management Network"), "guests", "management")
    text = str(exc.value)
    assert "expected guests isolated from management" in text
    assert "guest:web01/nic0 -> management:esx01/vmk0" in text
    assert "path: guest:web01/nic0 ->" in text


@pytest.mark.filterwarnings("ignore::netseg.assertions.NetsegAssertWarning")
def test_isolated_accepts_entity_references() -> None:
    topology = design("Management Network")
    with pytest.raises(AssertionError):
        assert_isolated(topology, "guest:web01/nic0", "management:esx01/vmk0")
    assert (
        assert_isolated(topology, "guest:web01/nic0", "management:esx01/vmk0", soft=True) is False
    )


def test_soft_assertion_warns_and_returns_false() -> None:
    with pytest.warns(NetsegAssertWarning, match="isolated"):
        assert (
            assert_isolated(design("Management Network"), "guests", "management", soft=True)
            is False
        )


def test_no_findings_by_rule_and_severity() -> None:
    topology = design("prod")
    # the unmodelled upstream NICs are info findings only
    assert assert_no_findings(topology, severity_at_least="low") is True
    with pytest.raises(AssertionError) as exc:
        assert_no_findings(topology, rule="upstream-unmodelled")
    text = str(exc.value)
    assert "expected no findings of rule upstream-unmodelled" in text
    assert "a.yaml:10:9" in text and "vmnic0" in text


def test_no_findings_fails_on_the_guest_on_the_management_segment() -> None:
    analysis = analyse(design("Management Network"))
    with pytest.raises(AssertionError, match="guest-on-management-segment"):
        assert_no_findings(analysis, severity_at_least=netseg.Severity.HIGH)


def test_unknown_rule_is_a_usage_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        assert_no_findings(design("prod"), rule="guest-reaches-managment")
