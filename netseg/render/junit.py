"""Findings as JUnit XML, for CI test reports (GitLab ``artifacts:reports:junit``, Jenkins).

One test case per (rule, subject): ``classname`` is ``netseg.RULE``, ``name`` the subject's
entity reference. A case fails when one of its findings is unwaived and at or above
``--fail-on``; a waived case is skipped with the waiver's reason; a case below the threshold
passes, its findings in ``system-out`` so nothing is hidden. Each rule that was checked and
found nothing is one passing case named ``no findings``, so a report shows what was checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from netseg.model.topology import Severity, Topology
from netseg.rules.finding import Finding


def _describe(f: Finding) -> str:
    lines = [f"[{f.severity}] {f.message}", f"at {f.location}"]
    if f.object:
        lines.append(f"object: {f.object}")
    if f.references:
        lines.append(f"references: {'; '.join(f.references)}")
    for key, value in f.evidence.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def render_junit(
    topology: Topology,
    findings: Sequence[Finding],
    fail_on: Severity = Severity.HIGH,
    checked_rules: Iterable[str] = (),
) -> str:
    """``netseg check --format junit``. ``checked_rules`` lists the rules that ran, so that
    each silent one appears as a passing case."""
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
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"netseg.{rule}",
            name=subject,
            file=group[0].location.file,
            line=str(group[0].location.line),
            time="0",
        )
        text = "\n\n".join(_describe(f) for f in group)
        active = [f for f in group if not f.waived]
        failing = [f for f in active if f.severity.rank >= fail_on.rank]
        if failing:
            failures += 1
            worst = min(failing, key=lambda f: -f.severity.rank)
            failure = ET.SubElement(
                case, "failure", message=worst.message, type=worst.severity.value
            )
            failure.text = text
        elif not active:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"waived: {group[0].waiver_why}")
            ET.SubElement(case, "system-out").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    reported = {rule for rule, _ in groups}
    for rule in checked_rules:
        if rule not in reported:
            tests += 1
            ET.SubElement(
                suite, "testcase", classname=f"netseg.{rule}", name="no findings", time="0"
            )
    for element in (suites, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
        element.set("time", "0")
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


__all__ = ["render_junit"]
