"""JSON (the stable contract of docs/cli.md) and text renderings of findings."""

from __future__ import annotations

import json

from netseg.model.topology import Severity
from netseg.render.findings_json import render_json
from netseg.render.findings_text import render_text
from tests.render.sample import sample

FINDING_KEYS = [
    "rule",
    "severity",
    "message",
    "subject",
    "object",
    "location",
    "references",
    "waived",
    "evidence",
]


def test_json_has_the_contract_shape() -> None:
    a = sample()
    doc = json.loads(render_json(a.topology, a.findings))
    assert doc["netseg"] == "1.0.0"
    assert doc["topology"] == {"name": "sample", "file": "topologies/sample.yaml"}
    assert list(doc["summary"]) == ["critical", "high", "medium", "low", "info"]
    for f in doc["findings"]:
        assert list(f)[: len(FINDING_KEYS)] == FINDING_KEYS
        assert set(f["location"]) == {"file", "line", "column"}
        assert isinstance(f["references"], list) and isinstance(f["evidence"], dict)


def test_json_summary_counts_unwaived_findings_and_waived_ones_are_listed() -> None:
    a = sample()
    doc = json.loads(render_json(a.topology, a.findings))
    assert doc["summary"] == {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 1}
    assert doc["waived"] == 1
    (waived,) = [f for f in doc["findings"] if f["waived"]]
    assert waived["rule"] == "guest-vlan-trunking"
    assert waived["subject"] == "portgroup:esx01/vSwitch1/sniffer"
    assert waived["why"] == "IDS sensor, ticket SEC-1234"
    assert waived["location"] == {"file": "topologies/sample.yaml", "line": 27, "column": 13}


def test_json_reflects_severity_overrides_and_sorting() -> None:
    a = sample()
    doc = json.loads(render_json(a.topology, a.findings))
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [
        ("passthrough-without-iommu", "critical"),
        ("management-firewall-missing", "high"),
        ("guest-vlan-trunking", "medium"),
        ("native-vlan-1", "info"),  # lowered from low by policy.severity
    ]


def test_text_groups_by_severity_worst_first_with_file_line() -> None:
    a = sample()
    text = render_text(a.topology, a.findings)
    assert text.index("CRITICAL (1)") < text.index("HIGH (1)") < text.index("INFO (1)")
    assert "at topologies/sample.yaml:29:5" in text
    assert "WAIVED (1)" in text and "waived: IDS sensor, ticket SEC-1234" in text
    assert "\x1b[" not in text


def test_text_colours_only_when_asked() -> None:
    a = sample()
    assert "\x1b[1;31m" in render_text(a.topology, a.findings, colour=True)


def test_text_states_the_verdict_against_fail_on() -> None:
    a = sample()
    assert "FAIL" in render_text(a.topology, a.findings, fail_on=Severity.HIGH)
    only_waived = [f for f in a.findings if f.waived]
    assert "PASS" in render_text(a.topology, only_waived, fail_on=Severity.INFO)
    assert "No findings." in render_text(a.topology, [])
