"""JUnit XML: parses, one case per (rule, subject), failures at or above --fail-on."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netseg.model.topology import Severity
from netseg.render.junit import render_junit
from tests.render.sample import sample


def _cases(
    fail_on: Severity, checked: tuple[str, ...] = ()
) -> tuple[ET.Element, dict[str, ET.Element]]:
    a = sample()
    root = ET.fromstring(render_junit(a.topology, a.findings, fail_on, checked_rules=checked))
    cases = {f"{c.get('classname')}|{c.get('name')}": c for c in root.iter("testcase")}
    return root, cases


def test_failures_are_findings_at_or_above_fail_on() -> None:
    root, cases = _cases(Severity.HIGH)
    assert root.tag == "testsuites"
    failed = sorted(k for k, c in cases.items() if c.find("failure") is not None)
    assert failed == [
        "netseg.management-firewall-missing|host:esx01",
        "netseg.passthrough-without-iommu|guest:web01",
    ]
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")


def test_lower_threshold_fails_more_but_never_waived_ones() -> None:
    _root, cases = _cases(Severity.INFO)
    waived = cases["netseg.guest-vlan-trunking|portgroup:esx01/vSwitch1/sniffer"]
    assert waived.find("failure") is None
    skipped = waived.find("skipped")
    assert skipped is not None and "IDS sensor" in (skipped.get("message") or "")
    assert cases["netseg.native-vlan-1|switch:tor1/Eth1/1"].find("failure") is not None


def test_failure_text_names_place_and_references() -> None:
    _root, cases = _cases(Severity.HIGH)
    failure = cases["netseg.passthrough-without-iommu|guest:web01"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "topologies/sample.yaml:29:5" in (failure.text or "")
    assert "XSA-61" in (failure.text or "")


def test_silent_checked_rules_pass() -> None:
    root, cases = _cases(Severity.HIGH, checked=("shared-pci-bus", "native-vlan-1"))
    assert "netseg.shared-pci-bus|no findings" in cases
    assert "netseg.native-vlan-1|no findings" not in cases
    assert root.get("tests") == "5"
