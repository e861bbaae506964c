"""JUnit XML: parses, one case per (rule, subject), failures at or above --fail-on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from netseg.analysis import analyse
from netseg.model.topology import Severity, Topology
from netseg.render.junit import iter_junit, render_junit
from netseg.rules.finding import Finding
from netseg.topology import load
from tests.conftest import REPO, example_topologies
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


def _reference(
    topology: Topology, findings: list[Finding], fail_on: Severity, checked: tuple[str, ...]
) -> str:
    """The document as ElementTree builds it whole (how it was written before it streamed)."""
    from netseg.render.junit import _describe

    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule, f.subject), []).append(f)
    suites = ET.Element("testsuites", name="netseg check")
    suite = ET.SubElement(suites, "testsuite", name=f"netseg check {topology.name}")
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="topology", value=topology.file
    )
    tests = failures = skipped = 0
    for (rule, subject), group in groups.items():
        tests += 1
        first = group[0]
        attrs = {"classname": f"netseg.{rule}", "name": subject, "file": first.location.file}
        case = ET.SubElement(suite, "testcase", attrs, line=str(first.location.line), time="0")
        text = "\n\n".join(_describe(f) for f in group)
        active = [f for f in group if not f.waived]
        failing = [f for f in active if f.severity.rank >= fail_on.rank]
        if failing:
            failures += 1
            worst = min(failing, key=lambda f: -f.severity.rank)
            ET.SubElement(
                case, "failure", message=worst.message, type=worst.severity.value
            ).text = text
        elif not active:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"waived: {first.waiver_why}")
            ET.SubElement(case, "system-out").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    for rule in checked:
        if rule not in {r for r, _ in groups}:
            tests += 1
            ET.SubElement(
                suite, "testcase", classname=f"netseg.{rule}", name="no findings", time="0"
            )
    for element in (suites, suite):
        for k, v in (("tests", tests), ("failures", failures), ("errors", 0), ("skipped", skipped)):
            element.set(k, str(v))
        element.set("time", "0")
    ET.indent(suites)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{ET.tostring(suites, encoding="unicode")}\n'


def test_the_streamed_document_is_what_elementtree_writes() -> None:
    """Escapes (``& < > "``, CR, LF and TAB in attributes) and layout as ElementTree's, on the
    sample, on every worked example and on findings with awkward text."""
    a = sample()
    odd = "a & b <c> \"d\" 'e'\r\n\tf é"
    awkward = [
        replace(f, message=odd + f.message, subject=f.subject + odd, waiver_why=odd)
        for f in a.findings
    ]
    cases = [(a.topology, list(a.findings)), (a.topology, awkward), (a.topology, [])]
    for path in example_topologies():
        analysis = analyse(load(path, display=str(path.relative_to(REPO))))
        cases.append((analysis.topology, list(analysis.findings)))
    checked = ("shared-pci-bus", "native-vlan-1", "shared-pci-bus")
    for topology, findings in cases:
        for fail_on in (Severity.CRITICAL, Severity.HIGH, Severity.INFO):
            got = "".join(iter_junit(topology, findings, fail_on, checked_rules=checked))
            assert got == _reference(topology, findings, fail_on, checked)
            assert got == render_junit(topology, findings, fail_on, checked_rules=iter(checked))
